"""The history of audits: which workstations each score covers, trends between audits of the
same workstations, the changes of scope in between, and one score per day for the chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from officine.services.responses import aware
from officine.services.story import ScopeChange, scope_change
from officine.store import Store
from officine.store.models import AuditRow

SELECTION = "selection"  # an audit of the machines given on the command line only


@dataclass(frozen=True)
class AuditLine:
    id: int
    created_at: datetime
    score: int | None
    scope: str | None
    host_count: int
    kind: str | None

    @property
    def whole_pharmacy(self) -> bool:
        return self.kind != SELECTION


@dataclass(frozen=True)
class Trend:
    """How the current score compares with the last audit of the same workstations, and what
    changed in the workstations judged since the previous audit of the pharmacy."""

    delta: int | None
    reference: AuditLine | None  # the last earlier audit of the same workstations
    previous: AuditLine | None  # the audit the workstations are compared with
    previous_hosts: list[str]
    change: ScopeChange


_COLUMNS = (AuditRow.id, AuditRow.created_at, AuditRow.score, AuditRow.scope, AuditRow.host_count, AuditRow.kind)


def _line(row: Any) -> AuditLine:
    return AuditLine(int(row.id), aware(row.created_at), row.score, row.scope, int(row.host_count or 0), row.kind)


def _newest_first(query: Any) -> Any:
    return query.order_by(AuditRow.created_at.desc(), AuditRow.id.desc())


def recent(store: Store, limit: int = 30) -> list[AuditLine]:
    with Session(store.engine) as session:
        return [_line(r) for r in session.execute(_newest_first(select(*_COLUMNS)).limit(limit))]


def audit_line(store: Store, audit_id: int) -> AuditLine | None:
    with Session(store.engine) as session:
        row = session.execute(select(*_COLUMNS).where(AuditRow.id == audit_id)).first()
    return None if row is None else _line(row)


def earlier(
    store: Store, audit: AuditLine, *, same_scope: bool = False, whole_pharmacy: bool = False
) -> AuditLine | None:
    """The newest audit before this one, of the same workstations or of the whole pharmacy."""
    # By id, the order audits were recorded: an index seek, however long the history.
    query = select(*_COLUMNS).where(AuditRow.id < audit.id)
    if same_scope:
        query = query.where(AuditRow.scope == audit.scope)
    if whole_pharmacy:
        query = query.where(or_(AuditRow.kind.is_(None), AuditRow.kind != SELECTION))
    with Session(store.engine) as session:
        row = session.execute(query.order_by(AuditRow.id.desc()).limit(1)).first()
    return None if row is None else _line(row)


def trend(store: Store, audit_id: int, hostnames: list[str]) -> Trend:
    """The score compared like with like; a change of workstations is said, never scored.

    The workstations are compared with the previous audit of the whole pharmacy (a command-line
    audit of one machine is not a workstation removed), or, before any, with the previous audit."""
    current = audit_line(store, audit_id)
    if current is None:
        return Trend(None, None, None, [], ScopeChange([], []))
    reference = earlier(store, current, same_scope=True)
    previous = earlier(store, current, whole_pharmacy=True) or earlier(store, current)
    delta = None
    if reference is not None and reference.score is not None and current.score is not None:
        delta = current.score - reference.score
    previous_hosts: list[str] = []
    change = ScopeChange([], [])
    if previous is not None and previous.scope != current.scope:
        previous_hosts = store.audit_hostnames([previous.id]).get(previous.id, [])
        change = scope_change(previous_hosts, hostnames)
    return Trend(delta, reference, previous, previous_hosts, change)


def audits_stamp(store: Store) -> tuple[int, int]:
    """What changes whenever an audit is recorded: the newest id and the number of audits (the
    count also catches an older id committed late by another process on PostgreSQL). Audits are
    never changed or deleted once recorded. Both come from the primary key's index."""
    with Session(store.engine) as session:
        newest, count = session.execute(select(func.max(AuditRow.id), func.count(AuditRow.id))).one()
    return int(newest or 0), int(count or 0)


def score_series(store: Store, since: datetime | None = None) -> list[tuple[datetime, int, int]]:
    """One point per day (the day's last scored audit of the whole pharmacy, or of any audit
    when the pharmacy was only ever audited from the command line), with its number of
    workstations. Ranked by the database, from the covering index alone: a year of hourly audits
    is 8,760 index entries read, 365 points returned, and no assessment document touched."""
    with Session(store.engine) as session:
        whole = or_(AuditRow.kind.is_(None), AuditRow.kind != SELECTION)
        conditions: list[ColumnElement[bool]] = [AuditRow.score.is_not(None)]
        if since is not None:
            conditions.append(AuditRow.created_at >= since)
        if session.scalar(select(AuditRow.id).where(whole).limit(1)) is not None:
            conditions.append(whole)
        last_of_day = func.row_number().over(partition_by=func.date(AuditRow.created_at), order_by=AuditRow.id.desc())
        ranked = (
            select(AuditRow.created_at, AuditRow.score, AuditRow.host_count, last_of_day.label("rank"))
            .where(*conditions)
            .subquery()
        )
        rows = session.execute(
            select(ranked.c.created_at, ranked.c.score, ranked.c.host_count)
            .where(ranked.c.rank == 1)
            .order_by(ranked.c.created_at)
        ).all()
    return [(aware(at), int(score), int(n or 0)) for at, score, n in rows if score is not None]
