"""The judgement job of one pharmacy: the events its agents sent copied into its own tables,
each snapshot received judged in order of arrival by the pharmacy's service object (the same
evaluate() as everywhere), then the console's summary and the alerts."""

from __future__ import annotations

import json
import logging
import zlib
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DataError

from officine import snapshot as snapshots_mod
from officine.errors import UserError
from officine.fleet import alerts, summary
from officine.fleet.jobs import Job
from officine.fleet.message import EVENT_DATA
from officine.fleet.models import AgentEventRow, InboxRow
from officine.fleet.tenancy import FLEET_SCHEMA, Fleet, schema_of
from officine.store.models import BackupRunRow, BackupVerificationRow, Base, DestinationSightingRow, SentinelEventRow

log = logging.getLogger(__name__)
TENANT_TABLES: dict[str, type[Base]] = {
    "backup_run": BackupRunRow,
    "verification": BackupVerificationRow,
    "sighting": DestinationSightingRow,
    "sentinel": SentinelEventRow,
}


def apply_events(fleet: Fleet, pharmacy_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Copy the backup records and sentinel events not yet applied into the pharmacy's schema,
    and mark them applied, in one transaction (a job run twice copies nothing twice)."""
    home = {"schema_translate_map": {None: FLEET_SCHEMA}}
    tenant = {"schema_translate_map": {None: schema_of(pharmacy_id)}}
    with fleet.home.base_engine.begin() as conn:
        rows = conn.execute(
            select(AgentEventRow.id, AgentEventRow.kind, AgentEventRow.source_key, AgentEventRow.payload)
            .where(AgentEventRow.pharmacy_id == pharmacy_id, AgentEventRow.applied.is_(False))
            .order_by(AgentEventRow.id)
            .with_for_update(),
            execution_options=home,
        ).all()
        for _, kind, _, payload in rows:
            table = TENANT_TABLES.get(kind)
            if table is None:
                continue
            data = EVENT_DATA[kind].model_validate(payload).model_dump()
            if kind == "sentinel":
                acknowledged = data.pop("acknowledged")
                data["acknowledged_at"] = data["at"] if acknowledged else None
                data["acknowledged_by"] = "(poste)" if acknowledged else None
            conn.execute(insert(table).values(**data), execution_options=tenant)
        if rows:
            conn.execute(
                update(AgentEventRow).where(AgentEventRow.id.in_([r[0] for r in rows])).values(applied=True),
                execution_options=home,
            )
    return [(kind, key, dict(payload)) for _, kind, key, payload in rows]


def judge(fleet: Fleet, job: Job) -> None:
    assert job.pharmacy_id is not None  # noqa: S101 - judge jobs always name their pharmacy
    pharmacy_id = job.pharmacy_id
    pharmacy = fleet.pharmacy(pharmacy_id)
    before = pharmacy.latest_audit()
    events = apply_events(fleet, pharmacy_id)
    with fleet.session() as session:
        pending = session.execute(
            select(InboxRow.id, InboxRow.body, InboxRow.snapshot_id)
            .where(InboxRow.pharmacy_id == pharmacy_id, InboxRow.state == "pending")
            .order_by(InboxRow.id)
        ).all()
    for inbox_id, body, snapshot_id in pending:
        state, error = "judged", None
        try:
            document = json.loads(zlib.decompress(body))
            snap = snapshots_mod.reanalyse(snapshots_mod.parse(document, PurePath(snapshot_id)))
            pharmacy.reassess(extra=[snap])
        except UserError as exc:  # read once at reception, so only a change of version gets here
            state, error = "failed", exc.message
            log.warning("snapshot %s of pharmacy %s not judged: %s", snapshot_id, pharmacy_id, exc.message)
        except (DataError, UnicodeError) as exc:  # this snapshot can never be stored: it must not block the next
            state, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("snapshot %s of pharmacy %s not stored: %s", snapshot_id, pharmacy_id, error)
        with fleet.transaction() as session:
            session.execute(update(InboxRow).where(InboxRow.id == inbox_id).values(state=state, error=error))
    if not pending and pharmacy.has_snapshots():
        pharmacy.reassess()  # new backup records or incident entries: records an audit when verdicts change
    after = pharmacy.latest_audit()
    alerts.after_judgement(
        fleet,
        pharmacy_id,
        before.assessment if before else None,
        after.assessment if after else None,
        events,
        datetime.now(UTC),
    )
    summary.refresh(fleet, pharmacy_id, pharmacy, after)
