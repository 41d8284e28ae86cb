"""WiFi: security of the active connection (NetworkManager), length of its saved key."""

from __future__ import annotations

import re
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, not_applicable, observed, unknown, unknown_from
from officine.host.base import Host
from officine.parsers.misc import split_nmcli_terse

_SECRET = re.compile(r"^<secret length=(\d+)>$")


def _wireless_interfaces(host: Host) -> list[str] | None:
    listing = host.list_dir("/sys/class/net")
    if not listing.ok:
        return None
    found = []
    for name in listing.entries or []:
        if host.stat(f"/sys/class/net/{name}/wireless").ok:
            found.append(name)
    return found


@collector("linux.wifi", platforms=("linux",), facts=("wifi.connection", "wifi.key_length"))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    interfaces = _wireless_interfaces(host)
    listing = host.list_dir("/sys/class/net")
    if interfaces is None:
        fact = unknown_from(listing, "interfaces réseau")
        return {"wifi.connection": fact, "wifi.key_length": fact}
    if not interfaces:
        fact = not_applicable("aucune interface WiFi sur ce poste", listing)
        return {"wifi.connection": fact, "wifi.key_length": fact}
    # Values of -f fields in terse mode are NetworkManager keywords, not translated sentences.
    devices = host.run(["nmcli", "-t", "-f", "DEVICE,TYPE,STATE,CONNECTION", "device"])
    if not devices.ok or devices.exit_code != 0:
        fact = unknown_from(devices, "nmcli device (NetworkManager)")
        return {"wifi.connection": fact, "wifi.key_length": fact}
    active = None
    for line in (devices.output or "").splitlines():
        fields = split_nmcli_terse(line)
        if len(fields) >= 4 and fields[1] == "wifi" and fields[2].startswith("connected") and fields[3]:
            active = fields
            break
    if active is None:
        fact = not_applicable("WiFi présent mais non connecté", devices)
        return {"wifi.connection": fact, "wifi.key_length": fact}
    name = active[3]
    settings = host.run(
        [
            "nmcli",
            "-t",
            "-g",
            "802-11-wireless.ssid,802-11-wireless-security.key-mgmt,"
            "802-11-wireless-security.proto,802-11-wireless-security.pairwise,"
            "802-11-wireless-security.wep-key-type",
            "connection",
            "show",
            name,
        ]
    )
    scan = host.run(
        [
            "nmcli",
            "-t",
            "-f",
            "ACTIVE,SSID,SECURITY,WPA-FLAGS,RSN-FLAGS",
            "device",
            "wifi",
            "list",
            "--rescan",
            "no",
        ]
    )
    facts: dict[str, Fact] = {}
    if not settings.ok or settings.exit_code != 0:
        facts["wifi.connection"] = unknown_from(settings, f"profil WiFi {name}")
    else:
        lines = (settings.output or "").splitlines() + [""] * 5
        value: dict[str, Any] = {
            "interface": active[0],
            "ssid": lines[0],
            "key_mgmt": lines[1] or "none",
            "proto": lines[2],
            "pairwise": lines[3],
        }
        if scan.ok and scan.exit_code == 0:
            for line in (scan.output or "").splitlines():
                row = split_nmcli_terse(line)
                if len(row) >= 5 and row[0] == "yes":
                    value.update(ap_security=row[2], wpa_flags=row[3], rsn_flags=row[4])
        facts["wifi.connection"] = observed(value, devices, settings, scan)
    secret = host.run(
        ["nmcli", "-s", "-t", "-g", "802-11-wireless-security.psk", "connection", "show", name],
        redact="length",
    )
    m = _SECRET.match((secret.output or "").strip())
    if secret.ok and secret.exit_code == 0 and m:
        facts["wifi.key_length"] = observed({"length": int(m.group(1))}, secret)
    elif secret.ok and secret.exit_code == 0 and (secret.output or "").strip() == "<secret empty>":
        facts["wifi.key_length"] = unknown("permission_denied", "clé WiFi non lisible sans droits root", secret)
    else:
        facts["wifi.key_length"] = unknown_from(secret, "clé WiFi")
    return facts
