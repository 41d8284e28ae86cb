"""Backups (SAV-*): judged once for the site, from the guardian's records.

The state (`officine.backup.state`) has already set aside what the repositories contradict;
here a green verdict needs positive proof: every folder saved recently and not missed since,
a restore drill that passed on a repository still trusted, copies that really exist.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from officine.backup import fr
from officine.backup.sources import PROBLEMS
from officine.catalogue.model import Verdict
from officine.checks.base import CheckContext, Outcome, check, fail, passed, unknown, warn, worst
from officine.facts import FactStatus

FACT = "backup.state"
RECENT_COPY = timedelta(days=8)  # a copy older than this no longer counts in 3-2-1
MEDIA = {"disk": "disque externe", "rotated_disk": "disque externe", "network": "réseau", "cloud": "en ligne"}


def _state(ctx: CheckContext) -> dict[str, Any] | Outcome:
    """The backup state, or the outcome when there is none to judge from."""
    fact = ctx.optional(FACT)
    if fact is not None and fact.status is FactStatus.unknown:
        ctx.fact(FACT)  # raises: an unreadable plan is unknown, never left to the answers
    if fact is None or fact.status is not FactStatus.observed:
        # Without a plan nothing can be observed: the answer decides, and the finding says that
        # backups cannot be verified (something to set up), never that they do not concern the site.
        decided = ctx.answer_or_needs()
        return Outcome(decided.verdict, "no_plan", decided.values, observed=Verdict.unknown)
    value: dict[str, Any] = fact.value
    return value


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "moins d'une heure"
    return f"{hours} h" if hours < 48 else f"{hours // 24} jours"


def _copy_dates(d: dict[str, Any], sources: list[dict[str, Any]]) -> list[datetime] | None:
    """When each folder was last saved on this destination; None if one never was."""
    saved = d.get("saved") or {}
    dates = [saved.get(s["path"]) for s in sources]
    if not dates or any(x is None for x in dates):
        return None
    return [_at(str(x)) for x in dates]


def _proven(d: dict[str, Any], now: datetime, max_drill_age: timedelta) -> bool:
    """A destination whose newest drill passed, recently enough, on a repository still trusted."""
    passed_at = d.get("last_passed_drill")
    newest = d.get("last_drill") or {}
    if not passed_at or newest.get("status") != "passed":
        return False
    return now - _at(str(passed_at)) <= max_drill_age


def _copies(state: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Destinations holding a recent copy of every folder, proven by a drill on a repository
    still trusted: an unverified copy is not counted (3-2-1-1-0: zero errors at the last test)."""
    max_drill_age = timedelta(days=state["thresholds"]["max_drill_age_days"])
    result = []
    for d in state["destinations"]:
        dates = _copy_dates(d, state["sources"])
        if dates is not None and now - min(dates) <= RECENT_COPY and _proven(d, now, max_drill_age):
            result.append(d)
    return result


def _current(d: dict[str, Any]) -> bool:
    """The newest backup attempt on this destination did not fail."""
    attempt = d.get("last_attempt") or {}
    return attempt.get("status") != "failed"


def _lost(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in state["destinations"] if d.get("repository_lost")]


@check(
    "SAV-01",
    reasons=(
        "recent_backup",
        "partial_backup",
        "backup_late",
        "newer_failure",
        "no_recent_backup",
        "folder_not_saved",
        "folder_never_saved",
        "backups_lost",
        "no_sources",
        "no_plan",
    ),
    scope="site",
)
def daily_backup(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if isinstance(state, Outcome):
        return state
    now = _at(state["now"])
    limit = timedelta(hours=state["thresholds"]["max_backup_age_hours"])
    sources = state["sources"]
    if not sources:
        return fail("no_sources")
    # The newest save of each folder, on any destination whose repository still backs it up.
    last_saved: dict[str, datetime | None] = {}
    for s in sources:
        dates = [_at(d["saved"][s["path"]]) for d in state["destinations"] if (d.get("saved") or {}).get(s["path"])]
        last_saved[s["path"]] = max(dates, default=None)
    for s in sources:  # a newer miss beats an older success
        miss, saved = s.get("last_missed"), last_saved[s["path"]]
        if miss and (saved is None or _at(miss["at"]) > saved):
            return fail(
                "folder_not_saved",
                folder=s["label"],
                when=fr.when(miss["at"]),
                destination=miss["destination"],
                why=miss["text"],
            )
    if all(v is None for v in last_saved.values()):
        lost = _lost(state)
        if lost:
            d = max(lost, key=lambda x: x["repository_lost"]["at"])
            return fail(
                "backups_lost",
                destination=d["label"],
                when=fr.when(d["repository_lost"]["at"]),
                message=d["repository_lost"]["message"] or d["repository_lost"]["code"],
            )
        return fail("no_recent_backup", last="jamais")
    never = [s for s in sources if last_saved[s["path"]] is None]
    if never:
        return fail("folder_never_saved", folder=never[0]["label"])
    oldest = min(v for v in last_saved.values() if v is not None)
    newest = max(v for v in last_saved.values() if v is not None)
    if now - oldest > timedelta(days=7):
        return fail("no_recent_backup", last=fr.when(oldest))
    if now - oldest > limit:
        holder = _holder(state, oldest)
        return warn("backup_late", age=_age(now - oldest), destination=holder)
    failures = [
        d
        for d in state["destinations"]
        if d.get("last_attempt") and d["last_attempt"]["status"] == "failed" and _at(d["last_attempt"]["at"]) > newest
    ]
    if failures:
        d = max(failures, key=lambda x: x["last_attempt"]["at"])
        return warn(
            "newer_failure",
            age=_age(now - newest),
            when=fr.when(d["last_attempt"]["at"]),
            destination=d["label"],
            message=d["last_attempt"]["message"] or d["last_attempt"]["error_code"],
        )
    partial = [
        d
        for d in state["destinations"]
        if d["last_partial"]
        and _at(d["last_partial"]) >= newest
        and not (d["last_success"] and d["last_success"] > d["last_partial"])
    ]
    if partial:
        d = partial[0]
        return warn(
            "partial_backup",
            when=fr.when(d["last_partial"]),
            destination=d["label"],
            message=(d["last_run"] or {}).get("message") or "fichiers illisibles",
        )
    return passed("recent_backup", age=_age(now - oldest), destination=_holder(state, newest))


def _holder(state: dict[str, Any], moment: datetime) -> str:
    """The destination that holds a save made at `moment`."""
    for d in state["destinations"]:
        if any(_at(v) == moment for v in (d.get("saved") or {}).values()):
            return str(d["label"])
    return "?"


@check(
    "SAV-02",
    reasons=(
        "disk_comes_and_goes",
        "immutable_remote",
        "stays_attached",
        "not_enough_history",
        "always_reachable",
        "disconnected_unproven",
        "no_plan",
    ),
    scope="site",
)
def disconnected_copy(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if isinstance(state, Outcome):
        return state
    now = _at(state["now"])
    useful = _copies(state, now)
    for d in useful:
        if d["removable"] and d["attachment"]["state"] == "comes_and_goes":
            return passed(
                "disk_comes_and_goes",
                destination=d["label"],
                last_absent=fr.when(d["attachment"]["last_absent"]),
            )
    for d in useful:
        if d["immutable"]:
            return passed("immutable_remote", destination=d["label"])
    removable = [d for d in state["destinations"] if d["removable"]]
    unproven = [d for d in removable if d["attachment"]["state"] == "comes_and_goes"]
    if unproven:
        return fail("disconnected_unproven", destination=unproven[0]["label"])
    attached = [d for d in removable if d["attachment"]["state"] == "stays_attached"]
    if attached:
        since = attached[0]["attachment"]["attached_since"]
        return fail("stays_attached", destination=attached[0]["label"], since=fr.when(since) if since else "?")
    early = [d for d in removable if d["attachment"]["state"] == "too_early"]
    if early:
        return unknown("not_enough_history", destination=early[0]["label"])
    return fail("always_reachable", destinations=", ".join(d["label"] for d in state["destinations"]))


@check(
    "SAV-03",
    reasons=("drill_recent", "drill_failed", "drill_old", "no_drill", "repository_lost", "no_plan"),
    scope="site",
)
def restore_tested(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if isinstance(state, Outcome):
        return state
    now = _at(state["now"])
    failed = [
        d
        for d in state["destinations"]
        if d["last_drill"]
        and d["last_drill"]["status"] == "failed"
        and not (d["last_passed_drill"] and d["last_passed_drill"] > d["last_drill"]["at"])
    ]
    if failed:
        d = max(failed, key=lambda x: x["last_drill"]["at"])
        x = d["last_drill"]
        return fail(
            "drill_failed", when=fr.when(x["at"]), destination=d["label"], message=x["message"] or x["error_code"]
        )
    passes = [(d, _at(d["last_passed_drill"])) for d in state["destinations"] if d["last_passed_drill"]]
    if not passes:
        lost = _lost(state)
        if lost:
            d = max(lost, key=lambda x: x["repository_lost"]["at"])
            return fail(
                "repository_lost",
                destination=d["label"],
                when=fr.when(d["repository_lost"]["at"]),
                message=d["repository_lost"]["message"] or d["repository_lost"]["code"],
            )
        return fail("no_drill", when="jamais")
    d, when = max(passes, key=lambda p: p[1])
    if now - when <= timedelta(days=state["thresholds"]["max_drill_age_days"]):
        drill = d["last_drill"] or {}
        files = int(drill.get("files_checked") or 0)
        compared = drill.get("compared")
        return passed(
            "drill_recent",
            when=fr.when(when),
            destination=d["label"],
            files=files,
            compared=files if compared is None else compared,
            size=fr.size(int(drill.get("bytes_checked") or 0)),
        )
    if now - when <= timedelta(days=365):
        return warn("drill_old", when=fr.when(when))
    return fail("no_drill", when=fr.when(when))


@check("SAV-04", reasons=("restic_encrypted", "volume_not_encrypted", "no_copy", "no_plan"), scope="site")
def encrypted_backups(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if isinstance(state, Outcome):
        return state
    if not [d for d in _copies(state, _at(state["now"])) if _current(d)]:
        return unknown("no_copy")  # no proven, current backup: "encrypted" would describe nothing
    removable = [d for d in state["destinations"] if d["removable"]]
    clear = [d for d in removable if d["volume_encrypted"] is False]
    if clear:
        return warn("volume_not_encrypted", destination=clear[0]["label"])
    volumes = (
        ", ".join(
            f"{d['label']} ({'chiffré' if d['volume_encrypted'] else 'chiffrement du disque non vu'})"
            for d in removable
        )
        or "aucun"
    )
    return passed("restic_encrypted", volumes=volumes)


@check("SAV-05", reasons=("rule_321_met", "rule_321_missing", "no_plan"), scope="site")
def three_two_one(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if isinstance(state, Outcome):
        return state
    now = _at(state["now"])
    current = _copies(state, now)
    # The live data is the first copy, but only while every folder is really there and whole.
    gone = [s for s in state["sources"] if s.get("condition") and s["condition"].get("state") in PROBLEMS]
    original = 0 if gone else 1
    copies = original + len(current)
    media = ({"disque interne"} if original else set()) | {MEDIA[d["kind"]] for d in current}
    places = ({"pharmacie"} if original else set()) | {d["place"] for d in current}
    values = {"copies": copies, "media": len(media), "places": ", ".join(sorted(places)) or "aucun"}
    missing = []
    if gone:
        missing.append("l'original ne compte pas : " + gone[0]["condition"]["text"])
    if copies < 3:
        missing.append(f"il faut 3 copies à jour (original compris), il y en a {copies}")
    if len(media) < 2:
        missing.append("il faut 2 types de support différents")
    if not places - {"pharmacie"}:
        missing.append("aucune copie n'est hors de la pharmacie")
    if missing:
        return fail("rule_321_missing", missing=" ; ".join(missing), **values)
    return passed("rule_321_met", **values)


@check(
    "SAV-06",
    reasons=(
        "hds_ok",
        "cloud_not_hds",
        "hds_expired",
        "no_cloud",
        "no_plan",
        "provider_not_hds",
        "provider_hds_no_date",
        "provider_hds_expired",
        "provider_hds_soon",
        "provider_hds_ok",
    ),
    scope="site",
)
def hds_only(ctx: CheckContext) -> Outcome:
    """Backups hosted online (the plan) and providers hosting health data (the providers'
    register): the worst of them. When neither hosts anything, the answer decides."""
    from officine.checks.registers import hosting_findings  # noqa: PLC0415 - one registry of checks

    backups = _hds_of_backups(ctx)
    providers = hosting_findings(ctx)
    if not providers:
        return backups
    if backups.reason == "no_plan":  # backups elsewhere cannot be seen: the answer still counts
        return ctx.with_answer(worst(providers))
    hosted_backups = backups.reason != "no_cloud"
    return worst([*(backups.items() if hosted_backups else ()), *providers])


def _hds_of_backups(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if isinstance(state, Outcome):
        return state
    today = date.fromisoformat(state["now"][:10])
    hosted = [d for d in state["destinations"] if d["kind"] == "cloud" or d["place"] == "cloud"]
    if not hosted:
        decided = ctx.answer_or_needs()
        return Outcome(decided.verdict, "no_cloud", decided.values)
    not_hds = [d["label"] for d in hosted if not (d["hds"] or {}).get("certified")]
    if not_hds:
        return fail("cloud_not_hds", destinations=", ".join(not_hds))
    expired = [
        d["label"]
        for d in hosted
        if (d["hds"] or {}).get("expires") and date.fromisoformat(d["hds"]["expires"]) < today
    ]
    if expired:
        return fail("hds_expired", destinations=", ".join(expired))
    return passed(
        "hds_ok",
        destinations=", ".join(f"{d['label']} (réf. {(d['hds'] or {}).get('reference') or '?'})" for d in hosted),
    )
