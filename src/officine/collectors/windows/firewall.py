"""Windows Defender Firewall profiles as enforced (ActiveStore: local and domain policies merged), by
their enum names, never localised."""

from __future__ import annotations

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host
from officine.parsers.windows import as_bool

PROFILES = ("Domain", "Private", "Public")


def summarise_profiles(rows: list[dict[str, object]]) -> dict[str, object]:
    profiles = {}
    for row in rows:
        name = str(row.get("Name", ""))
        inbound = str(row.get("DefaultInboundAction", "")).strip()
        # NotConfigured means the built-in default, which for inbound traffic is Block.
        blocks = inbound.lower() in ("block", "notconfigured", "4", "0")
        profiles[name] = {"enabled": as_bool(row.get("Enabled")), "default_inbound": inbound, "blocks": blocks}
    active = all(profiles.get(p, {}).get("enabled") is True for p in PROFILES)
    blocking = all(profiles.get(p, {}).get("blocks") for p in PROFILES)
    return {
        "engine": "Windows Defender",
        "source": "live",
        "active": active,
        "default_inbound": "drop" if active and blocking else "accept",
        "profiles": profiles,
    }


@collector("windows.firewall", platforms=("windows",), facts=("firewall.state",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    obs, rows = objects(host, "firewall.profiles")
    if isinstance(rows, Fact):
        return {"firewall.state": rows}
    if not {str(r.get("Name")) for r in rows} >= set(PROFILES):
        return {"firewall.state": unknown("parse_error", "profils du pare-feu incomplets", obs)}
    if any(r.get("DefaultInboundAction") in (None, "") for r in rows):
        why = "action par défaut des connexions entrantes non observée"
        return {"firewall.state": unknown("parse_error", why, obs)}
    return {"firewall.state": observed(summarise_profiles(rows), obs)}
