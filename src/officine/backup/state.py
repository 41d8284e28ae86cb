"""Site facts about backups, from the plan and the guardian's records (no restic call here).

What counts is decided here, once, for every SAV check:
- a run saved a folder when it made a snapshot while that folder was there and normal; a run
  that found it missing, emptied or shrunk "missed" it, and a newer miss beats an older save;
- when a repository contradicts the records (gone from a plugged disk, unreadable with our
  password, damaged, a recorded snapshot deleted), the repository wins: nothing recorded on that
  destination counts until a drill passes again;
- the live data is the first of the 3-2-1 copies only while every folder is really there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from officine.backup.plan import KIND_FR, PLACE_FR, Plan
from officine.backup.records import RunRecord, Sighting, VerificationRecord
from officine.backup.sources import PROBLEMS, SAVED_STATES, describe
from officine.facts import Fact, not_applicable, observed, unknown

FACT = "backup.state"
SIGHTING_WINDOW = timedelta(days=60)
# Error codes that mean the repository no longer holds what the records say.
REPOSITORY_LOST = frozenset(
    {"repository_gone", "no_repository", "wrong_password", "corrupted", "snapshot_missing", "unreadable"}
)
NOTHING_CHECKED = frozenset({"absent", "unseen"})  # the repository could not be reached: no evidence either way


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


def _source_entries(run: RunRecord, paths: list[str]) -> dict[str, dict[str, Any]]:
    """The recorded condition of each folder in a run (older runs recorded only missing folders)."""
    recorded = (run.details or {}).get("sources")
    if isinstance(recorded, dict):
        return {p: e for p, e in recorded.items() if p in paths and isinstance(e, dict)}
    missing = set((run.details or {}).get("missing_sources") or [])
    return {p: {"state": "missing" if p in missing else "ok"} for p in paths}


def _saved(run: RunRecord, paths: list[str]) -> list[str]:
    """Folders this run saved: it made a snapshot while they were there and normal."""
    if not run.snapshot_id or run.status == "absent":
        return []
    return [p for p, e in _source_entries(run, paths).items() if e.get("state") in SAVED_STATES]


def repository_lost(runs: list[RunRecord], checks: list[VerificationRecord]) -> dict[str, Any] | None:
    """The newest contradiction between a repository and the records, unless a drill passed since."""
    events = [(r.started_at, r.error_code, r.message) for r in runs if r.error_code in REPOSITORY_LOST]
    events += [(v.at, v.error_code, v.message) for v in checks if v.error_code in REPOSITORY_LOST]
    if not events:
        return None
    at, code, message = max(events, key=lambda e: e[0])
    if any(v.status == "passed" and v.at > at for v in checks):
        return {"at": at.isoformat(), "code": code, "message": message, "cleared": True}
    return {"at": at.isoformat(), "code": code, "message": message, "cleared": False}


def _destination(
    d: Any,
    paths: list[str],
    runs: list[RunRecord],
    checks: list[VerificationRecord],
    sightings: list[Sighting],
    first_seen: datetime | None,
    now: datetime,
    max_attached: timedelta,
) -> dict[str, Any]:
    d_runs = sorted(runs, key=lambda r: r.started_at, reverse=True)
    d_checks = sorted(checks, key=lambda v: v.at, reverse=True)
    lost = repository_lost(d_runs, d_checks)
    trusted_after = None if lost is None else datetime.fromisoformat(lost["at"])
    if lost is not None and not lost["cleared"]:
        counting: list[RunRecord] = []
        valid_checks: list[VerificationRecord] = []
    else:
        counting = [r for r in d_runs if trusted_after is None or r.started_at > trusted_after]
        valid_checks = [v for v in d_checks if trusted_after is None or v.at > trusted_after]
    last_success = next((r for r in counting if r.status == "success"), None)
    last_partial = next((r for r in counting if r.status == "partial"), None)
    saved: dict[str, str] = {}
    for r in counting:
        for p in _saved(r, paths):
            saved.setdefault(p, r.started_at.isoformat())
    attempt = next((r for r in d_runs if r.status != "absent" and r.error_code not in NOTHING_CHECKED), None)
    last_drill = next((v for v in d_checks if v.error_code not in NOTHING_CHECKED), None)
    last_passed = next((v for v in valid_checks if v.status == "passed"), None)
    encrypted = next((s.volume_encrypted for s in reversed(sightings) if s.volume_encrypted is not None), None)
    return {
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
            "error_code": d_runs[0].error_code,
            "message": d_runs[0].message,
            "details": d_runs[0].details or {},
        },
        "last_attempt": None
        if attempt is None
        else {
            "at": attempt.started_at.isoformat(),
            "status": attempt.status,
            "error_code": attempt.error_code,
            "message": attempt.message,
        },
        # Only runs the repository still backs up: after a contradiction, none until a drill passes.
        "last_success": last_success.started_at.isoformat() if last_success else None,
        "last_partial": last_partial.started_at.isoformat() if last_partial else None,
        "saved": saved,
        "repository_lost": None if lost is None or lost["cleared"] else lost,
        "last_drill": None
        if last_drill is None
        else {
            "at": last_drill.at.isoformat(),
            "status": last_drill.status,
            "full": last_drill.full,
            "files_checked": last_drill.files_checked,
            "bytes_checked": last_drill.bytes_checked,
            "compared": (last_drill.details or {}).get("compared"),
            "message": last_drill.message,
            "error_code": last_drill.error_code,
        },
        "last_passed_drill": last_passed.at.isoformat() if last_passed else None,
        "attachment": attachment(sightings, first_seen, now, max_attached),
        "volume_encrypted": encrypted,
    }


def _sources(
    plan: Plan, runs: list[RunRecord], verifications: list[VerificationRecord], labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Each folder: its newest observed condition, and the newest run that could not save it."""
    paths = [s.path for s in plan.sources]
    observations = [(r.started_at, _source_entries(r, paths)) for r in runs]
    observations += [(v.at, (v.details or {}).get("sources") or {}) for v in verifications]
    attempts = [r for r in runs if r.status != "absent" and r.error_code not in NOTHING_CHECKED]
    result = []
    for s in plan.sources:
        seen = [(at, e[s.path]) for at, e in observations if isinstance(e.get(s.path), dict)]
        newest = max(seen, key=lambda pair: pair[0], default=None)
        misses = [
            (r, _source_entries(r, paths).get(s.path) or {})
            for r in attempts
            if (_source_entries(r, paths).get(s.path) or {}).get("state") in PROBLEMS
        ]
        miss = max(misses, key=lambda pair: pair[0].started_at, default=None)
        result.append(
            {
                "path": s.path,
                "lgo": s.lgo,
                "label": s.label or s.path,
                "condition": None
                if newest is None
                else {"at": newest[0].isoformat(), **newest[1], "text": describe(newest[1], s.path)},
                "last_missed": None
                if miss is None
                else {
                    "at": miss[0].started_at.isoformat(),
                    "destination": labels.get(miss[0].destination_id, miss[0].destination_id),
                    "state": miss[1].get("state"),
                    "text": describe(miss[1], s.path),
                },
            }
        )
    return result


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
    paths = [s.path for s in plan.sources]
    max_attached = timedelta(days=plan.thresholds.max_attached_days)
    destinations = [
        _destination(
            d,
            paths,
            [r for r in runs if r.destination_id == d.id],
            [v for v in verifications if v.destination_id == d.id],
            sightings.get(d.id, []),
            first_seen.get(d.id),
            now,
            max_attached,
        )
        for d in plan.destinations
    ]
    labels = {d.id: d.label for d in plan.destinations}
    return {
        FACT: observed(
            {
                "now": now.isoformat(),
                "sources": _sources(plan, runs, verifications, labels),
                "destinations": destinations,
                "thresholds": plan.thresholds.model_dump(),
            }
        )
    }


def unreadable_plan(message: str) -> dict[str, Fact]:
    """The plan file exists but cannot be read: every backup measure is unknown, never decided by
    the answers as if there were no plan."""
    return {FACT: unknown("parse_error", message)}
