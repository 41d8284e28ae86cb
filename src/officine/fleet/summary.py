"""What the console's table and "which pharmacies have this problem" read: one status row per
pharmacy and its current findings, written from the pharmacy's current assessment after each
judgement. Nothing is judged here: verdicts are copied from the assessment evaluate() made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from officine.backup.records import BackupRecords
from officine.fleet.models import AgentEventRow, AgentRow, AlertRow, FindingRow, PharmacyStatusRow
from officine.fleet.tenancy import Fleet
from officine.services import story
from officine.services.pharmacy import CurrentAudit, Pharmacy

WORST_SHOWN = 3
PROBLEMS = ("fail", "warn", "unknown")  # what "which pharmacies have this problem" may look for
SENTINEL_WINDOW = timedelta(days=30)


def findings(assessment: dict[str, Any]) -> list[tuple[str | None, str, str, str]]:
    """(workstation or None for the whole pharmacy, measure, verdict, first text) of every
    measure not passed on a workstation, accepted exceptions left out."""
    found: dict[tuple[str | None, str], tuple[str, str]] = {}
    for m in assessment.get("measures", []):
        if story.excepted(m):
            continue
        for e in m.get("evidence", []):
            if e.get("source") != "machine" or e["verdict"] not in PROBLEMS:
                continue
            key = (e.get("host"), m["id"])
            previous = found.get(key)
            if previous is None or story.RANK[e["verdict"]] > story.RANK[previous[0]]:
                found[key] = (e["verdict"], str(e.get("text") or "")[:600])
    return [(host, mid, verdict, text) for (host, mid), (verdict, text) in found.items()]


def refresh(fleet: Fleet, pharmacy_id: int, pharmacy: Pharmacy, current: CurrentAudit | None) -> None:
    now = datetime.now(UTC)
    records = BackupRecords(pharmacy.store)
    runs = [r for r in records.runs(limit=50) if r.status in ("success", "partial")]
    drills = records.verifications(limit=1)
    with fleet.transaction() as session:
        status = session.get(PharmacyStatusRow, pharmacy_id, with_for_update=True)
        if status is None:
            status = PharmacyStatusRow(pharmacy_id=pharmacy_id)
            session.add(status)
        status.last_contact_at = session.scalar(
            select(func.max(AgentRow.last_contact_at)).where(AgentRow.pharmacy_id == pharmacy_id)
        )
        status.last_backup_at = max((r.finished_at for r in runs), default=None)
        status.last_drill_at = drills[0].at if drills else None
        status.drill_failed = bool(drills and drills[0].status == "failed")
        status.sentinel_alarms = int(
            session.scalar(
                select(func.count())
                .select_from(AgentEventRow)
                .where(
                    AgentEventRow.pharmacy_id == pharmacy_id,
                    AgentEventRow.kind == "sentinel",
                    AgentEventRow.at > now - SENTINEL_WINDOW,
                    AgentEventRow.payload["type"].as_string() == "alarm",
                )
            )
            or 0
        )
        status.open_alerts = int(
            session.scalar(
                select(func.count())
                .select_from(AlertRow)
                .where(AlertRow.pharmacy_id == pharmacy_id, AlertRow.acknowledged_at.is_(None))
            )
            or 0
        )
        if current is None:
            return
        document = current.assessment
        sections = story.sections(document)
        status.audit_id = current.id
        status.judged_at = current.created_at
        status.score = document.get("score")
        status.trend = pharmacy.trend(current).delta
        status.workstations = len(document.get("hosts", []))
        status.failing = sum(1 for m in sections.actions if m["verdict"] == "fail")
        status.worst = [
            {"id": m["id"], "title": m["title"], "verdict": m["verdict"]} for m in sections.actions[:WORST_SHOWN]
        ]
        session.execute(delete(FindingRow).where(FindingRow.pharmacy_id == pharmacy_id))
        session.add_all(
            FindingRow(pharmacy_id=pharmacy_id, hostname=host, measure_id=mid, verdict=verdict, text=text)
            for host, mid, verdict, text in findings(document)
        )
