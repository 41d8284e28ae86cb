"""What the fleet's jobs do, by kind, and the periodic sweep (silent agents, pharmacies whose
verdicts may have aged: a backup that stops is late on the server's clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, text

from officine.fleet import alerts, jobs, notify
from officine.fleet.jobs import Handler, Job
from officine.fleet.judge import judge
from officine.fleet.models import FleetJobRow, PharmacyStatusRow
from officine.fleet.tenancy import Fleet

SWEEP_EVERY = timedelta(minutes=15)
REJUDGE_AFTER = timedelta(hours=1)  # as the dashboard: time alone may change a verdict
SWEEP_LOCK = 0x0FF1C3


def _notify(fleet: Fleet, job: Job) -> None:
    assert job.organisation_id is not None  # noqa: S101 - notify jobs always name their organisation
    notify.notify(fleet, job.organisation_id, notify.relay_from_environment())


def sweep(fleet: Fleet, job: Job | None = None, now: datetime | None = None) -> None:
    """Silent agents, and a judgement for every pharmacy not judged for an hour."""
    now = now or datetime.now(UTC)
    alerts.silent_agents(fleet, now)
    with fleet.transaction() as session:
        stale = session.scalars(
            select(PharmacyStatusRow.pharmacy_id).where(
                PharmacyStatusRow.audit_id.is_not(None),
                or_(PharmacyStatusRow.judged_at.is_(None), PharmacyStatusRow.judged_at < now - REJUDGE_AFTER),
            )
        ).all()
        for pharmacy_id in stale:
            jobs.enqueue_judgement(session, pharmacy_id, now)


HANDLERS: dict[str, Handler] = {jobs.JUDGE: judge, jobs.NOTIFY: _notify, jobs.SWEEP: sweep}


def periodic(fleet: Fleet, now: datetime | None = None) -> None:
    """Queue a sweep when none ran for `SWEEP_EVERY` (any process may; one does)."""
    now = now or datetime.now(UTC)
    with fleet.transaction() as session:
        if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK}):
            return
        recent = session.scalar(
            select(FleetJobRow.id).where(
                FleetJobRow.kind == jobs.SWEEP,
                or_(FleetJobRow.state.in_(("pending", "running")), FleetJobRow.created_at > now - SWEEP_EVERY),
            )
        )
        if recent is None:
            jobs.enqueue(session, jobs.SWEEP, now)
