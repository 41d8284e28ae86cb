"""Windows updates: the installed updates (dates recorded as ISO by collect.ps1), the patch level
(build and UBR), and the Windows Update policy (an absent policy key means Windows' default:
automatic updates)."""

from __future__ import annotations

from datetime import date
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed
from officine.host.base import Host, ObsStatus
from officine.parsers.windows import as_int

# AUOptions of the Windows Update policy: 4 downloads and installs on a schedule; 2 (notify), 3 (download
# only) and 7 (notify to install) leave the installation to a person; 5 lets the local administrator choose.
AUTOMATIC_OPTIONS = {4: True, 2: False, 3: False, 7: False, 5: None}


def automatic_updates(values: dict[str, Any]) -> tuple[bool | None, str]:
    """Whether the policy installs updates by itself, and the setting that says so."""
    if as_int(values.get("NoAutoUpdate")) == 1:
        return False, "NoAutoUpdate = 1"
    options = as_int(values.get("AUOptions"))
    if options is None:
        return True, ""
    return AUTOMATIC_OPTIONS.get(options), f"AUOptions = {options}"


def patch_level(host: Host) -> str | None:
    _, rows = objects(host, "os.currentversion")
    values = rows[0] if isinstance(rows, list) and rows else {}
    build = as_int(values.get("CurrentBuild") or values.get("CurrentBuildNumber"))
    ubr = as_int(values.get("UBR"))
    if build is None:
        return None
    return f"{build}.{ubr}" if ubr is not None else str(build)


@collector("windows.updates", platforms=("windows",), facts=("updates.windows",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    h_obs, hotfixes = objects(host, "updates.hotfixes")
    if isinstance(hotfixes, Fact):
        return {"updates.windows": hotfixes}
    dates = []
    for row in hotfixes:
        try:
            dates.append(date.fromisoformat(str(row.get("InstalledOn"))[:10]))
        except ValueError:
            continue
    p_obs, policy = objects(host, "updates.policy")
    if isinstance(policy, Fact) and p_obs.status is not ObsStatus.missing:
        automatic, setting = None, ""
    else:
        automatic, setting = automatic_updates(policy[0] if isinstance(policy, list) and policy else {})
    return {
        "updates.windows": observed(
            {
                "last_installed": max(dates).isoformat() if dates else None,
                "count": len(hotfixes),
                "dated": len(dates),
                "automatic": automatic,
                "policy": setting,
                "patch_level": patch_level(host),
            },
            h_obs,
            p_obs,
        )
    }
