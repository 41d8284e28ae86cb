"""A tamper-evident journal: JSON Lines, each entry chained to the previous one by SHA-256.

Editing, deleting or reordering an entry breaks the chain at that entry, and `verify` says
which. A process killed mid-write leaves an incomplete last line: it is never taken for a
valid entry, and the next append sets it aside in a `.partial` file (nothing is lost).
The chain proves integrity against edits, not against someone who rewrites the whole file
and recomputes every hash: the last hash is also printed in reports, as an external anchor.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Problem:
    line: int  # 1-based line in the file
    seq: int | None
    kind: str  # modified, deleted, reordered, truncated, unreadable
    message: str


@dataclass
class Verification:
    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def last_hash(self) -> str:
        return self.entries[-1]["hash"] if self.entries else GENESIS


def _read_lines(path: Path) -> tuple[list[bytes], bytes]:
    """Complete lines, and an incomplete tail (bytes after the last newline)."""
    data = path.read_bytes() if path.exists() else b""
    if not data:
        return [], b""
    body, sep, tail = data.rpartition(b"\n")
    lines = body.split(b"\n") if sep else []
    return lines, tail if sep else data


def verify(path: Path) -> Verification:
    result = Verification()
    lines, tail = _read_lines(path)
    previous_hash, expected_seq = GENESIS, 1
    for number, raw in enumerate(lines, start=1):
        try:
            entry = json.loads(raw.decode("utf-8"))
            if not isinstance(entry, dict) or "seq" not in entry or "hash" not in entry:
                raise ValueError("not an entry")
        except (UnicodeDecodeError, ValueError):
            result.problems.append(Problem(number, None, "unreadable", f"ligne {number} illisible"))
            previous_hash, expected_seq = "?", expected_seq + 1
            continue
        seq = entry.get("seq")
        if entry_hash(entry) != entry["hash"]:
            result.problems.append(
                Problem(number, seq, "modified", f"l'entrée n° {seq} a été modifiée après son écriture")
            )
        if seq != expected_seq:
            if isinstance(seq, int) and seq > expected_seq:
                missing = ", ".join(str(n) for n in range(expected_seq, seq))
                result.problems.append(
                    Problem(number, seq, "deleted", f"entrée(s) n° {missing} supprimée(s) avant l'entrée n° {seq}")
                )
            else:
                result.problems.append(
                    Problem(number, seq, "reordered", f"l'entrée n° {seq} n'est pas à sa place (ligne {number})")
                )
        elif entry.get("prev") != previous_hash and previous_hash != "?":
            result.problems.append(
                Problem(number, seq, "reordered", f"l'entrée n° {seq} ne suit pas l'entrée qui la précède")
            )
        result.entries.append(entry)
        previous_hash = entry["hash"]
        expected_seq = (seq + 1) if isinstance(seq, int) else expected_seq + 1
    if tail.strip():
        result.problems.append(
            Problem(
                len(lines) + 1,
                None,
                "truncated",
                "la dernière écriture a été interrompue (entrée incomplète, ignorée)",
            )
        )
    return result


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _set_aside_tail(self) -> None:
        lines, tail = _read_lines(self.path)
        if not tail:
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self.path.with_name(f"{self.path.name}.{stamp}.partial").write_bytes(tail)
        with self.path.open("r+b") as fh:
            fh.truncate(sum(len(line) + 1 for line in lines))
            fh.flush()
            os.fsync(fh.fileno())

    def append(
        self,
        actor: str,
        action: str,
        details: dict[str, Any] | None = None,
        evidence: list[dict[str, str]] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._set_aside_tail()
        state = verify(self.path)
        last = state.entries[-1] if state.entries else None
        entry: dict[str, Any] = {
            "seq": (int(last["seq"]) + 1) if last else 1,
            "at": (at or datetime.now(UTC)).isoformat(timespec="seconds"),
            "actor": actor,
            "action": action,
            "details": details or {},
            "evidence": evidence or [],
            "prev": last["hash"] if last else GENESIS,
        }
        entry["hash"] = entry_hash(entry)
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with self.path.open("ab") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        return entry

    def entries(self) -> list[dict[str, Any]]:
        return verify(self.path).entries
