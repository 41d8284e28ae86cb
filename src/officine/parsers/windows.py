"""Windows outputs: PowerShell objects (JSON from our collector, or Format-List text from real
captures), netsh wlan text in French and English, Security Center product states."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from officine.parsers import ParseError


def parse_json_objects(text: str) -> list[dict[str, Any]]:
    """What collect.ps1 records for registry/cim/powershell items: a JSON object or a list of them."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"JSON illisible : {exc}") from exc
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value
    if value is None:
        return []
    raise ParseError("objets PowerShell attendus")


def parse_format_list(text: str) -> list[dict[str, str]]:
    """PowerShell `Format-List` text (`Name : Value`, blocks separated by blank lines).
    Property names are never translated; continuation lines are appended to the value."""
    objects: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = None
    for raw in text.splitlines():
        if not raw.strip():
            if current:
                objects.append(current)
            current, last = {}, None
            continue
        m = re.match(r"^([A-Za-z][\w.]*)\s*:\s?(.*)$", raw.strip())
        if m and not raw.startswith((" " * 8, "\t\t")):
            last = m.group(1)
            current[last] = m.group(2).strip()
        elif last is not None:
            current[last] += " " + raw.strip()
    if current:
        objects.append(current)
    return objects


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


# -- Security Center -------------------------------------------------------------------------------
def decode_product_state(state: int) -> dict[str, bool]:
    """WSC productState: byte 2 (0x1000) = real-time protection on; byte 1 0x10 = signatures out of date.
    Widely documented in practice; Microsoft does not publish the layout, hence the cross-check with
    Defender's own cmdlet when available."""
    return {"enabled": bool(state & 0x1000), "up_to_date": not bool(state & 0x10)}


# -- netsh wlan (localised) ---------------------------------------------------------------------
def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\s\u00a0]+", " ", text).strip()


_NETSH_KEYS = {
    "name": "name",
    "nom": "name",
    "state": "state",
    "etat": "state",
    "ssid": "ssid",
    "authentication": "auth",
    "authentification": "auth",
    "cipher": "cipher",
    "chiffrement": "cipher",
    "profile": "profile",
    "profil": "profile",
}
_CONNECTED = {"connected", "connecte"}
LOCATION_DENIED = "location permission"


def parse_netsh_interfaces(text: str) -> list[dict[str, str]]:
    """`netsh wlan show interfaces` in English or French: one dict per interface."""
    if LOCATION_DENIED in text.lower():
        raise ParseError(
            "Windows refuse l'accès aux informations WiFi : autorisez la localisation "
            "(Paramètres > Confidentialité > Localisation) puis relancez la collecte"
        )
    interfaces: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for raw in text.splitlines():
        if ":" not in raw:
            continue
        label, _, value = raw.partition(":")
        key = _NETSH_KEYS.get(_fold(label))
        if key is None:
            continue
        if key == "name" and current:
            interfaces.append(current)
            current = {}
        current[key] = value.strip()
    if current:
        interfaces.append(current)
    return interfaces


def wifi_security(interface: dict[str, str]) -> dict[str, Any]:
    """Map localised netsh words to NetworkManager-like keywords (the facts Linux produces)."""
    auth = _fold(interface.get("auth", "")).replace(" ", "")
    cipher = _fold(interface.get("cipher", ""))
    if auth in ("open", "ouvrir", "ouvert"):
        key_mgmt = "none"
    elif "wpa3" in auth and ("personal" in auth or "personnel" in auth or "sae" in auth):
        key_mgmt = "sae"
    elif "enterprise" in auth or "entreprise" in auth:
        key_mgmt = "wpa-eap"
    elif "personal" in auth or "personnel" in auth or "psk" in auth:
        key_mgmt = "wpa-psk"
    elif auth in ("shared", "partagee", "partage"):
        key_mgmt = "none"
    else:
        raise ParseError(f"authentification WiFi inconnue : {interface.get('auth', '')!r}")
    proto = "wpa" if auth.startswith("wpa-") or auth == "wpapersonal" or auth.startswith("wpa-personnel") else "rsn"
    if auth.startswith(("wpa2", "wpa3")):
        proto = "rsn"
    pairwise = {
        "ccmp": "ccmp",
        "gcmp": "gcmp",
        "gcmp-256": "gcmp",
        "tkip": "tkip",
        "wep": "wep",
        "none": "",
        "aucun": "",
        "aucune": "",
    }.get(cipher, cipher)
    return {
        "key_mgmt": key_mgmt,
        "proto": proto,
        "pairwise": pairwise,
        "wep_key_type": "wep" if pairwise == "wep" else None,
        "ssid": interface.get("ssid", ""),
        "ap_security": interface.get("auth", ""),
    }


def parse_format_table(text: str) -> list[dict[str, str]]:
    """PowerShell `Format-Table` text: a header line, a dashes line, then one row per line.
    Columns are cut at the positions of the dashes (values may contain spaces)."""
    lines = [line.rstrip() for line in text.splitlines()]
    for index in range(1, len(lines)):
        if lines[index] and set(lines[index].replace(" ", "")) == {"-"}:
            spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[index])]
            header = lines[index - 1]
            names = [
                header[a : b if i + 1 < len(spans) else None].strip() or header[a:].split()[0]
                for i, (a, b) in enumerate(spans)
            ]
            rows = []
            for line in lines[index + 1 :]:
                if not line.strip():
                    break
                starts = [a for a, _ in spans] + [None]
                cells = [
                    line[starts[i] : starts[i + 1]].strip() if i + 1 < len(spans) else line[starts[i] :].strip()
                    for i in range(len(spans))
                ]
                rows.append(dict(zip(names, cells, strict=True)))
            return rows
    return []


# -- w32tm and USB storage history -------------------------------------------------------------------
UNSYNCED_SOURCES = ("local cmos clock", "free-running system clock")
_W32TM_LINE = re.compile(r"^\s*([^:\r\n]+?)\s*:\s*(.*?)\s*$")


def parse_w32tm_status(text: str) -> dict[str, Any]:
    """`w32tm /query /status`, in any display language: its labels are translated ("Leap Indicator",
    "Indicateur de saut"...), so the fields are read by their place and their shape, which are not:
    leap indicator `d(…)`, stratum `n (…)`, precision, root delay, root dispersion, reference ID
    `0x…`, last synchronisation, source, poll interval."""
    fields: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = _W32TM_LINE.match(line)
        if m and not m.group(1).lower().startswith(("w32tm", "ps ", "c:")):
            fields.append((m.group(1), m.group(2)))
    start = next((i for i, (_, v) in enumerate(fields) if re.fullmatch(r"\d\(.*\)", v)), None)
    if start is None or len(fields) < start + 8:
        raise ParseError("réponse de w32tm illisible")
    block = [v for _, v in fields[start : start + 9]]
    leap, stratum, reference, source = block[0], block[1], block[5], block[7]
    stratum_m = re.match(r"(\d+)\b", stratum)
    if not stratum_m or not re.match(r"0x[0-9A-Fa-f]{8}\b", reference) or not source:
        raise ParseError("réponse de w32tm illisible")
    leap_value, stratum_value = int(leap[0]), int(stratum_m.group(1))
    synchronized = (
        leap_value != 3 and stratum_value not in (0, 16) and source.lower().rstrip(".") not in UNSYNCED_SOURCES
    )
    return {"synchronized": synchronized, "source": source, "leap": leap_value, "stratum": stratum_value}


def usb_storage_devices(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """USBSTOR history as collect.ps1 records it (keys two levels deep, with FriendlyName): one
    device per instance key `Disk&Ven_…&Prod_…&Rev_…\\<instance>`."""
    devices = []
    for row in rows:
        key = str(row.get("key") or "")
        _, found, rest = key.upper().partition("\\ENUM\\USBSTOR\\")
        if not found:
            continue
        parts = key[len(key) - len(rest) :].split("\\")
        if len(parts) != 2 or not all(parts):
            continue
        model, instance = parts
        # Windows makes up an instance ID (second character '&') for devices without a serial number.
        serial = None if len(instance) > 1 and instance[1] == "&" else re.sub(r"&\d+$", "", instance)
        name = row.get("value")
        devices.append(
            {
                "id": f"{model}\\{instance}",
                "serial": serial,
                "name": str(name) if name else model.replace("&", " ").replace("_", " "),
            }
        )
    return devices
