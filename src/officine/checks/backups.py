"""Backups (SAV-*): judged once for the site, from the guardian's records."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from officine.catalogue.model import Verdict
from officine.checks.base import CheckContext, Outcome, check, fail, passed, unknown, warn
from officine.dates import moment
from officine.facts import FactStatus

RECENT_COPY = timedelta(days=8)  # a copy older than this no longer counts in 3-2-1
MEDIA = {"disk": "disque externe", "rotated_disk": "disque externe", "network": "réseau", "cloud": "en ligne"}


def _state(ctx: CheckContext) -> dict[str, Any] | None:
    fact = ctx.optional("backup.state")
    return fact.value if fact is not None and fact.status is FactStatus.observed else None


def _no_plan(ctx: CheckContext) -> Outcome:
    """Without a plan nothing can be observed: the answer decides, and the finding says that
    backups cannot be verified (something to set up), never that they do not concern the site."""
    decided = ctx.answer_or_needs()
    return Outcome(decided.verdict, "no_plan", decided.values, observed=Verdict.unknown)


def _latest(state: dict[str, Any], key: str) -> tuple[dict[str, Any], datetime] | None:
    """The destination with the most recent `key` timestamp, and that time."""
    dated = [(d, datetime.fromisoformat(d[key])) for d in state["destinations"] if d.get(key)]
    return max(dated, key=lambda pair: pair[1], default=None)


def _recent(state: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Destinations whose last successful backup is recent enough to count as a copy."""
    return [
        d
        for d in state["destinations"]
        if d["last_success"] and now - datetime.fromisoformat(d["last_success"]) <= RECENT_COPY
    ]


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "moins d'une heure"
    return f"{hours} h" if hours < 48 else f"{hours // 24} jours"


def _when(value: datetime) -> str:
    return moment(value)  # Paris time, as people read it


def _size(n: int) -> str:
    for unit in ("octets", "Ko", "Mo", "Go"):
        if n < 1024 or unit == "Go":
            return f"{n:.0f} {unit}" if unit == "octets" else f"{n:.1f} {unit}".replace(".", ",")
        n /= 1024  # type: ignore[assignment]
    return str(n)


@check(
    "SAV-01",
    reasons=("recent_backup", "partial_backup", "backup_late", "no_recent_backup", "no_plan"),
    scope="site",
)
def daily_backup(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if state is None:
        return _no_plan(ctx)
    now = datetime.fromisoformat(state["now"])
    limit = timedelta(hours=state["thresholds"]["max_backup_age_hours"])
    best = _latest(state, "last_success")
    last_partial = _latest(state, "last_partial")
    if best is not None and now - best[1] <= limit:
        return passed("recent_backup", age=_age(now - best[1]), destination=best[0]["label"])
    if last_partial is not None and now - last_partial[1] <= limit:
        d = last_partial[0]
        return warn(
            "partial_backup",
            when=_when(last_partial[1]),
            destination=d["label"],
            message=(d["last_run"] or {}).get("message") or "fichiers illisibles",
        )
    if best is not None and now - best[1] <= timedelta(days=7):
        return warn("backup_late", age=_age(now - best[1]), destination=best[0]["label"])
    return fail("no_recent_backup", last=_when(best[1]) if best else "jamais")


@check(
    "SAV-02",
    reasons=(
        "disk_comes_and_goes",
        "immutable_remote",
        "stays_attached",
        "not_enough_history",
        "always_reachable",
        "no_plan",
    ),
    scope="site",
)
def disconnected_copy(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if state is None:
        return _no_plan(ctx)
    now = datetime.fromisoformat(state["now"])
    useful = _recent(state, now)
    for d in useful:
        if d["removable"] and d["attachment"]["state"] == "comes_and_goes":
            return passed(
                "disk_comes_and_goes",
                destination=d["label"],
                last_absent=_when(datetime.fromisoformat(d["attachment"]["last_absent"])),
            )
    for d in useful:
        if d["immutable"]:
            return passed("immutable_remote", destination=d["label"])
    removable = [d for d in state["destinations"] if d["removable"]]
    attached = [d for d in removable if d["attachment"]["state"] == "stays_attached"]
    if attached:
        since = attached[0]["attachment"]["attached_since"]
        return fail(
            "stays_attached",
            destination=attached[0]["label"],
            since=_when(datetime.fromisoformat(since)) if since else "?",
        )
    early = [d for d in removable if d["attachment"]["state"] == "too_early"]
    if early:
        return unknown("not_enough_history", destination=early[0]["label"])
    return fail("always_reachable", destinations=", ".join(d["label"] for d in state["destinations"]))


@check("SAV-03", reasons=("drill_recent", "drill_failed", "drill_old", "no_drill", "no_plan"), scope="site")
def restore_tested(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if state is None:
        return _no_plan(ctx)
    now = datetime.fromisoformat(state["now"])
    drills = [(d, d["last_drill"]) for d in state["destinations"] if d["last_drill"]]
    failed = [(d, x) for d, x in drills if x["status"] == "failed"]
    if failed:
        d, x = max(failed, key=lambda p: p[1]["at"])
        newer_pass = d["last_passed_drill"] and d["last_passed_drill"] > x["at"]
        if not newer_pass:
            return fail(
                "drill_failed",
                when=_when(datetime.fromisoformat(x["at"])),
                destination=d["label"],
                message=x["message"] or x["error_code"],
            )
    passes = [
        (d, datetime.fromisoformat(d["last_passed_drill"])) for d in state["destinations"] if d["last_passed_drill"]
    ]
    if not passes:
        return fail("no_drill", when="jamais")
    d, when = max(passes, key=lambda p: p[1])
    if now - when <= timedelta(days=state["thresholds"]["max_drill_age_days"]):
        drill = d["last_drill"] or {}
        return passed(
            "drill_recent",
            when=_when(when),
            destination=d["label"],
            files=drill.get("files_checked"),
            size=_size(int(drill.get("bytes_checked") or 0)),
        )
    if now - when <= timedelta(days=365):
        return warn("drill_old", when=_when(when))
    return fail("no_drill", when=_when(when))


@check("SAV-04", reasons=("restic_encrypted", "volume_not_encrypted", "no_plan"), scope="site")
def encrypted_backups(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if state is None:
        return _no_plan(ctx)
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
    if state is None:
        return _no_plan(ctx)
    now = datetime.fromisoformat(state["now"])
    current = _recent(state, now)
    copies = 1 + len(current)  # the live data counts as the first copy
    media = {"disque interne"} | {MEDIA[d["kind"]] for d in current}
    places = {"pharmacie"} | {d["place"] for d in current}
    values = {"copies": copies, "media": len(media), "places": ", ".join(sorted(places))}
    missing = []
    if copies < 3:
        missing.append(f"il faut 3 copies à jour (original compris), il y en a {copies}")
    if len(media) < 2:
        missing.append("il faut 2 types de support différents")
    if places == {"pharmacie"}:
        missing.append("aucune copie n'est hors de la pharmacie")
    if missing:
        return fail("rule_321_missing", missing=" ; ".join(missing), **values)
    return passed("rule_321_met", **values)


@check("SAV-06", reasons=("hds_ok", "cloud_not_hds", "hds_expired", "no_cloud", "no_plan"), scope="site")
def hds_only(ctx: CheckContext) -> Outcome:
    state = _state(ctx)
    if state is None:
        return _no_plan(ctx)
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
