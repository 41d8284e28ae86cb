"""macOS outputs (always English, whatever the user's language)."""

from __future__ import annotations

import json
import re
from typing import Any

from officine.parsers import ParseError


def parse_sw_vers(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("ProductName", "ProductVersion", "BuildVersion"):
            values[key.strip()] = value.strip()
    if "ProductVersion" not in values:
        raise ParseError("version de macOS absente")
    return values


def parse_firewall_state(text: str) -> bool:
    """socketfilterfw --getglobalstate: `Firewall is enabled. (State = 1)`; 2 = block all."""
    m = re.search(r"\(State = (\d)\)", text)
    if m:
        return m.group(1) in ("1", "2")
    lowered = text.lower()
    if "firewall is enabled" in lowered:
        return True
    if "firewall is disabled" in lowered:
        return False
    raise ParseError("état du pare-feu macOS illisible")


def parse_filevault(text: str) -> bool:
    m = re.search(r"FileVault is (On|Off)", text)
    if not m:
        raise ParseError("état de FileVault illisible")
    return m.group(1) == "On"


def parse_softwareupdate(text: str) -> list[dict[str, Any]]:
    """softwareupdate -l: `* Label: …` then a `Title: …, Recommended: YES, Action: restart` line."""
    if "No new software available" in text:
        return []
    updates: list[dict[str, Any]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("* Label:"):
            updates.append({"label": stripped.removeprefix("* Label:").strip(), "recommended": None})
        elif stripped.startswith("Title:") and updates:
            updates[-1]["recommended"] = "Recommended: YES" in stripped
            updates[-1]["restart"] = "Action: restart" in stripped
    if not updates and "Software Update found" not in text:
        raise ParseError("réponse de softwareupdate illisible")
    return updates


WIFI_MODES = {
    "spairport_security_mode_none": ("none", ""),
    "spairport_security_mode_wep": ("none", "wep"),
    "spairport_security_mode_wpa_personal": ("wpa-psk", "tkip"),
    "spairport_security_mode_wpa_personal_mixed": ("wpa-psk", "tkip"),
    "spairport_security_mode_wpa2_personal": ("wpa-psk", "ccmp"),
    "spairport_security_mode_wpa2_personal_mixed": ("wpa-psk", "tkip"),
    "spairport_security_mode_wpa3_personal": ("sae", "ccmp"),
    "spairport_security_mode_wpa3_transition": ("sae", "ccmp"),
    "spairport_security_mode_wpa2_enterprise": ("wpa-eap", "ccmp"),
    "spairport_security_mode_wpa3_enterprise": ("wpa-eap", "ccmp"),
}


def parse_airport_json(text: str) -> dict[str, Any] | None:
    """system_profiler SPAirPortDataType -json: the current network's security mode, if connected."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"JSON illisible : {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("réponse de system_profiler inattendue")
    entries = data.get("SPAirPortDataType")
    for entry in entries if isinstance(entries, list) else []:
        interfaces = entry.get("spairport_airport_interfaces") if isinstance(entry, dict) else None
        for interface in interfaces if isinstance(interfaces, list) else []:
            if not isinstance(interface, dict):
                continue
            if interface.get("spairport_status_information") != "spairport_status_connected":
                continue
            current = interface.get("spairport_current_network_information")
            if not isinstance(current, dict):
                raise ParseError("réseau WiFi courant illisible")
            mode = str(current.get("spairport_security_mode", ""))
            if mode not in WIFI_MODES:
                raise ParseError(f"mode de sécurité WiFi inconnu : {mode!r}")
            key_mgmt, pairwise = WIFI_MODES[mode]
            return {
                "interface": interface.get("_name"),
                "ssid": current.get("_name", ""),
                "key_mgmt": key_mgmt,
                "proto": "wpa" if "wpa_personal" in mode and "wpa2" not in mode else "rsn",
                "pairwise": pairwise,
                "wep_key_type": "wep" if pairwise == "wep" else None,
                "ap_security": mode,
            }
    return None
