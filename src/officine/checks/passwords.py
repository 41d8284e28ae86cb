"""Passwords (MDP-*)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from officine.catalogue.model import Verdict
from officine.checks.base import CheckContext, Finding, Outcome, check, fail, finding, passed, unknown, warn, worst
from officine.facts import FactStatus

STRONG_LENGTH = 12  # CNIL 2022-100 case 1 example; MonAideCyber
MIN_WITH_LOCKOUT = 8  # CNIL 2022-100 case 2: shorter passwords only with attempt limits
MAX_DENY = 10
NO_EXPIRY = 99999
MAX_AUDIT_AGE_DAYS = 365  # an older password-manager audit no longer tells how it is used
MAX_AUDIT_FINDINGS = 30  # evidence lines from one audit; the rest are counted in one more line
SOURCES = {"keepass": "KeePass", "bitwarden": "Bitwarden", "firefox": "Firefox", "chrome": "Chrome"}


def _audit(ctx: CheckContext) -> dict[str, Any] | None:
    """The latest password-manager audit, if there is one and it is recent."""
    fact = ctx.optional("passwords.audit")
    if fact is None or fact.status is not FactStatus.observed:
        return None
    value: dict[str, Any] = fact.value
    return value if value["age_days"] <= MAX_AUDIT_AGE_DAYS else None


def _audit_values(audit: dict[str, Any]) -> dict[str, Any]:
    when = datetime.fromisoformat(audit["audited_at"])
    return {"date": f"{when:%d/%m/%Y}", "entries": audit["entries"], "source": SOURCES.get(audit["source"], "?")}


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


@check("MDP-04", reasons=("manager_found", "manager_absent", "manager_audited"))
def password_manager(ctx: CheckContext) -> Outcome:
    audit = _audit(ctx)
    if audit is not None and audit["entries"] > 0:
        # A vault with entries, audited this year, shows the manager in use: that is what the
        # question asks; an answer given anyway still counts if it is worse.
        audited = passed("manager_audited", **_audit_values(audit))
        answered = ctx.answer()
        return audited if answered is None else ctx.with_answer(audited)
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


@check(
    "MDP-05",
    reasons=(
        "audit_clean",
        "reused",
        "common",
        "leaked",
        "weak",
        "weak_length",
        "similar",
        "empty",
        "more",
        "no_audit",
    ),
    scope="site",
)
def unique_passwords(ctx: CheckContext) -> Outcome:
    """Judged from the latest password-manager audit; the notes near the workstations (the
    second question) are no machine's to see, so an answer is still needed."""
    audit = _audit(ctx)
    if audit is None:
        decided = ctx.answer_or_needs()
        return Outcome(decided.verdict, "no_audit", decided.values, observed=Verdict.not_applicable)
    values = _audit_values(audit)
    items: list[Finding] = []
    for f in audit["findings"]:
        titles = ", ".join(f["titles"])
        kind, detail = f["kind"], f.get("detail") or {}
        if kind == "reused":
            items.append(finding(Verdict.fail, "reused", titles, titles=titles, count=detail.get("count"), **values))
        elif kind in ("common", "leaked"):
            items.append(finding(Verdict.fail, kind, titles, titles=titles, times=detail.get("times"), **values))
        elif kind == "weak":
            only_length = detail.get("problems") == ["cnil"]
            verdict = Verdict.warn if only_length else Verdict.fail
            items.append(finding(verdict, "weak_length" if only_length else "weak", titles, titles=titles, **values))
        elif kind in ("similar", "empty"):
            items.append(finding(Verdict.warn, kind, titles, titles=titles, **values))
    if not items:
        return ctx.with_answer(passed("audit_clean", **values))
    shown = sorted(items, key=lambda i: i.verdict is not Verdict.fail)[:MAX_AUDIT_FINDINGS]
    if len(items) > len(shown):
        rest = items[len(shown) :]
        verdict = Verdict.fail if any(i.verdict is Verdict.fail for i in rest) else Verdict.warn
        shown.append(Finding(verdict, "more", {"count": len(rest), **values}))
    return ctx.with_answer(worst(shown))
