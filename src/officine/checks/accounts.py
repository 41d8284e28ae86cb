"""Accounts and workstation lock (ACC-*, VER-*)."""

from __future__ import annotations

from typing import Any

from officine.checks.base import CheckContext, Outcome, check, fail, not_applicable, passed, unknown, warn
from officine.facts import FactStatus

LOCK_GOOD_S = 15 * 60  # CIS / STIG
LOCK_MAX_S = 30 * 60  # PGSSI-S "generally adapted"


@check("ACC-01", reasons=("autologin", "no_autologin", "no_display_manager", "autologin_unknown"))
def no_automatic_logon(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("accounts.autologin")
    if fact is None or fact.status is FactStatus.unknown:
        return ctx.with_answer(unknown("autologin_unknown", detail=fact.detail if fact else "non collecté"))
    if fact.status is FactStatus.not_applicable:
        decided = ctx.answer_or_needs()
        return Outcome(decided.verdict, "no_display_manager", decided.values)
    if fact.value.get("enabled"):
        entry = fact.value["entries"][0]
        return fail("autologin", user=entry.get("user"), source=entry.get("file") or entry.get("source"))
    return ctx.with_answer(passed("no_autologin"))


@check("ACC-02", reasons=("extra_root", "no_admin_daily", "some_admins", "all_admins", "only_root", "admins_only"))
def no_daily_admin(ctx: CheckContext) -> Outcome:
    value = ctx.fact("accounts.admins")
    if value.get("extra_uid0"):
        return fail("extra_root", accounts=", ".join(value["extra_uid0"]))
    humans, admins = value.get("humans") or [], value.get("admins") or []
    if admins and value.get("humans_complete") is False:
        # Only the administrators were read: whether other, daily accounts exist is not known.
        return warn("admins_only", admins=", ".join(admins))
    if not humans:
        return warn("only_root")
    if not admins:
        return passed("no_admin_daily", humans=", ".join(humans))
    if set(humans) <= set(admins):
        return fail("all_admins", admins=", ".join(admins))
    return warn("some_admins", admins=", ".join(admins), others=", ".join(h for h in humans if h not in admins))


def _describe(seconds: int | None) -> str:
    if seconds is None:
        return "jamais"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")


@check("VER-01", reasons=("lock_ok", "lock_slow", "lock_too_slow", "never_locks", "users_undetermined"))
def inactivity_lock(ctx: CheckContext) -> Outcome:
    value = ctx.fact("screenlock.sessions")
    sessions: list[dict[str, Any]] = []
    undetermined: list[dict[str, Any]] = []
    for desktop in value.get("desktops", []):
        users = [s for s in desktop.get("sessions", []) if s.get("scope") == "user"]
        # With no user account to look at, the system-wide value is what a new session gets.
        sessions += users or [s for s in desktop.get("sessions", []) if s.get("scope") == "system"]
        undetermined += desktop.get("undetermined", [])

    def label(s: dict[str, Any]) -> str:
        return s.get("user") or "réglage du système"

    never = [s for s in sessions if s.get("lock_after_s") is None]
    if never:
        return fail("never_locks", sessions=", ".join(label(s) for s in never))
    worst = max(sessions, key=lambda s: s["lock_after_s"], default=None)
    if worst is not None and worst["lock_after_s"] > LOCK_MAX_S:
        return fail("lock_too_slow", delay=_describe(worst["lock_after_s"]), session=label(worst))
    if undetermined:
        return unknown(
            "users_undetermined",
            users=", ".join(u["user"] for u in undetermined),
            detail=undetermined[0].get("detail"),
        )
    if worst is None:
        return unknown("users_undetermined", users="aucune session", detail="aucun réglage lu")
    if worst["lock_after_s"] > LOCK_GOOD_S:
        return warn("lock_slow", delay=_describe(worst["lock_after_s"]), session=label(worst))
    return passed("lock_ok", delay=_describe(worst["lock_after_s"]), session=label(worst), count=len(sessions))


@check("VER-02", reasons=("removal_locks", "no_removal_action", "removal_unknown"))
def card_removal_locks(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("smartcard.removal_action")
    if fact is None or fact.status is not FactStatus.observed:
        if fact is not None and fact.status is FactStatus.not_applicable:
            return not_applicable("removal_unknown", detail=fact.detail)
        return ctx.with_answer(unknown("removal_unknown", detail=fact.detail if fact else "non collecté"))
    action = fact.value.get("action")
    if action in ("lock", "logoff", "disconnect"):
        return ctx.with_answer(passed("removal_locks", action=action))
    return ctx.with_answer(warn("no_removal_action", action=action))
