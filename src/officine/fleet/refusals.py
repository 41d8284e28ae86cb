"""Messages and enrolments the server refused, recorded (and logged) for the provider to see:
a replay, a tampered or re-signed message, an unknown or revoked agent, a wrong tenant."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from officine.fleet.directory import Access
from officine.fleet.models import FleetPharmacyRow, RefusalRow
from officine.fleet.tenancy import Fleet

log = logging.getLogger("officine.fleet.refusals")


def record(
    fleet: Fleet,
    reason: str,
    claimed: str,
    client: str,
    agent_id: int | None = None,
    pharmacy_id: int | None = None,
) -> None:
    """Kept in its own transaction: the refused message changes nothing else."""
    log.warning("refused (%s) agent=%r pharmacy=%s client=%s", reason, claimed[:64], pharmacy_id, client)
    with fleet.transaction() as session:
        session.add(
            RefusalRow(
                at=datetime.now(UTC),
                reason=reason,
                claimed_agent=claimed[:64],
                agent_id=agent_id,
                pharmacy_id=pharmacy_id,
                client=client[:64],
            )
        )


@dataclass(frozen=True)
class Refusal:
    at: datetime
    reason: str
    claimed_agent: str
    pharmacy: str
    client: str


def recent(fleet: Fleet, access: Access, limit: int = 100) -> list[Refusal]:
    """Refusals about the organisation's pharmacies (those naming no known pharmacy are the
    server's: in its log only)."""
    access.require("journal")
    with fleet.session() as session:
        rows = session.execute(
            select(RefusalRow, FleetPharmacyRow.name)
            .join(FleetPharmacyRow, FleetPharmacyRow.id == RefusalRow.pharmacy_id)
            .where(access.pharmacies())
            .order_by(RefusalRow.id.desc())
            .limit(limit)
        ).all()
    return [Refusal(r.at, r.reason, r.claimed_agent, name, r.client) for r, name in rows]
