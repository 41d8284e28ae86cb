"""APT configuration and simulated upgrades, dpkg status."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+')


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    out = []
    for raw in text.splitlines():
        stripped = raw.lstrip()
        if stripped.startswith("#") and not stripped.startswith(("#clear", "#include")):
            continue
        # '//' comments, but not inside quoted strings (URLs)
        in_str = False
        kept = raw
        for i, ch in enumerate(raw):
            if ch == '"':
                in_str = not in_str
            elif ch == "/" and not in_str and raw[i : i + 2] == "//":
                kept = raw[:i]
                break
        out.append(kept)
    return "\n".join(out)


def parse_apt_conf(text: str) -> dict[str, str]:
    """Flatten apt.conf syntax (`A::B "1";` and `A { B "1"; };`) into {"a::b": "1"}.

    Keys are case-insensitive in APT, so they are lower-cased. Later values win.
    """
    result: dict[str, str] = {}
    scope: list[str] = []
    pending: list[str] = []
    for tok in _TOKEN.findall(_strip_comments(text)):
        if tok == "{":
            if pending:
                scope.append(pending[0])
            pending = []
        elif tok == "}":
            if scope:
                scope.pop()
            pending = []
        elif tok == ";":
            if len(pending) >= 2:
                key = "::".join([*scope, pending[0]]).lower()
                value = pending[1]
                result[key] = value[1:-1] if value.startswith('"') and value.endswith('"') else value
            pending = []
        else:
            if tok.startswith("#"):
                pending = []
                continue
            pending.append(tok)
    return result


@dataclass(frozen=True)
class PendingUpgrade:
    package: str
    version: str
    security: bool


_UPGRADABLE = re.compile(r"^([^/\s]+)/(\S+) (\S+) \S+ \[upgradable from: [^\]]+\]")


def parse_apt_upgradable(text: str) -> list[PendingUpgrade]:
    """`apt list --upgradable` lines `pkg/suite[,suite] newversion arch [upgradable from: old]`.

    Run with LC_ALL=C; the suites tell whether the update comes from a security archive.
    """
    upgrades = []
    for line in text.splitlines():
        m = _UPGRADABLE.match(line)
        if m:
            suites = m.group(2).split(",")
            upgrades.append(PendingUpgrade(m.group(1), m.group(3), any(s.endswith("-security") for s in suites)))
    return upgrades


def parse_dpkg_status(text: str) -> dict[str, str]:
    """Installed packages -> version, from /var/lib/dpkg/status (fields are never translated)."""
    installed: dict[str, str] = {}
    package = status = version = ""
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if package and status.split()[-1:] == ["installed"]:
                installed[package] = version
            package = status = version = ""
        elif line.startswith("Package:"):
            package = line.split(":", 1)[1].strip()
        elif line.startswith("Status:"):
            status = line.split(":", 1)[1].strip()
        elif line.startswith("Version:"):
            version = line.split(":", 1)[1].strip()
    return installed
