""" "Audit this machine now": the collection runs in a thread, the page follows its progress."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from officine.collectors.registry import registered
from officine.errors import UserError
from officine.host.local import current_platform
from officine.services.pharmacy import Pharmacy

log = logging.getLogger(__name__)


@dataclass
class AuditJob:
    id: str
    started_at: datetime
    done: list[str] = field(default_factory=list)  # collectors finished so far
    state: str = "running"  # running, finished, failed
    audit_id: int | None = None
    hostname: str | None = None
    error: str | None = None
    total: int = 0  # collectors this machine runs, for the progress bar


class AuditJobs:
    """One audit of this machine at a time; finished jobs stay readable for their page."""

    def __init__(self, pharmacy: Pharmacy) -> None:
        self.pharmacy = pharmacy
        self._jobs: dict[str, AuditJob] = {}
        self._lock = threading.Lock()

    def start(self) -> AuditJob:
        with self._lock:
            running = next((j for j in self._jobs.values() if j.state == "running"), None)
            if running is not None:
                return running
            job = AuditJob(secrets.token_urlsafe(12), datetime.now(UTC), total=len(registered(current_platform())))
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job,), name=f"audit-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> AuditJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: AuditJob) -> None:
        try:
            audit_id, snap = self.pharmacy.audit_this_machine(job.done.append)
            job.audit_id, job.hostname, job.state = audit_id, snap.hostname, "finished"
        except UserError as exc:
            job.error, job.state = exc.message, "failed"
        except Exception:
            log.exception("audit of this machine failed")
            job.error, job.state = "Erreur interne pendant l'audit. Rien n'a été enregistré.", "failed"
