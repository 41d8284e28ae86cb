"""Professional and personal uses, removable media (AMO-*)."""

from __future__ import annotations

from officine.checks.base import CheckContext, Outcome, check, passed, warn
from officine.facts import FactStatus


@check("AMO-01", reasons=("usb_blocked", "usb_allowed", "usb_unknown"))
def personal_media(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("removable.usb_storage")
    if fact is not None and fact.status is FactStatus.observed and fact.value.get("blocked"):
        return passed("usb_blocked", mechanism=fact.value.get("mechanism"))
    # Storage allowed (or not observable): what people actually plug in decides.
    decided = ctx.answer_or_needs()
    reason = "usb_allowed" if fact is not None and fact.status is FactStatus.observed else "usb_unknown"
    return Outcome(decided.verdict, reason, decided.values)


@check("AMO-02", reasons=("cloud_client", "no_cloud_client"))
def personal_uses(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("software.cloud_sync")
    clients = fact.value.get("clients", []) if fact is not None and fact.status is FactStatus.observed else []
    if clients:
        return ctx.with_answer(warn("cloud_client", clients=", ".join(c["name"] for c in clients)))
    decided = ctx.answer_or_needs()
    return Outcome(decided.verdict, "no_cloud_client", decided.values)
