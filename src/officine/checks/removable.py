"""Professional and personal uses, removable media (AMO-*)."""

from __future__ import annotations

from typing import Any

from officine.catalogue.model import Verdict
from officine.checks.base import CheckContext, Outcome, check, finding, passed, warn, worst
from officine.facts import FactStatus


def _normalise(device_id: str) -> str:
    return device_id.strip().upper().replace("/", "\\")


def _approved(device: dict[str, Any], approved: set[str]) -> bool:
    """A device is approved by its serial number, its instance ID or its full Windows device ID."""
    full = _normalise(str(device.get("id", "")))
    ids = {full, full.rsplit("\\", 1)[-1]}
    if device.get("serial"):
        ids.add(_normalise(str(device["serial"])))
    return bool(ids & approved)


def _describe(devices: list[dict[str, Any]]) -> str:
    return ", ".join(f"{d.get('name')} ({d.get('id')})" for d in devices)


@check(
    "AMO-01",
    reasons=(
        "usb_blocked",
        "usb_unapproved",
        "usb_all_approved",
        "usb_history_unlisted",
        "usb_none_seen",
        "usb_allowed",
        "usb_unknown",
    ),
)
def personal_media(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("removable.usb_storage")
    if fact is not None and fact.status is FactStatus.observed and fact.value.get("blocked"):
        return passed("usb_blocked", mechanism=fact.value.get("mechanism"))
    history = ctx.optional("removable.usb_history")
    if history is not None and history.status is FactStatus.observed:
        devices = history.value.get("devices") or []
        if not devices:
            return ctx.with_answer(passed("usb_none_seen"))
        declared = ctx.optional("removable.approved_usb")
        if declared is None or declared.status is not FactStatus.observed:
            # Devices were plugged in, but nobody said which ones belong to the pharmacy.
            return ctx.with_answer(warn("usb_history_unlisted", devices=_describe(devices), count=len(devices)))
        approved = {_normalise(str(d)) for d in declared.value.get("devices") or []}
        foreign = [d for d in devices if not _approved(d, approved)]
        if foreign:
            return worst(
                [finding(Verdict.fail, "usb_unapproved", str(d.get("id")), devices=_describe([d])) for d in foreign]
            )
        return ctx.with_answer(passed("usb_all_approved", count=len(devices), devices=_describe(devices)))
    # Storage allowed (or not observable): what people actually plug in decides.
    decided = ctx.answer_or_needs()
    reason = "usb_allowed" if fact is not None and fact.status is FactStatus.observed else "usb_unknown"
    return Outcome(decided.verdict, reason, decided.values)


@check("AMO-02", reasons=("cloud_client", "no_cloud_client"))
def personal_uses(ctx: CheckContext) -> Outcome:
    fact = ctx.optional("software.cloud_sync")
    clients = fact.value.get("clients", []) if fact is not None and fact.status is FactStatus.observed else []
    if clients:
        return ctx.with_answer(
            worst([finding(Verdict.warn, "cloud_client", c["name"], clients=c["name"]) for c in clients])
        )
    decided = ctx.answer_or_needs()
    return Outcome(decided.verdict, "no_cloud_client", decided.values)
