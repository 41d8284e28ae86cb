"""Generic text formats: KEY=VALUE files, INI-like keyfiles, GVariant scalars."""

from __future__ import annotations

import re
import shlex

from officine.parsers import ParseError


def parse_env_file(text: str) -> dict[str, str]:
    """Shell-style KEY=VALUE lines (os-release, /etc/default/*). Last value wins."""
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export ") :].strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            continue
        value = value.strip()
        try:
            parts = shlex.split(value, comments=True)
            value = parts[0] if len(parts) == 1 else " ".join(parts)
        except ValueError:
            value = value.strip("\"'")
        result[key] = value
    return result


def parse_space_config(text: str, first_wins: bool = False) -> dict[str, str]:
    """Whitespace-separated `Key value` lines (login.defs), or `key = value` (pwquality, faillock)."""
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" in line:
            key, _, value = line.partition("=")
        else:
            key, _, value = line.partition(" ") if " " in line else line.partition("\t")
        key, value = key.strip(), value.strip()
        if not key:
            continue
        if first_wins and key in result:
            continue
        result[key] = value
    return result


def parse_keyfile(text: str) -> dict[str, dict[str, str]]:
    """INI-like keyfiles (GLib keyfiles, dconf dumps, gdm/lightdm/sddm, kscreenlockerrc).

    Keys before any section go in section "". Later duplicates win, as in GLib.
    """
    sections: dict[str, dict[str, str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, {})
            continue
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        sections.setdefault(current, {})[key.strip()] = value.strip()
    return sections


_GVARIANT_INT = re.compile(r"^(?:(?:u?int(?:16|32|64)|byte)\s+)?(-?\d+)$")


def parse_gvariant_scalar(text: str) -> bool | int | str:
    """A GVariant text scalar as found in dconf keyfiles: `uint32 300`, `true`, `'x'`."""
    value = text.strip()
    if value in ("true", "false"):
        return value == "true"
    m = _GVARIANT_INT.match(value)
    if m:
        return int(m.group(1))
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    raise ParseError(f"valeur GVariant non reconnue : {value[:40]!r}")


def parse_bool_word(text: str) -> bool | None:
    """true/false/yes/no/1/0/on/off, case-insensitive; None if it is none of them."""
    value = text.strip().strip("\"'").lower()
    if value in ("true", "yes", "1", "on", "enabled"):
        return True
    if value in ("false", "no", "0", "off", "disabled"):
        return False
    return None
