"""/etc/passwd, /etc/group, /etc/shadow."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


def parse_passwd(text: str) -> list[PasswdEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[0] or fields[0].startswith(("#", "+", "-")):
            continue
        try:
            uid, gid = int(fields[2]), int(fields[3])
        except ValueError:
            continue
        entries.append(PasswdEntry(fields[0], uid, gid, fields[5], fields[6]))
    return entries


def parse_group(text: str) -> dict[str, tuple[int, list[str]]]:
    groups: dict[str, tuple[int, list[str]]] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or not fields[0]:
            continue
        try:
            gid = int(fields[2])
        except ValueError:
            continue
        groups[fields[0]] = (gid, [m for m in fields[3].split(",") if m])
    return groups


def parse_shadow_password_states(text: str) -> dict[str, str]:
    """Per account: 'empty' (no password at all), 'locked' or 'set'. Hashes are never kept."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 2 or not fields[0]:
            continue
        pw = fields[1]
        if pw == "":
            states[fields[0]] = "empty"
        elif pw.startswith(("!", "*")):
            states[fields[0]] = "locked"
        else:
            states[fields[0]] = "set"
    return states
