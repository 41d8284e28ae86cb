"""Accounts and workstation lock (ACC-*, VER-*)."""

from __future__ import annotations

from typing import Any

from officine.catalogue.model import Verdict
from officine.checks.base import (
    CheckContext,
    Finding,
    Outcome,
    check,
    finding,
    not_applicable,
    passed,
    unknown,
    warn,
    worst,
)
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
    entries = fact.value.get("entries") or []
    if fact.value.get("enabled") and entries:
        # Every place that logs someone in by itself: removing one leaves the others.
        return worst(
            [
                finding(
                    Verdict.fail,
                    "autologin",
                    str(e.get("file") or e.get("source")),
                    user=e.get("user"),
                    source=e.get("file") or e.get("source"),
                )
                for e in entries
            ]
        )
    return ctx.with_answer(passed("no_autologin"))


@check(
    "ACC-02",
    reasons=(
        "extra_root",
        "no_admin_daily",
        "some_admins",
        "all_admins",
        "only_root",
        "no_named_account",
        "admins_only",
        "group_everyone",
        "group_domain_admins",
        "group_admin",
        "unresolved_admins",
    ),
)
def no_daily_admin(ctx: CheckContext) -> Outcome:
    value = ctx.fact("accounts.admins")
    findings: list[Finding] = [finding(Verdict.fail, "extra_root", a, account=a) for a in value.get("extra_uid0") or []]
    findings += [_group_finding(g) for g in value.get("admin_groups") or []]
    unresolved = value.get("unresolved") or []
    if unresolved:
        findings.append(
            finding(
                Verdict.passed, "unresolved_admins", "unresolved", sids=", ".join(unresolved), count=len(unresolved)
            )
        )
    humans, admins = value.get("humans") or [], value.get("admins") or []
    others = [h for h in humans if h not in admins]
    if admins and value.get("humans_complete") is False:
        # Only the administrators were read: whether other, daily accounts exist is not known.
        findings += [finding(Verdict.warn, "admins_only", a, account=a) for a in admins]
    elif not humans:
        # Windows and macOS have no root to log in with: people then share the built-in administrator.
        findings.append(finding(Verdict.warn, "only_root" if ctx.platform == "linux" else "no_named_account"))
    elif not admins:
        findings.append(finding(Verdict.passed, "no_admin_daily", humans=", ".join(humans)))
    elif not others:
        # Every account is an administrator: the daily work is done with full rights.
        findings += [finding(Verdict.fail, "all_admins", a, account=a) for a in admins]
    else:
        findings += [finding(Verdict.warn, "some_admins", a, account=a, others=", ".join(others)) for a in admins]
    return worst(findings)


def _group_finding(group: dict[str, Any]) -> Finding:
    """A group in Administrators is not a person: what matters is whom it makes an administrator."""
    name, kind = str(group.get("name")), group.get("kind")
    source = group.get("source") or "local"
    if kind == "everyone":
        return finding(Verdict.fail, "group_everyone", name, group=name, source=source)
    if kind in ("domain_admins", "entra_role"):
        return finding(Verdict.passed, "group_domain_admins", name, group=name, source=source)
    return finding(Verdict.warn, "group_admin", name, group=name, source=source)


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

    findings = [_lock_finding(label(s), s["lock_after_s"], s.get("source")) for s in sessions]
    findings += [
        finding(Verdict.unknown, "users_undetermined", u["user"], users=u["user"], detail=u.get("detail"))
        for u in undetermined
    ]
    if not findings:
        return unknown("users_undetermined", users="aucune session", detail="aucun réglage lu")
    return worst(findings)


def _lock_finding(session: str, seconds: int | None, source: str | None = None) -> Finding:
    if seconds is None:
        # Say which setting decided it: "no screen saver chosen" is not "no timeout".
        return finding(Verdict.fail, "never_locks", session, sessions=session, how=f" ({source})" if source else "")
    delay = _describe(seconds)
    if seconds > LOCK_MAX_S:
        return finding(Verdict.fail, "lock_too_slow", session, delay=delay, session=session)
    if seconds > LOCK_GOOD_S:
        return finding(Verdict.warn, "lock_slow", session, delay=delay, session=session)
    return finding(Verdict.passed, "lock_ok", session, delay=delay, session=session)


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
