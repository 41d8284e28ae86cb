"""Small formats: ClamAV database headers, timedatectl, nmcli terse output, modprobe, lsblk."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from officine.parsers import ParseError

_MONTHS = {
    m: i
    for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)
}
_CVD_TIME = re.compile(r"^(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")


@dataclass(frozen=True)
class ClamavHeader:
    built: datetime
    version: int


def parse_clamav_header(text: str) -> ClamavHeader:
    """The 512-byte header of a .cvd/.cld: `ClamAV-VDB:<build time>:<version>:...`.

    The build time is written by ClamAV in a fixed English format, whatever the locale.
    """
    if not text.startswith("ClamAV-VDB:"):
        raise ParseError("en-tête ClamAV absent")
    fields = text.split(":")
    if len(fields) < 4:
        raise ParseError("en-tête ClamAV tronqué")
    # The time itself contains a colon: "14 Nov 2023 09:32 +0000"
    stamp = f"{fields[1]}:{fields[2]}"
    m = _CVD_TIME.match(stamp.strip())
    if not m or m.group(2) not in _MONTHS:
        raise ParseError(f"date ClamAV illisible : {stamp[:40]!r}")
    day, mon, year, hh, mm, sign, oh, om = m.groups()
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    try:
        built = datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), tzinfo=timezone(offset))
        version = int(fields[3])
    except ValueError as exc:
        raise ParseError(f"date ClamAV invalide : {exc}") from exc
    return ClamavHeader(built.astimezone(UTC), version)


def parse_key_value_lines(text: str) -> dict[str, str]:
    """`Key=Value` lines as printed by `timedatectl show` or `systemctl show`."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key and " " not in key:
            result[key] = value
    return result


def split_nmcli_terse(line: str) -> list[str]:
    """Split one line of `nmcli -t` output on unescaped colons (`\\:` and `\\\\` are escapes)."""
    fields: list[str] = []
    current: list[str] = []
    escape = False
    for ch in line:
        if escape:
            current.append(ch)
            escape = False
        elif ch == "\\":
            escape = True
        elif ch == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
    fields.append("".join(current))
    return fields


@dataclass(frozen=True)
class ModprobeRules:
    blacklisted: frozenset[str]
    install_overrides: dict[str, str]


def parse_modprobe(text: str) -> ModprobeRules:
    blacklisted: set[str] = set()
    installs: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] == "blacklist":
            blacklisted.add(parts[1].replace("-", "_"))
        elif len(parts) >= 3 and parts[0] == "install":
            installs[parts[1].replace("-", "_")] = parts[2]
    return ModprobeRules(frozenset(blacklisted), installs)


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"JSON illisible : {exc}") from exc


def parse_mounts(text: str) -> list[tuple[str, str, str]]:
    """(device, mount point, fs type) from /proc/self/mounts; octal escapes decoded."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:

            def unescape(s: str) -> str:
                return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)

            mounts.append((unescape(fields[0]), unescape(fields[1]), fields[2]))
    return mounts
