"""macOS outputs (always English, whatever the user's language)."""

from __future__ import annotations

import json
import plistlib
import re
from typing import Any
from xml.parsers.expat import ExpatError

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


def parse_filevault_state(text: str) -> str:
    """`fdesetup status`: "on", "off", or "in_progress" when FileVault is on but the disk is still being
    converted ("Encryption in progress: Pending" before the first pass, or "Percent completed = …")."""
    on = parse_filevault(text)
    if re.search(r"^\s*Encryption in progress", text, re.M):
        return "in_progress"
    return "on" if on else "off"


_LABEL = re.compile(r"^\s*\* Label:\s*(.+?)\s*$")
_OLD_ITEM = re.compile(r"^\s*[*-] (?!Label:)(.+?)\s*$")


def parse_softwareupdate(text: str) -> list[dict[str, Any]]:
    """softwareupdate -l. Since Catalina: `* Label: …` then `Title: …, Recommended: YES, Action: restart`;
    up to Mojave: `   * <name>` then `<title> (<version>), <size>K [recommended] [restart]`. An output
    that announces updates but in which none is understood is a ParseError, never "nothing pending"."""
    if "No new software available" in text:
        return []
    updates: list[dict[str, Any]] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        label = _LABEL.match(line)
        if label:
            updates.append({"label": label.group(1), "recommended": None})
            continue
        stripped = line.strip()
        if stripped.startswith("Title:") and updates:
            updates[-1]["recommended"] = "Recommended: YES" in stripped
            updates[-1]["restart"] = "Action: restart" in stripped
            continue
        old = _OLD_ITEM.match(line)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if old and re.search(r"\(.*\),\s*\d+K", following):
            updates.append(
                {
                    "label": old.group(1),
                    "recommended": "[recommended]" in following,
                    "restart": "[restart]" in following,
                }
            )
    if not updates:
        raise ParseError("réponse de softwareupdate illisible : aucune mise à jour comprise")
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
            ssid = str(current.get("_name", ""))
            hidden = ssid.strip().lower() in ("<redacted>", "")  # macOS hides it from apps without location access
            return {
                "interface": interface.get("_name"),
                "ssid": None if hidden else ssid,
                "ssid_hidden": hidden,
                "key_mgmt": key_mgmt,
                "proto": "wpa" if "wpa_personal" in mode and "wpa2" not in mode else "rsn",
                "pairwise": pairwise,
                "wep_key_type": "wep" if pairwise == "wep" else None,
                "ap_security": mode,
            }
    return None


def parse_screenlock(text: str) -> int | None:
    """sysadminctl -screenLock status (written to stderr, after an NSLog prefix): seconds between the
    screen saver or sleep and the password prompt, or None when no password is asked."""
    m = re.search(r"screenLock (?:is (on|off)|delay is (immediate|(\d+) seconds?))", text, re.I)
    if not m:
        raise ParseError("état du verrouillage macOS illisible")
    if (m.group(1) or "").lower() == "off":
        return None
    if (m.group(1) or "").lower() == "on" or (m.group(2) or "").lower() == "immediate":
        return 0
    return int(m.group(3))


def parse_group_membership(text: str) -> list[str]:
    """dscl . -read /Groups/admin GroupMembership: `GroupMembership: root alice`."""
    m = re.search(r"^GroupMembership:(.*)$", text, re.M)
    if not m:
        raise ParseError("membres du groupe admin illisibles")
    return m.group(1).split()


def parse_user_ids(text: str) -> dict[str, int]:
    """dscl . -list /Users UniqueID: one `name  uid` per line."""
    users = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"-?\d+", parts[1]):
            users[parts[0]] = int(parts[1])
    if not users:
        raise ParseError("liste des comptes illisible")
    return users


def parse_pwpolicy(text: str) -> dict[str, int | None]:
    """pwpolicy -getaccountpolicies: the plist of global policies. Every content rule applies, so the
    shortest accepted password is the longest `.{N,}` minimum."""
    if "No global account policies" in text:
        return {"min_length": 0, "max_failed": None, "expires_days": None}
    start = text.find("<?xml")
    if start < 0:
        raise ParseError("stratégie de mots de passe macOS absente (droits administrateur nécessaires ?)")
    try:
        data = plistlib.loads(text[start:].encode("utf-8"))
    except (plistlib.InvalidFileException, ValueError, ExpatError, OverflowError, RecursionError) as exc:
        raise ParseError(f"stratégie de mots de passe illisible : {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("stratégie de mots de passe inattendue")

    def rules(category: str) -> list[dict[str, Any]]:
        found = data.get(category)
        return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []

    def parameter(rule: dict[str, Any], name: str) -> int | None:
        params = rule.get("policyParameters")
        value = params.get(name) if isinstance(params, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    lengths = [
        int(m.group(1))
        for r in rules("policyCategoryPasswordContent")
        for m in [re.search(r"\.\{(\d+),", str(r.get("policyContent", "")))]
        if m
    ]
    failed = [
        v
        for r in rules("policyCategoryAuthentication")
        if (v := parameter(r, "policyAttributeMaximumFailedAuthentications")) is not None
    ]
    expires = [
        v
        for r in rules("policyCategoryPasswordChange")
        if (v := parameter(r, "policyAttributeExpiresEveryNDays")) is not None
    ]
    return {
        "min_length": max(lengths, default=0),
        "max_failed": min(failed) if failed else None,
        "expires_days": min(expires) if expires else None,
    }


def parse_spctl(text: str) -> bool:
    """spctl --status: `assessments enabled` (Gatekeeper on) or `assessments disabled`."""
    m = re.search(r"assessments (enabled|disabled)", text)
    if not m:
        raise ParseError("état de Gatekeeper illisible")
    return m.group(1) == "enabled"


def parse_network_time(text: str) -> bool:
    """systemsetup -getusingnetworktime: `Network Time: On` / `Off`."""
    m = re.search(r"Network Time: (On|Off)", text)
    if not m:
        raise ParseError("réglage de l'heure réseau illisible")
    return m.group(1) == "On"


def parse_defaults_int(text: str) -> int:
    """A `defaults read` integer value."""
    value = text.strip()
    if not re.fullmatch(r"-?\d+", value):
        raise ParseError(f"valeur entière attendue : {value[:40]!r}")
    return int(value)
