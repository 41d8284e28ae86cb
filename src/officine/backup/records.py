"""What the guardian remembers: runs, verifications and sightings, in the project's database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.store import Store
from officine.store.models import BackupRunRow, BackupVerificationRow, DestinationSightingRow


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RunRecord:
    destination_id: str
    started_at: datetime
    finished_at: datetime
    status: str
    snapshot_id: str | None = None
    files_total: int | None = None
    files_new: int | None = None
    files_changed: int | None = None
    bytes_added: int | None = None
    bytes_total: int | None = None
    error_code: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class VerificationRecord:
    destination_id: str
    at: datetime
    status: str
    snapshot_id: str | None = None
    full: bool = False
    check_subset: str | None = None
    files_checked: int = 0
    bytes_checked: int = 0
    error_code: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Sighting:
    destination_id: str
    at: datetime
    present: bool
    volume_encrypted: bool | None = None


class BackupRecords:
    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def add_run(self, r: RunRecord) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(BackupRunRow(**{**r.__dict__, "details": r.details or {}}))

    def add_verification(self, v: VerificationRecord) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(BackupVerificationRow(**{**v.__dict__, "full": int(v.full), "details": v.details or {}}))

    def add_sighting(self, v: Sighting) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(
                DestinationSightingRow(
                    destination_id=v.destination_id,
                    at=v.at,
                    present=int(v.present),
                    volume_encrypted=None if v.volume_encrypted is None else int(v.volume_encrypted),
                )
            )

    def runs(self, destination_id: str | None = None, limit: int = 200) -> list[RunRecord]:
        with Session(self.engine) as s:
            q = select(BackupRunRow).order_by(BackupRunRow.started_at.desc(), BackupRunRow.id.desc()).limit(limit)
            if destination_id:
                q = q.where(BackupRunRow.destination_id == destination_id)
            return [
                RunRecord(
                    r.destination_id,
                    _aware(r.started_at),
                    _aware(r.finished_at),
                    r.status,
                    r.snapshot_id,
                    r.files_total,
                    r.files_new,
                    r.files_changed,
                    r.bytes_added,
                    r.bytes_total,
                    r.error_code,
                    r.message,
                    r.details,
                )
                for r in s.scalars(q)
            ]

    def verifications(self, destination_id: str | None = None, limit: int = 100) -> list[VerificationRecord]:
        with Session(self.engine) as s:
            q = (
                select(BackupVerificationRow)
                .order_by(BackupVerificationRow.at.desc(), BackupVerificationRow.id.desc())
                .limit(limit)
            )
            if destination_id:
                q = q.where(BackupVerificationRow.destination_id == destination_id)
            return [
                VerificationRecord(
                    v.destination_id,
                    _aware(v.at),
                    v.status,
                    v.snapshot_id,
                    bool(v.full),
                    v.check_subset,
                    v.files_checked,
                    v.bytes_checked,
                    v.error_code,
                    v.message,
                    v.details,
                )
                for v in s.scalars(q)
            ]

    def sightings(self, destination_id: str, since: datetime) -> list[Sighting]:
        with Session(self.engine) as s:
            q = (
                select(DestinationSightingRow)
                .where(DestinationSightingRow.destination_id == destination_id)
                .where(DestinationSightingRow.at >= since)
                .order_by(DestinationSightingRow.at)
            )
            return [
                Sighting(
                    r.destination_id,
                    _aware(r.at),
                    bool(r.present),
                    None if r.volume_encrypted is None else bool(r.volume_encrypted),
                )
                for r in s.scalars(q)
            ]

    def first_sighting(self, destination_id: str) -> datetime | None:
        with Session(self.engine) as s:
            q = (
                select(DestinationSightingRow.at)
                .where(DestinationSightingRow.destination_id == destination_id)
                .order_by(DestinationSightingRow.at)
                .limit(1)
            )
            found = s.scalar(q)
            return _aware(found) if found else None
