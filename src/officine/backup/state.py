"""Site facts about backups, from the plan and the guardian's records (no restic call here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from officine.backup.plan import KIND_FR, PLACE_FR, Plan
from officine.backup.records import RunRecord, Sighting, VerificationRecord
from officine.facts import Fact, not_applicable, observed

FACT = "backup.state"
SIGHTING_WINDOW = timedelta(days=60)


def attachment(
    sightings: list[Sighting], first_seen: datetime | None, now: datetime, max_attached: timedelta
) -> dict[str, Any]:
    """Has the destination been seen detached within the last `max_attached`?"""
    last_absent = max((s.at for s in sightings if not s.present), default=None)
    last_present = max((s.at for s in sightings if s.present), default=None)
    if last_absent is not None and now - last_absent <= max_attached:
        state = "comes_and_goes"
    elif first_seen is None or now - first_seen < max_attached:
        state = "too_early"  # not watched long enough to say
    else:
        state = "stays_attached"
    attached_since = None
    if last_present is not None:
        streak = [s for s in sightings if last_absent is None or s.at > last_absent]
        attached_since = min((s.at for s in streak if s.present), default=None)
    return {
        "state": state,
        "last_absent": last_absent.isoformat() if last_absent else None,
        "attached_since": attached_since.isoformat() if attached_since else None,
        "last_seen": last_present.isoformat() if last_present else None,
    }


def build_state(
    plan: Plan | None,
    runs: list[RunRecord],
    verifications: list[VerificationRecord],
    sightings: dict[str, list[Sighting]],
    first_seen: dict[str, datetime | None],
    now: datetime,
) -> dict[str, Fact]:
    if plan is None or not plan.destinations:
        return {FACT: not_applicable("aucun plan de sauvegarde géré par officine-cyber")}
    destinations = []
    for d in plan.destinations:
        d_runs = sorted((r for r in runs if r.destination_id == d.id), key=lambda r: r.started_at, reverse=True)
        d_checks = sorted((v for v in verifications if v.destination_id == d.id), key=lambda v: v.at, reverse=True)
        last_success = next((r for r in d_runs if r.status == "success"), None)
        last_partial = next((r for r in d_runs if r.status == "partial"), None)
        last_drill = next((v for v in d_checks if v.error_code != "absent"), None)
        last_passed = next((v for v in d_checks if v.status == "passed"), None)
        encrypted = next(
            (s.volume_encrypted for s in reversed(sightings.get(d.id, [])) if s.volume_encrypted is not None),
            None,
        )
        destinations.append(
            {
                "id": d.id,
                "label": d.label,
                "kind": d.kind,
                "kind_fr": KIND_FR[d.kind],
                "place": d.place,
                "place_fr": PLACE_FR[d.place],
                "removable": d.removable,
                "immutable": d.immutable,
                "hds": None if d.hds is None else d.hds.model_dump(mode="json"),
                "last_run": None
                if not d_runs
                else {
                    "at": d_runs[0].started_at.isoformat(),
                    "status": d_runs[0].status,
                    "message": d_runs[0].message,
                    "details": d_runs[0].details or {},
                },
                "last_success": last_success.started_at.isoformat() if last_success else None,
                "last_partial": last_partial.started_at.isoformat() if last_partial else None,
                "last_drill": None
                if last_drill is None
                else {
                    "at": last_drill.at.isoformat(),
                    "status": last_drill.status,
                    "full": last_drill.full,
                    "files_checked": last_drill.files_checked,
                    "bytes_checked": last_drill.bytes_checked,
                    "message": last_drill.message,
                    "error_code": last_drill.error_code,
                },
                "last_passed_drill": last_passed.at.isoformat() if last_passed else None,
                "attachment": attachment(
                    sightings.get(d.id, []),
                    first_seen.get(d.id),
                    now,
                    timedelta(days=plan.thresholds.max_attached_days),
                ),
                "volume_encrypted": encrypted,
            }
        )
    return {
        FACT: observed(
            {
                "now": now.isoformat(),
                "sources": [{"path": s.path, "lgo": s.lgo} for s in plan.sources],
                "destinations": destinations,
                "thresholds": plan.thresholds.model_dump(),
            }
        )
    }
