"""Agents: enrolment tokens a provider makes for one pharmacy, the enrolment that uses one up,
revocation, and what the console lists. The server keeps only each agent's public key."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.fleet import refusals
from officine.fleet.directory import Access, NotFound, log, pharmacy
from officine.fleet.models import AgentRow, EnrolmentTokenRow, FleetPharmacyRow
from officine.fleet.tenancy import Fleet
from officine.services.accounts import random_code

TOKEN_LIFETIME = timedelta(days=7)
TOKEN_GROUPS = 6  # 6 groups of 4 characters among 31: about 119 bits


def _token_hash(token: str) -> str:
    plain = "".join(c for c in token.lower() if c.isalnum())
    return hashlib.sha256(plain.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once
    expires_at: datetime


def create_token(fleet: Fleet, access: Access, pharmacy_id: int, client: str = "") -> NewToken:
    """A one-time enrolment token for one of the organisation's pharmacies (a new one can be
    made at any time: for a new workstation, or to re-enrol one whose agent was revoked)."""
    access.require("inscrire")
    pharmacy(fleet, access, pharmacy_id)
    token = random_code(TOKEN_GROUPS)
    now = datetime.now(UTC)
    with fleet.transaction() as session:
        session.add(
            EnrolmentTokenRow(
                pharmacy_id=pharmacy_id,
                token_sha256=_token_hash(token),
                created_at=now,
                created_by=access.user.username,
                expires_at=now + TOKEN_LIFETIME,
            )
        )
        log(fleet, access, "jeton_cree", pharmacy_id, {}, client, session=session)
    return NewToken(token, now + TOKEN_LIFETIME)


def withdraw_token(fleet: Fleet, access: Access, token_id: int, client: str = "") -> int:
    """Returns the pharmacy's id."""
    access.require("inscrire")
    with fleet.transaction() as session:
        row = session.get(EnrolmentTokenRow, token_id)
        if row is None:
            raise NotFound
        pharmacy(fleet, access, row.pharmacy_id)  # NotFound outside the person's pharmacies
        if row.used_at is None and row.withdrawn_at is None:
            row.withdrawn_at = datetime.now(UTC)
            log(fleet, access, "jeton_retire", row.pharmacy_id, {"jeton": token_id}, client, session=session)
        return row.pharmacy_id


@dataclass(frozen=True)
class Enrolled:
    agent: str
    tenant: str
    pharmacy: str


class EnrolmentRefused(UserError):
    pass


def enrol(fleet: Fleet, token: str, public_key: bytes, hostname: str, client: str) -> Enrolled:
    """Use up a token: a new agent of its pharmacy with this public key."""
    now = datetime.now(UTC)
    refused: tuple[str, int | None] | None = None
    with fleet.transaction() as session:
        row = session.scalar(
            select(EnrolmentTokenRow).where(EnrolmentTokenRow.token_sha256 == _token_hash(token)).with_for_update()
        )
        if row is None:
            refused = ("jeton_inconnu", None)
        elif row.used_at is not None or row.withdrawn_at is not None or row.expires_at <= now:
            refused = ("jeton_perime", row.pharmacy_id)
        else:
            return _new_agent(session, row, public_key, hostname, now)
    refusals.record(fleet, refused[0], "(inscription)", client, pharmacy_id=refused[1])
    raise EnrolmentRefused(
        "Jeton d'inscription inconnu, déjà utilisé, retiré ou expiré. Demandez un nouveau jeton dans la "
        "console (page de la pharmacie) : il sert une seule fois, pendant 7 jours."
    )


def _new_agent(session: Session, row: EnrolmentTokenRow, public_key: bytes, hostname: str, now: datetime) -> Enrolled:
    target = session.get_one(FleetPharmacyRow, row.pharmacy_id)
    agent = AgentRow(
        public_id="ag_" + secrets.token_urlsafe(18),
        pharmacy_id=row.pharmacy_id,
        public_key=public_key,
        hostname=" ".join(hostname.split())[:255] or "?",
        enrolled_at=now,
    )
    session.add(agent)
    session.flush()
    row.used_at = now
    row.agent_id = agent.id
    return Enrolled(agent.public_id, target.tenant, target.name)


def revoke(fleet: Fleet, access: Access, agent_id: int, client: str = "") -> int:
    """The agent's messages are refused from now on; what it sent stays. Returns the pharmacy's id."""
    access.require("revoquer")
    with fleet.transaction() as session:
        agent = session.get(AgentRow, agent_id)
        if agent is None:
            raise NotFound
        pharmacy(fleet, access, agent.pharmacy_id)
        if agent.revoked_at is None:
            session.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(revoked_at=datetime.now(UTC), revoked_by=access.user.username)
            )
            log(fleet, access, "agent_revoque", agent.pharmacy_id, {"poste": agent.hostname}, client, session=session)
        return agent.pharmacy_id


@dataclass(frozen=True)
class AgentLine:
    id: int
    hostname: str
    enrolled_at: datetime
    last_contact_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


@dataclass(frozen=True)
class TokenLine:
    id: int
    created_at: datetime
    created_by: str
    expires_at: datetime
    state: str  # valide, utilise, retire, expire


def agents_of(fleet: Fleet, access: Access, pharmacy_id: int) -> list[AgentLine]:
    pharmacy(fleet, access, pharmacy_id)
    with fleet.session() as session:
        rows = session.scalars(select(AgentRow).where(AgentRow.pharmacy_id == pharmacy_id).order_by(AgentRow.hostname))
        return [AgentLine(r.id, r.hostname, r.enrolled_at, r.last_contact_at, r.revoked_at, r.revoked_by) for r in rows]


def tokens_of(fleet: Fleet, access: Access, pharmacy_id: int) -> list[TokenLine]:
    pharmacy(fleet, access, pharmacy_id)
    now = datetime.now(UTC)
    with fleet.session() as session:
        rows = session.scalars(
            select(EnrolmentTokenRow)
            .where(EnrolmentTokenRow.pharmacy_id == pharmacy_id)
            .order_by(EnrolmentTokenRow.id.desc())
            .limit(20)
        )
        lines = []
        for r in rows:
            state = (
                "utilise"
                if r.used_at
                else "retire"
                if r.withdrawn_at
                else "expire"
                if r.expires_at <= now
                else "valide"
            )
            lines.append(TokenLine(r.id, r.created_at, r.created_by, r.expires_at, state))
        return lines
