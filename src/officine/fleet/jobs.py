"""The fleet's work queue, in PostgreSQL: any server process takes the oldest job nobody holds
(`FOR UPDATE SKIP LOCKED`), one pharmacy's jobs one at a time, in order of arrival. A job whose
process died is taken again after `STALE_AFTER`. Server processes keep no state of their own:
more of them share one database."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select, text, update
from sqlalchemy.orm import Session, aliased

from officine.fleet.models import FleetJobRow
from officine.fleet.tenancy import Fleet

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)
CLAIM_LOCK = 0x0FF1C2  # serialises claims (a few milliseconds each) across processes
JUDGE, NOTIFY, SWEEP = "judge", "notify", "sweep"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    pharmacy_id: int | None
    organisation_id: int | None
    payload: dict[str, Any]
    attempts: int


def enqueue(
    session: Session,
    kind: str,
    now: datetime,
    *,
    pharmacy_id: int | None = None,
    organisation_id: int | None = None,
    payload: dict[str, Any] | None = None,
    run_after: datetime | None = None,
) -> None:
    session.add(
        FleetJobRow(
            kind=kind,
            pharmacy_id=pharmacy_id,
            organisation_id=organisation_id,
            payload=payload or {},
            state="pending",
            created_at=now,
            run_after=run_after or now,
            attempts=0,
        )
    )


def enqueue_judgement(session: Session, pharmacy_id: int, now: datetime) -> None:
    """Judge the pharmacy again, unless a judgement not yet started is already waiting (it will
    see everything received until it starts)."""
    waiting = session.scalar(
        select(FleetJobRow.id).where(
            FleetJobRow.kind == JUDGE, FleetJobRow.pharmacy_id == pharmacy_id, FleetJobRow.state == "pending"
        )
    )
    if waiting is None:
        enqueue(session, JUDGE, now, pharmacy_id=pharmacy_id)


def claim(fleet: Fleet, worker: str, now: datetime | None = None) -> Job | None:
    """The oldest job ready to run whose pharmacy (or organisation) has no job running."""
    now = now or datetime.now(UTC)
    running = aliased(FleetJobRow)
    busy = exists().where(
        running.state == "running",
        running.locked_at > now - STALE_AFTER,
        ((running.pharmacy_id == FleetJobRow.pharmacy_id) & FleetJobRow.pharmacy_id.is_not(None))
        | ((running.organisation_id == FleetJobRow.organisation_id) & FleetJobRow.organisation_id.is_not(None)),
    )
    stale = and_(FleetJobRow.state == "running", FleetJobRow.locked_at <= now - STALE_AFTER)
    with fleet.transaction() as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        row = session.scalar(
            select(FleetJobRow)
            .where(((FleetJobRow.state == "pending") & (FleetJobRow.run_after <= now)) | stale, ~busy)
            .order_by(FleetJobRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            return None
        row.state, row.locked_at, row.worker = "running", now, worker[:64]
        row.attempts += 1
        return Job(row.id, row.kind, row.pharmacy_id, row.organisation_id, dict(row.payload), row.attempts)


def finish(fleet: Fleet, job: Job, error: str | None = None, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    with fleet.transaction() as session:
        values: dict[str, Any] = {"finished_at": now, "error": error}
        if error is None:
            values["state"] = "done"
        elif job.attempts < MAX_ATTEMPTS:
            values.update(state="pending", run_after=now + RETRY_AFTER * job.attempts, finished_at=None)
        else:
            values["state"] = "failed"
        session.execute(update(FleetJobRow).where(FleetJobRow.id == job.id).values(**values))


Handler = Callable[[Fleet, Job], None]


def run_one(fleet: Fleet, handlers: dict[str, Handler], worker: str) -> bool:
    """Take and run one job; False when none is ready."""
    job = claim(fleet, worker)
    if job is None:
        return False
    try:
        handlers[job.kind](fleet, job)
    except Exception as exc:  # a job's failure is recorded; the worker goes on with the next
        log.exception("fleet job %s (%s) failed", job.id, job.kind)
        finish(fleet, job, f"{type(exc).__name__}: {exc}"[:2000])
    else:
        finish(fleet, job)
    return True


def run_pending(fleet: Fleet, handlers: dict[str, Handler], limit: int = 10_000) -> int:
    """Run ready jobs until none is left (tests, benchmarks, `officine fleet travaux`)."""
    done = 0
    while done < limit and run_one(fleet, handlers, worker_name()):
        done += 1
    return done


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Worker:
    """A thread of a server process that runs jobs, and the periodic sweep, until stopped."""

    def __init__(
        self,
        fleet: Fleet,
        handlers: dict[str, Handler],
        poll_s: float = 1.0,
        periodic: Callable[[Fleet], None] | None = None,
        periodic_every_s: float = 60.0,
    ) -> None:
        self.fleet = fleet
        self.handlers = handlers
        self.poll_s = poll_s
        self.periodic = periodic
        self.periodic_every_s = periodic_every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="officine-fleet-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _loop(self) -> None:
        name = worker_name()
        next_periodic = 0.0
        while not self._stop.is_set():
            try:
                if self.periodic is not None and time.monotonic() >= next_periodic:
                    next_periodic = time.monotonic() + self.periodic_every_s
                    self.periodic(self.fleet)
                busy = run_one(self.fleet, self.handlers, name)
            except Exception:  # the database went away: try again later
                log.exception("fleet worker")
                busy = False
            if not busy:
                self._stop.wait(self.poll_s)
