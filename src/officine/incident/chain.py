"""The journal's format: JSON Lines, each entry carrying the SHA-256 of the previous one.

An entry is a JSON object with `seq` (1, 2, 3…), `at` (ISO 8601, UTC), `actor`, `action`,
`details` (object), `evidence` (list), `prev` (hash of the previous entry, 64 zeros for the
first) and `hash` (SHA-256 of the canonical JSON of every other field). This module only reads
and hashes; `journal` writes and `verification` judges.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
GENESIS = "0" * 64
# The entry that records, inside the chain, a line left incomplete by an interrupted write.
INTERRUPTED = "interrupted_write"
SYSTEM_ACTOR = "officine-cyber"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def encode(entry: dict[str, Any]) -> bytes:
    return (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def split(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines, and an incomplete tail (the bytes after the last newline)."""
    if not data:
        return [], b""
    body, sep, tail = data.rpartition(b"\n")
    return (body.split(b"\n"), tail) if sep else ([], data)


def parse(raw: bytes) -> dict[str, Any] | None:
    """An entry whose chaining fields have the right types, or None (unreadable or malformed).

    Only `seq`, `hash` and `prev` are checked: the other fields are covered by the hash and may
    hold anything (readers use `Entry`, which never fails on them)."""
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict):
        return None
    seq, digest, prev = entry.get("seq"), entry.get("hash"), entry.get("prev")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return None
    if not isinstance(digest, str) or not HEX64.match(digest) or not isinstance(prev, str):
        return None
    return entry


@dataclass(frozen=True)
class Entry:
    """A journal entry as surfaces read it: every field has its type, whatever the file holds."""

    seq: int
    at: datetime | None
    actor: str
    action: str
    details: dict[str, Any] = field(default_factory=dict)
    evidence: list[Any] = field(default_factory=list)
    hash: str = ""

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Entry:
        details = raw.get("details")
        evidence = raw.get("evidence")
        return cls(
            seq=raw["seq"] if isinstance(raw.get("seq"), int) else 0,
            at=_instant(raw.get("at")),
            actor=_text(raw.get("actor")) or "inconnu",
            action=_text(raw.get("action")),
            details=details if isinstance(details, dict) else {},
            evidence=evidence if isinstance(evidence, list) else [],
            hash=_text(raw.get("hash")),
        )

    def when(self) -> str:
        """The time in Paris, the French way ("29/11/2026 10:02:05")."""
        if self.at is None:
            return "heure illisible"
        try:
            return f"{self.at.astimezone(PARIS):%d/%m/%Y %H:%M:%S}"
        except (OverflowError, ValueError):
            return "heure illisible"

    def detail(self, key: str) -> str:
        """A detail as text ("" when absent or not a plain value)."""
        return _text(self.details.get(key))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
