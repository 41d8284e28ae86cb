"""Long work started from a page (auditing this machine, a backup, a restore drill) runs in a
thread; the page follows its progress and reloads itself until it is done."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from officine.collectors.registry import registered
from officine.errors import UserError
from officine.host.local import current_platform
from officine.services.pharmacy import Pharmacy

log = logging.getLogger(__name__)
# Work that must not run twice at once: one audit of this machine, one restic operation.
LANES = {"audit": "audit", "backup": "restic", "drill": "restic"}


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
    results: list[Any] = field(default_factory=list)  # run or drill records, for the page
    error: str | None = None


class Jobs:
    """One job per lane at a time; finished jobs stay readable for their page."""

    def __init__(self, pharmacy: Pharmacy) -> None:
        self.pharmacy = pharmacy
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start_audit(self) -> Job:
        def work(job: Job) -> None:
            job.audit_id, snap = self.pharmacy.audit_this_machine(job.done.append)
            job.hostname = snap.hostname

        return self._start("audit", len(registered(current_platform())), work)

    def start_backup(self) -> Job:
        def work(job: Job) -> None:
            job.results = self.pharmacy.run_backups(job.done.append)

        return self._start("backup", 0, work)

    def start_drill(self) -> Job:
        def work(job: Job) -> None:
            job.results = [o.record for o in self.pharmacy.drill_backups(job.done.append)]

        return self._start("drill", 0, work)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _start(self, kind: str, total: int, work: Callable[[Job], None]) -> Job:
        with self._lock:
            running = next(
                (j for j in self._jobs.values() if j.state == "running" and LANES[j.kind] == LANES[kind]), None
            )
            if running is not None:
                return running  # the page of the work already under way
            job = Job(secrets.token_urlsafe(12), kind, datetime.now(UTC), total=total)
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, work), name=f"{kind}-{job.id}", daemon=True).start()
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Job], None]) -> None:
        try:
            work(job)
            job.state = "finished"
        except UserError as exc:
            job.error, job.state = exc.message, "failed"
        except Exception:
            log.exception("%s started from the dashboard failed", job.kind)
            job.error, job.state = "Erreur interne : le détail est dans le journal du serveur.", "failed"
