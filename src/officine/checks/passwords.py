"""Passwords (MDP-*)."""

from __future__ import annotations

from officine.catalogue.model import Verdict
from officine.checks.base import CheckContext, Outcome, check, fail, finding, passed, unknown, warn, worst
from officine.facts import FactStatus

STRONG_LENGTH = 12  # CNIL 2022-100 case 1 example; MonAideCyber
MIN_WITH_LOCKOUT = 8  # CNIL 2022-100 case 2: shorter passwords only with attempt limits
MAX_DENY = 10
NO_EXPIRY = 99999


@check("MDP-01", reasons=("long_enough", "short_with_lockout", "too_short", "no_rule"))
def min_length(ctx: CheckContext) -> Outcome:
    length = ctx.fact("password.min_length")
    value = int(length.get("value") or 0)
    if not length.get("module") and value == 0:
        return fail("no_rule")
    if value >= STRONG_LENGTH:
        return passed("long_enough", length=value, module=length.get("module"))
    lockout = ctx.optional("password.lockout")
    locked = lockout is not None and lockout.status is FactStatus.observed and lockout.value.get("enabled")
    if value >= MIN_WITH_LOCKOUT and locked:
        return warn("short_with_lockout", length=value, module=length.get("module"))
    return fail("too_short", length=value, module=length.get("module"))


@check("MDP-02", reasons=("lockout_ok", "lockout_ok_admin_unlock", "lockout_ok_no_delay", "lockout_lax", "no_lockout"))
def lockout(ctx: CheckContext) -> Outcome:
    value = ctx.fact("password.lockout")
    if not value.get("enabled"):
        return fail("no_lockout")
    deny = value.get("deny")
    if isinstance(deny, int) and deny <= MAX_DENY:
        unlock = value.get("unlock_time_s")
        if isinstance(unlock, int):
            return passed("lockout_ok", deny=deny, unlock_time_s=unlock, module=value.get("module"))
        if value.get("unlock_by_admin"):
            return passed("lockout_ok_admin_unlock", deny=deny, module=value.get("module"))
        return passed("lockout_ok_no_delay", deny=deny, module=value.get("module"))
    return warn("lockout_lax", deny=deny, module=value.get("module"))


@check("MDP-03", reasons=("empty_password", "no_empty_password", "accounts_unreadable"))
def no_empty_password(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("accounts.empty_passwords")
    if fact is None or fact.status is not FactStatus.observed:
        detail = fact.detail if fact is not None else None
        return ctx.with_answer(
            unknown("accounts_unreadable", detail=detail or "non collecté", fact="accounts.empty_passwords")
        )
    accounts = fact.value.get("accounts") or []
    if accounts:
        return worst([finding(Verdict.fail, "empty_password", a, accounts=a) for a in accounts])
    return ctx.with_answer(passed("no_empty_password", checked=fact.value.get("checked")))


@check("MDP-04", reasons=("manager_found", "manager_absent"))
def password_manager(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("software.password_manager")
    found = fact.value.get("found") if fact is not None and fact.status is FactStatus.observed else None
    if found:
        return ctx.with_answer(passed("manager_found", names=", ".join(found)))
    # Not on this machine: the team may use one elsewhere, so the answer decides.
    decided = ctx.answer_or_needs()
    return Outcome(decided.verdict, "manager_absent", decided.values)


@check("MDP-06", reasons=("no_expiry", "long_expiry", "forced_expiry"))
def no_forced_expiry(ctx: CheckContext) -> Outcome:
    value = ctx.fact("password.max_age")
    days = int(value.get("days", NO_EXPIRY))
    if days <= 0 or days >= NO_EXPIRY:
        # Quote the setting as written (MaximumPasswordAge = -1), not the number it stands for.
        shown = value.get("raw") if value.get("raw") is not None else days
        return passed("no_expiry", days=shown, setting=value.get("setting"))
    if days >= 365:
        return passed("long_expiry", days=days, setting=value.get("setting"))
    return warn("forced_expiry", days=days, setting=value.get("setting"))
