"""Windows USB storage history (USBSTOR keys) and time service (W32Time registry, service state,
then `w32tm /query /status`, read in any display language)."""

from __future__ import annotations

from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects, observation
from officine.collectors.windows.os_info import boot_time
from officine.facts import Fact, observed, unknown
from officine.host.base import Host, ObsStatus
from officine.parsers import ParseError
from officine.parsers.windows import parse_w32tm_status, usb_storage_devices

SYNC_TYPES = ("NTP", "NT5DS", "ALLSYNC")


def _first(rows: list[dict[str, Any]] | Fact) -> dict[str, Any] | None:
    return rows[0] if isinstance(rows, list) and rows else None


def usb_history(host: Host) -> Fact:
    obs, rows = objects(host, "removable.usbstor_history")
    if obs.status is ObsStatus.missing:  # the key exists once a USB storage device has been connected
        return observed({"devices": []}, obs)
    if isinstance(rows, Fact):
        return rows
    return observed({"devices": usb_storage_devices(rows)}, obs)


def time_sync(host: Host) -> Fact:
    r_obs, registry = objects(host, "time.w32time")
    s_obs, service = objects(host, "time.service")
    t_obs = observation(host, "time.status")
    try:
        status = parse_w32tm_status(t_obs.output or "") if t_obs.ok else None
    except ParseError:
        status = None
    values, state = _first(registry), _first(service)
    # Configured and allowed to run: the registry type AND the service's start mode must both be seen.
    sync_type = str((values or {}).get("Type") or "").upper()
    enabled = (
        sync_type in SYNC_TYPES and str(state.get("StartMode") or "").lower() != "disabled"
        if values is not None and state is not None
        else None
    )
    running = str((state or {}).get("State") or "").lower() == "running" if state is not None else None
    c_obs, cim = objects(host, "os.cim")
    boot_row = _first(cim)
    booted = boot_time(boot_row.get("LastBootUpTime")) if boot_row else None
    if status is None and enabled is None:
        failed = next((f for f in (registry, service) if isinstance(f, Fact)), None)
        return failed or unknown("parse_error", "service de temps : rien de lisible", r_obs, s_obs, t_obs)
    return observed(
        {
            "synchronized": None if status is None else status["synchronized"],
            "ntp_enabled": bool(enabled),
            # A synchronisation service counts only when it runs.
            "daemons": [f"W32Time ({sync_type})"] if enabled and running else [],
            "service_running": running,
            "source": f"w32tm : {status['source']}" if status is not None else f"W32Time {sync_type or '?'}",
            "service_state": (state or {}).get("State"),
            "booted_at": booted,  # a clock still unsynchronised a day after start-up will not fix itself
        },
        r_obs,
        s_obs,
        t_obs,
        c_obs,
    )


@collector("windows.usb_time", platforms=("windows",), facts=("removable.usb_history", "time.sync"))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    return {"removable.usb_history": usb_history(host), "time.sync": time_sync(host)}
