"""Long work started from a page (auditing this machine, a backup, a restore drill) runs in a
thread of the process that received the request; its progress is written to the database, so
the page that follows it (reloading itself) can be answered by any server process."""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.collectors.registry import registered
from officine.errors import UserError
from officine.host.local import current_platform
from officine.services.pharmacy import Pharmacy
from officine.services.responses import aware
from officine.store.models import JobRow

log = logging.getLogger(__name__)
# Work that must not run twice at once: one audit of this machine, one restic operation.
LANES = {"audit": "audit", "backup": "restic", "drill": "restic"}
# A job not heard of for this long died with its process (a restart): it no longer blocks its lane.
STALE_AFTER = timedelta(minutes=30)
WRITE_EVERY_S = 0.5  # progress is written at most this often (and always at the end)


@dataclass
class Job:
    id: str
    kind: str  # audit, backup, drill
    started_at: datetime
    done: list[str] = field(default_factory=list)  # progress lines, newest last
    state: str = "running"  # running, finished, failed
    total: int = 0  # steps expected, for the progress bar (0: unknown)
    audit_id: int | None = None
    hostname: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)  # run or drill records, for the page
    error: str | None = None


def _plain(record: Any) -> dict[str, Any]:
    """A run or drill record as JSON: dates as ISO text."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in dataclasses.asdict(record).items()}


class Jobs:
    """One job per lane at a time across the server's processes; finished jobs stay readable."""

    def __init__(self, pharmacy: Pharmacy) -> None:
        self.pharmacy = pharmacy
        self.engine = pharmacy.store.engine
        self._lock = threading.Lock()

    def start_audit(self) -> Job:
        def work(job: Job, progress: Callable[[str], None]) -> None:
            job.audit_id, snap = self.pharmacy.audit_this_machine(progress)
            job.hostname = snap.hostname

        return self._start("audit", len(registered(current_platform())), work)

    def start_backup(self) -> Job:
        def work(job: Job, progress: Callable[[str], None]) -> None:
            job.results = [_plain(r) for r in self.pharmacy.run_backups(progress)]

        return self._start("backup", 0, work)

    def start_drill(self) -> Job:
        def work(job: Job, progress: Callable[[str], None]) -> None:
            job.results = [_plain(o.record) for o in self.pharmacy.drill_backups(progress)]

        return self._start("drill", 0, work)

    def get(self, job_id: str) -> Job | None:
        with Session(self.engine) as session:
            row = session.get(JobRow, job_id)
            return None if row is None else _job(row)

    def _start(self, kind: str, total: int, work: Callable[[Job, Callable[[str], None]], None]) -> Job:
        now = datetime.now(UTC)
        with self._lock, Session(self.engine) as session, session.begin():
            running = session.scalars(select(JobRow).where(JobRow.lane == LANES[kind], JobRow.state == "running")).all()
            alive = [r for r in running if aware(r.updated_at) > now - STALE_AFTER]
            if alive:
                return _job(alive[0])  # the page of the work already under way
            for r in running:
                r.state, r.error = "failed", "Interrompu : le serveur a été arrêté pendant ce travail."
            job = Job(secrets.token_urlsafe(12), kind, now, total=total)
            session.add(
                JobRow(
                    id=job.id,
                    kind=kind,
                    lane=LANES[kind],
                    started_at=now,
                    updated_at=now,
                    state="running",
                    total=total,
                    done=[],
                    results=[],
                )
            )
        threading.Thread(target=self._run, args=(job, work), name=f"{kind}-{job.id}", daemon=True).start()
        return job

    def _save(self, job: Job) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.get(JobRow, job.id)
            if row is not None:
                row.done, row.state, row.results = list(job.done), job.state, job.results
                row.audit_id, row.hostname, row.error = job.audit_id, job.hostname, job.error
                row.updated_at = datetime.now(UTC)

    def _run(self, job: Job, work: Callable[[Job, Callable[[str], None]], None]) -> None:
        last = [0.0]

        def progress(line: str) -> None:
            job.done.append(line)
            if time.monotonic() - last[0] >= WRITE_EVERY_S:
                last[0] = time.monotonic()
                self._save(job)

        try:
            work(job, progress)
            job.state = "finished"
        except UserError as exc:
            job.error, job.state = exc.message, "failed"
        except Exception:
            log.exception("%s started from the dashboard failed", job.kind)
            job.error, job.state = "Erreur interne : le détail est dans le journal du serveur.", "failed"
        self._save(job)


def _job(row: JobRow) -> Job:
    return Job(
        row.id,
        row.kind,
        aware(row.started_at),
        list(row.done or []),
        row.state,
        row.total,
        row.audit_id,
        row.hostname,
        list(row.results or []),
        row.error,
    )
