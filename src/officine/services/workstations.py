"""The pharmacy's workstations: which are in service, their collections over time, and retiring
one that was replaced or imported by mistake (kept in the history, out of the current score)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.services.responses import aware
from officine.services.story import Counts, HostMeasure, count, host_counts
from officine.store import Store
from officine.store.models import AuditRow, AuditSnapshotRow, HostRow, SnapshotRow

MAX_REASON = 200


@dataclass(frozen=True)
class Workstation:
    id: int
    hostname: str
    platform: str
    first_seen: datetime
    last_seen: datetime
    snapshots: int
    retired_at: datetime | None
    retired_by: str | None
    retired_reason: str | None

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


@dataclass(frozen=True)
class PastCollection:
    """A collection in the workstation's history, with what the audit that judged it found."""

    collection: Collection
    entry: dict[str, Any] | None  # the workstation as that audit described it (rights...)
    counts: Counts | None


@dataclass
class WorkstationView:
    """One workstation's page: its findings, when and with which rights it was collected, its history."""

    workstation: Workstation
    snapshot_id: str | None
    entry: dict[str, Any] | None  # from the assessment: collected_at, privileged, needs_privileges
    collector: dict[str, Any]  # from the snapshot: the account that collected, duration
    in_current: bool  # counted in the pharmacy's current score
    measures: list[HostMeasure]
    history: list[PastCollection]

    def having(self, *verdicts: str) -> list[HostMeasure]:
        return [m for m in self.measures if m.verdict in verdicts]

    @property
    def counts(self) -> Counts:
        return count([{**m.measure, "verdict": m.verdict} for m in self.measures])


@dataclass(frozen=True)
class Collection:
    """One snapshot of a workstation, and the first audit that judged it."""

    snapshot_id: str
    collected_at: datetime
    mode: str
    audit_id: int | None


def past_collections(store: Store, host_id: int, limit: int = 12) -> list[PastCollection]:
    """The newest collections, each with what the audit that first judged it found there."""
    rows = []
    for c in collections(store, host_id, limit):
        document = store.audit(c.audit_id) if c.audit_id else None
        entry = next((h for h in (document or {}).get("hosts", []) if h["snapshot_id"] == c.snapshot_id), None)
        rows.append(PastCollection(c, entry, host_counts(document).get(c.snapshot_id) if document else None))
    return rows


def _workstation(h: HostRow, snapshots: int) -> Workstation:
    return Workstation(
        h.id,
        h.hostname,
        h.platform,
        aware(h.first_seen),
        aware(h.last_seen),
        snapshots,
        aware(h.retired_at) if h.retired_at else None,
        h.retired_by,
        h.retired_reason,
    )


def snapshot_counts(store: Store) -> dict[int, int]:
    """How many collections each workstation has (a scan of the snapshots' host index)."""
    with Session(store.engine) as session:
        rows = session.execute(select(SnapshotRow.host_id, func.count()).group_by(SnapshotRow.host_id)).all()
    return {int(host_id): int(n) for host_id, n in rows}


def workstations(store: Store, counts: dict[int, int] | None = None) -> list[Workstation]:
    """Every workstation ever audited: in service first (newest audit first), then retired."""
    counts = snapshot_counts(store) if counts is None else counts
    with Session(store.engine) as session:
        rows = session.scalars(select(HostRow).order_by(HostRow.last_seen.desc())).all()
        found = [_workstation(h, counts.get(h.id, 0)) for h in rows]
    return sorted(found, key=lambda w: w.retired)


def workstation(store: Store, host_id: int) -> Workstation | None:
    with Session(store.engine) as session:
        h = session.get(HostRow, host_id)
        if h is None:
            return None
        n = session.scalar(select(func.count()).select_from(SnapshotRow).where(SnapshotRow.host_id == host_id))
        return _workstation(h, int(n or 0))


def collections(store: Store, host_id: int, limit: int = 12) -> list[Collection]:
    """The newest collections of a workstation, each with the first audit that judged it."""
    with Session(store.engine) as session:
        first_audit = (
            select(AuditSnapshotRow.snapshot_id, func.min(AuditSnapshotRow.audit_id).label("audit_id"))
            .group_by(AuditSnapshotRow.snapshot_id)
            .subquery()
        )
        rows = session.execute(
            select(SnapshotRow.id, SnapshotRow.collected_at, SnapshotRow.mode, first_audit.c.audit_id)
            .outerjoin(first_audit, first_audit.c.snapshot_id == SnapshotRow.id)
            .where(SnapshotRow.host_id == host_id)
            .order_by(SnapshotRow.collected_at.desc())
            .limit(limit)
        ).all()
    return [Collection(r.id, aware(r.collected_at), r.mode, r.audit_id) for r in rows]


def judged_in(store: Store, snapshot_id: str) -> dict[str, Any] | None:
    """The newest assessment that judged this snapshot (for a workstation out of the current one)."""
    with Session(store.engine) as session:
        audit_id = session.scalar(
            select(func.max(AuditSnapshotRow.audit_id)).where(AuditSnapshotRow.snapshot_id == snapshot_id)
        )
        if audit_id is None:
            return None
        assessment = session.scalar(select(AuditRow.assessment).where(AuditRow.id == audit_id))
    return None if assessment is None else dict(assessment)


def retire(store: Store, host_id: int, by: str, reason: str, now: datetime) -> str:
    """Retire a workstation; returns its name."""
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise UserError(f"Raison trop longue ({MAX_REASON} caractères au plus). Rien n'a été modifié.")
    with Session(store.engine) as session, session.begin():
        h = session.get(HostRow, host_id)
        if h is None:
            raise UserError("Ce poste n'existe pas. Rechargez la page des postes.")
        if h.retired_at is not None:
            raise UserError(f"Le poste {h.hostname} est déjà retiré.")
        h.retired_at, h.retired_by, h.retired_reason = now, by, reason or None
        return h.hostname


def reinstate(store: Store, host_id: int) -> str:
    """Put a retired workstation back in service; returns its name."""
    with Session(store.engine) as session, session.begin():
        h = session.get(HostRow, host_id)
        if h is None:
            raise UserError("Ce poste n'existe pas. Rechargez la page des postes.")
        if h.retired_at is None:
            raise UserError(f"Le poste {h.hostname} est déjà en service.")
        h.retired_at = h.retired_by = h.retired_reason = None
        return h.hostname
