"""Password-manager audits in the project's database: the report only (counts and titles)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.passwords.audit import AuditReport
from officine.store import Store
from officine.store.models import PasswordAuditRow


@dataclass(frozen=True)
class StoredAudit:
    id: int
    audited_at: datetime
    recorded_by: str
    report: dict[str, Any]


def record(store: Store, report: AuditReport, by: str) -> int:
    with Session(store.engine) as session, session.begin():
        row = PasswordAuditRow(
            audited_at=report.audited_at.astimezone(UTC),
            source=report.source,
            file_name=report.file_name[:255],
            entries=report.entries,
            report=report.to_json(),
            recorded_by=by[:64],
        )
        session.add(row)
        session.flush()
        return row.id


def latest(store: Store) -> StoredAudit | None:
    with Session(store.engine) as session:
        row = session.scalars(
            select(PasswordAuditRow).order_by(PasswordAuditRow.audited_at.desc(), PasswordAuditRow.id.desc()).limit(1)
        ).first()
        if row is None:
            return None
        at = row.audited_at if row.audited_at.tzinfo else row.audited_at.replace(tzinfo=UTC)
        return StoredAudit(row.id, at, row.recorded_by, row.report)
