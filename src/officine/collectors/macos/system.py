"""macOS: version, application firewall, FileVault, pending updates, WiFi security."""

from __future__ import annotations

from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, not_applicable, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers import ParseError
from officine.parsers.macos import (
    parse_airport_json,
    parse_filevault_state,
    parse_firewall_state,
    parse_softwareupdate,
    parse_sw_vers,
)

SOCKETFILTERFW = "/usr/libexec/ApplicationFirewall/socketfilterfw"


def _ok(obs: Observation) -> bool:
    return obs.ok and obs.exit_code == 0 and bool(obs.output)


@collector(
    "macos.system",
    platforms=("macos",),
    facts=("os.info", "firewall.state", "disk.encryption", "updates.macos", "wifi.connection"),
)
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    vers = host.run(["sw_vers"])
    try:
        values = parse_sw_vers(vers.output or "") if _ok(vers) else None
    except ParseError as exc:
        values, facts["os.info"] = None, unknown("parse_error", str(exc), vers)
    if values is not None:
        version = values["ProductVersion"]
        product = values.get("ProductName") or "macOS"  # "Mac OS X" up to 10.15
        facts["os.info"] = observed(
            {
                "family": "macos",
                "id": "macos",
                "product": product,
                "version_id": version,
                "build": values.get("BuildVersion"),
                "pretty_name": f"{product} {version} ({values.get('BuildVersion', '?')})",
            },
            vers,
        )
    elif "os.info" not in facts:
        facts["os.info"] = unknown_from(vers, "sw_vers")

    fw = host.run([SOCKETFILTERFW, "--getglobalstate"])
    try:
        enabled = parse_firewall_state(fw.output or "") if fw.ok else None
    except ParseError as exc:
        enabled = None
        facts["firewall.state"] = unknown("parse_error", str(exc), fw)
    if enabled is not None:
        # The application firewall refuses incoming connections to applications not allowed.
        facts["firewall.state"] = observed(
            {
                "engine": "d'applications de macOS",
                "source": "live",
                "active": enabled,
                "default_inbound": "drop" if enabled else "accept",
            },
            fw,
        )
    elif "firewall.state" not in facts:
        facts["firewall.state"] = unknown_from(fw, "socketfilterfw")

    fde = host.run(["fdesetup", "status"])
    try:
        state = parse_filevault_state(fde.output or "") if fde.ok else None
        volume = {
            "mount": "/",
            "device": "disque interne",
            "encrypted": state in ("on", "in_progress"),
            "state": state,
            "scheme": "FileVault",
        }
        facts["disk.encryption"] = (
            observed({"volumes": [volume]}, fde) if state is not None else unknown_from(fde, "fdesetup status")
        )
    except ParseError as exc:
        facts["disk.encryption"] = unknown("parse_error", str(exc), fde)

    su = host.run(["softwareupdate", "-l"], timeout=120)
    auto = host.run(
        ["defaults", "read", "/Library/Preferences/com.apple.SoftwareUpdate", "AutomaticallyInstallMacOSUpdates"]
    )
    try:
        pending = parse_softwareupdate((su.output or "") + (su.stderr or "")) if su.ok else None
        # Key absent (defaults exits 1): the default, no automatic installation; not observed: unknown.
        automatic = (auto.output or "").strip() == "1" if auto.ok and auto.exit_code == 0 else None
        if auto.ok and auto.exit_code not in (0, None):
            automatic = False
        facts["updates.macos"] = (
            observed({"pending": pending, "count": len(pending), "automatic": automatic}, su, auto)
            if pending is not None
            else unknown_from(su, "softwareupdate")
        )
    except ParseError as exc:
        facts["updates.macos"] = unknown("parse_error", str(exc), su)

    air = host.run(["system_profiler", "SPAirPortDataType", "-json"], timeout=60)
    if not _ok(air):
        facts["wifi.connection"] = unknown_from(air, "system_profiler SPAirPortDataType")
    else:
        try:
            current = parse_airport_json(air.output or "")
            facts["wifi.connection"] = observed(current, air) if current else not_applicable("WiFi non connecté", air)
        except ParseError as exc:
            facts["wifi.connection"] = unknown("parse_error", str(exc), air)
    return facts
