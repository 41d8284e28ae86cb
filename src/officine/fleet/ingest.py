"""Receiving an agent's message: who signed it, for which pharmacy, whether it was seen before,
then the snapshot and events recorded once (the snapshot id and each event's key are the
idempotency keys) and the pharmacy queued for judgement. Everything refused is recorded."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePath

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from officine import snapshot as snapshots_mod
from officine.errors import UserError
from officine.fleet import jobs, refusals
from officine.fleet.directory import Access, log, pharmacy
from officine.fleet.message import Message, MessageError, read
from officine.fleet.models import AgentEventRow, AgentRow, FleetPharmacyRow, InboxRow, NonceRow
from officine.fleet.signing import SignedHeaders, verifies
from officine.fleet.tenancy import Fleet
from officine.snapshot import Snapshot
from officine.store.db import host_key
from officine.web.limits import SNAPSHOT_IMPORT_BYTES

MAX_SKEW = timedelta(minutes=5)  # an agent's clock may be this far from the server's
NONCE_KEPT = 2 * MAX_SKEW + timedelta(minutes=1)  # older messages are refused by their time anyway


class Refused(Exception):
    """A message the server does not take: an HTTP status, a code, a French explanation."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Receipt:
    snapshot_id: str | None
    already: bool  # this snapshot was received before (sent again after a lost answer)
    events: int  # new events recorded


def receive(fleet: Fleet, headers: dict[str, str], body: bytes, client: str, now: datetime | None = None) -> Receipt:
    now = now or datetime.now(UTC)
    signed = SignedHeaders.parse(headers)
    if signed is None:
        _refuse(fleet, 400, "entetes", headers.get("x-officine-agent", ""), client, None, None)
    assert signed is not None  # noqa: S101 - _refuse raised otherwise
    with fleet.session() as session:
        agent = session.scalar(select(AgentRow).where(AgentRow.public_id == signed.agent))
        tenant = (
            session.scalar(select(FleetPharmacyRow.tenant).where(FleetPharmacyRow.id == agent.pharmacy_id))
            if agent
            else None
        )
    if agent is None:
        _refuse(fleet, 401, "agent_inconnu", signed.agent, client, None, None)
    assert agent is not None  # noqa: S101
    who = (signed.agent, client, agent.id, agent.pharmacy_id)
    if not verifies(agent.public_key, signed, body):  # tampered, or signed with another key
        _refuse(fleet, 401, "signature", *who)
    if agent.revoked_at is not None:
        _refuse(fleet, 403, "agent_revoque", *who)
    if signed.tenant != tenant:
        _refuse(fleet, 403, "autre_pharmacie", *who)
    if abs(signed.timestamp - now.timestamp()) > MAX_SKEW.total_seconds():  # seconds: any 12 digits compare
        _refuse(fleet, 401, "horloge", *who)
    try:
        message, snap = read(body)
    except MessageError as exc:
        _refuse(fleet, 400, "message_illisible", *who, detail=exc.message)
        raise AssertionError("unreachable") from exc
    except UserError as exc:  # the snapshot's seal or format
        _refuse(fleet, 422, "instantane_refuse", *who, detail=exc.message)
        raise AssertionError("unreachable") from exc
    machine = host_key({"host": {"hostname": snap.hostname, **snap.host}}) if snap else None
    if machine is not None and agent.machine_key is not None and machine != agent.machine_key:
        _refuse(fleet, 403, "autre_poste", *who)
    with fleet.transaction() as session:
        inserted = session.execute(
            insert(NonceRow)
            .values(agent_id=agent.id, nonce=signed.nonce, expires_at=now + NONCE_KEPT)
            .on_conflict_do_nothing()
            .returning(NonceRow.nonce)
        ).first()
        if inserted is None:
            replay = True
        else:
            replay = False
            receipt = _record(session, agent, message, snap, machine, now)
    if replay:
        _refuse(fleet, 409, "rejeu", *who)
    _forget_old_nonces(fleet, now)
    return receipt


def _record(
    session: Session, agent: AgentRow, message: Message, snap: Snapshot | None, machine: str | None, now: datetime
) -> Receipt:
    row = session.get_one(AgentRow, agent.id, with_for_update=True)
    row.last_contact_at = now
    if machine is not None and row.machine_key is None:
        row.machine_key = machine  # the workstation this agent speaks for, from now on
    already = False
    snapshot_id = None
    if snap is not None:
        snapshot_id = snap.snapshot_id
        stored = session.execute(
            insert(InboxRow)
            .values(
                pharmacy_id=agent.pharmacy_id,
                agent_id=agent.id,
                snapshot_id=snap.snapshot_id,
                sequence=message.sequence,
                hostname=snap.hostname[:255],
                collected_at=snap.collected_at,
                received_at=now,
                body=zlib.compress(json.dumps(message.snapshot, ensure_ascii=False).encode("utf-8")),
                state="pending",
            )
            .on_conflict_do_nothing(index_elements=["pharmacy_id", "snapshot_id"])
            .returning(InboxRow.id)
        ).first()
        already = stored is None
    new_events = 0
    for event in message.events:
        added = session.execute(
            insert(AgentEventRow)
            .values(
                pharmacy_id=agent.pharmacy_id,
                agent_id=agent.id,
                kind=event.kind,
                source_key=event.key,
                at=event.at,
                received_at=now,
                payload=event.data,
                applied=False,
            )
            .on_conflict_do_nothing(index_elements=["agent_id", "kind", "source_key"])
            .returning(AgentEventRow.id)
        ).first()
        new_events += added is not None
    if (snap is not None and not already) or new_events:
        jobs.enqueue_judgement(session, agent.pharmacy_id, now)
    return Receipt(snapshot_id, already, new_events)


def _forget_old_nonces(fleet: Fleet, now: datetime) -> None:
    with fleet.transaction() as session:
        session.execute(delete(NonceRow).where(NonceRow.expires_at < now))


def _refuse(
    fleet: Fleet,
    status: int,
    code: str,
    claimed: str,
    client: str,
    agent_id: int | None,
    pharmacy_id: int | None,
    detail: str = "",
) -> None:
    refusals.record(fleet, code, claimed, client, agent_id, pharmacy_id)
    raise Refused(status, code, MESSAGES[code] + (f" ({detail})" if detail else ""))


MESSAGES = {
    "entetes": "Message sans signature d'agent valable : refusé.",
    "agent_inconnu": "Agent inconnu de ce serveur : inscrivez le poste avec un jeton (officine agent inscrire).",
    "signature": "Signature fausse : le message a été modifié, ou signé avec une autre clé. Refusé.",
    "agent_revoque": "Cet agent a été révoqué dans la console : inscrivez de nouveau le poste avec un nouveau jeton.",
    "autre_pharmacie": "Ce message est adressé à une autre pharmacie que celle de l'agent : refusé.",
    "horloge": "L'heure du poste est trop loin de celle du serveur (plus de 5 minutes) : réglez l'horloge du poste.",
    "message_illisible": "Message illisible : refusé, rien n'a été enregistré.",
    "instantane_refuse": "L'instantané du message est refusé, rien n'a été enregistré.",
    "autre_poste": (
        "Cet agent est inscrit pour un autre poste (disque copié d'un autre poste ?) : refusé. Inscrivez ce "
        "poste avec son propre jeton (officine agent inscrire)."
    ),
    "rejeu": "Message déjà reçu (même numéro à usage unique) : refusé.",
}


def upload(fleet: Fleet, access: Access, pharmacy_id: int, raw: bytes, filename: str, client: str) -> Receipt:
    """A snapshot uploaded in the console (the PowerShell collector's envelope of a machine
    without Python): the same checks as an import on the dashboard, then the same queue."""
    access.require("importer")
    pharmacy(fleet, access, pharmacy_id)
    if len(raw) > SNAPSHOT_IMPORT_BYTES:
        raise UserError(f"Le fichier {filename} est trop gros pour être un instantané. Rien n'a été importé.")
    snap = snapshots_mod.loads(raw, PurePath(filename))
    document = snap.to_json()  # sealed again: an envelope's content is kept as the snapshot it holds
    now = datetime.now(UTC)
    with fleet.transaction() as session:
        stored = session.execute(
            insert(InboxRow)
            .values(
                pharmacy_id=pharmacy_id,
                agent_id=None,
                snapshot_id=snap.snapshot_id,
                hostname=snap.hostname[:255],
                collected_at=snap.collected_at,
                received_at=now,
                body=zlib.compress(json.dumps(document, ensure_ascii=False).encode("utf-8")),
                state="pending",
            )
            .on_conflict_do_nothing(index_elements=["pharmacy_id", "snapshot_id"])
            .returning(InboxRow.id)
        ).first()
        if stored is not None:
            jobs.enqueue_judgement(session, pharmacy_id, now)
        log(
            fleet,
            access,
            "instantane_importe",
            pharmacy_id,
            {"poste": snap.hostname, "fichier": filename},
            client,
            session,
        )
    return Receipt(snap.snapshot_id, stored is None, 0)
