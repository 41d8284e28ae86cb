"""Windows updates: the newest installed update (dates recorded as ISO by collect.ps1) and the
Windows Update policy (an absent policy key means Windows' default: automatic updates)."""

from __future__ import annotations

from datetime import date

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host
from officine.parsers.windows import as_int


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
    if not dates:
        return {"updates.windows": unknown("parse_error", "aucune date d'installation de mise à jour", h_obs)}
    p_obs, policy = objects(host, "updates.policy")
    if isinstance(policy, Fact) and p_obs.status.value != "missing":
        automatic = None
    else:
        values = policy[0] if isinstance(policy, list) and policy else {}
        automatic = as_int(values.get("NoAutoUpdate")) != 1
    return {
        "updates.windows": observed(
            {"last_installed": max(dates).isoformat(), "count": len(dates), "automatic": automatic}, h_obs, p_obs
        )
    }
