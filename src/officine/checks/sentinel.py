"""INC-05: the ransomware sentinel watches this workstation's data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from officine.checks.base import CheckContext, Outcome, check, fail, passed, unknown

# The sentinel rewrites its status file every 2 seconds: older than this at collection time, it
# is not watching anything, whatever the service manager says.
STALE_AFTER_S = 120
RUNNING_STATES = ("active", "reloading", "activating")
STOPPED_STATES = ("inactive", "failed", "deactivating")


def _age(status: dict[str, Any], collected_at: datetime) -> float | None:
    updated = status.get("updated_at")
    if not isinstance(updated, str):
        return None
    try:
        return (collected_at - datetime.fromisoformat(updated)).total_seconds()
    except (ValueError, TypeError):
        return None


@check(
    "INC-05",
    reasons=("sentinel_active", "sentinel_absent", "sentinel_stopped", "sentinel_silent", "sentinel_unverifiable"),
)
def sentinel_running(ctx: CheckContext) -> Outcome:
    value = ctx.fact("sentinel.service")
    if not value.get("installed"):
        return fail("sentinel_absent")
    state = value.get("unit_state")
    if state in STOPPED_STATES:
        return fail("sentinel_stopped", state=state)
    status = value.get("status")
    age = _age(status, ctx.collected_at) if isinstance(status, dict) else None
    fresh = age is not None and -5 <= age <= STALE_AFTER_S and bool(status and status.get("running"))
    if not fresh:
        if state not in RUNNING_STATES:
            # The service manager could not be asked (mounted disk, no systemd) and the status
            # file does not prove a recent watch: nothing observed says either way.
            return unknown("sentinel_unverifiable")
        return fail("sentinel_silent", age="inconnue" if age is None else f"{int(age // 60)} min")
    folders = (status or {}).get("folders") or []
    return passed(
        "sentinel_active",
        folders=", ".join(str(f) for f in folders),
        count=len(folders),
        mode=(status or {}).get("mode") or "?",
    )
