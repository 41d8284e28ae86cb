"""A tamper-evident journal: JSON Lines chained by SHA-256 (`chain`), its head anchored in the
database (`anchor`), judged by `verification`.

Public API (what the CLI, the PDF and the dashboard use):

- `Journal(path, key, anchor)`: `key` names the journal in the anchor ("incident:<id>",
  "registre-violations"); without a key or an anchor only the chain protects it.
- `Journal.append(actor, action, details)` → `Appended` (the entry, whether it was anchored,
  French warnings to show). Raises `JournalWriteError` (French) when the file cannot be written:
  nothing is added then.
- `Journal.writing()`: a lock held while reading and appending, for a caller whose new entry
  depends on the entries already there (the breach register numbers its breaches).
- `Journal.entries()` (raw dicts) / `Journal.timeline()` (`Entry`, typed, never fails on a strange
  entry) and `Journal.verify(opening)` → `Verification`.

Writing: appends are serialised by an exclusive lock on the file (two processes, one after the
other). Each entry is announced to the anchor, written and synced, then confirmed. A line left
incomplete by a crash is never removed: the next append ends it with a newline and records,
inside the chain, its line number and SHA-256, so that it stays visible to `verify` forever
and its removal is detected. A write that fails (full disk) is undone byte for byte and said.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from officine.errors import UserError
from officine.incident.anchor import ABANDONED, ANNOUNCED, WRITTEN, Anchor, AnchorRow, AnchorUnavailable
from officine.incident.chain import (
    GENESIS,
    INTERRUPTED,
    SYSTEM_ACTOR,
    Entry,
    encode,
    entry_hash,
    parse,
    split,
)
from officine.incident.verification import Problem, Verification, verify

__all__ = [
    "GENESIS",
    "Appended",
    "Entry",
    "Journal",
    "JournalWriteError",
    "Problem",
    "Verification",
    "entry_hash",
    "verify",
]

WHY = {
    errno.ENOSPC: "le disque est plein",
    errno.EDQUOT: "le quota de disque est atteint",
    errno.EROFS: "le disque est en lecture seule",
    errno.EACCES: "accès refusé",
    errno.EPERM: "accès refusé",
}


class JournalWriteError(UserError):
    pass


def _write_error(path: Path, exc: OSError) -> JournalWriteError:
    why = WHY.get(exc.errno or 0, exc.strerror or str(exc))
    return JournalWriteError(
        f"Le journal {path} n'a pas pu être écrit : {why}. Rien n'y a été ajouté. Notez cette action sur "
        "papier avec l'heure, libérez de la place ou corrigez les droits, puis recommencez."
    )


@dataclass
class Appended:
    entry: dict[str, Any]
    anchored: bool
    warnings: list[str] = field(default_factory=list)


class Writer:
    """Appends under the journal's lock; obtained from `Journal.writing()`."""

    def __init__(self, journal: Journal, fd: int) -> None:
        self.journal = journal
        self.fd = fd
        self.warnings: list[str] = []
        data = _read_all(fd)
        self.size = len(data)
        lines, tail = split(data)
        self._entries = [e for e in (parse(raw) for raw in lines) if e is not None]
        self.prefix = b""
        self.pending_ack: dict[str, Any] | None = None
        if tail:
            self.prefix = b"\n"  # never remove or rewrite bytes already in the file
            complete = parse(tail)
            if complete is not None:  # the entry was written whole, only its newline is missing
                self._entries.append(complete)
            else:
                self.pending_ack = {
                    "line": len(lines) + 1,
                    "size": len(tail),
                    "sha256": hashlib.sha256(tail).hexdigest(),
                }
        self.rows: list[AnchorRow] | None = None
        self._recover()

    @property
    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    @property
    def last(self) -> dict[str, Any] | None:
        return self._entries[-1] if self._entries else None

    def _anchor(self) -> Anchor | None:
        return self.journal.anchor if self.journal.key else None

    def _recover(self) -> None:
        """Confirm an entry written just before a crash; give up announcements that never landed."""
        anchor = self._anchor()
        if anchor is None or self.journal.key is None:
            return
        try:
            self.rows = anchor.rows(self.journal.key)
            last = self.last
            confirm = [
                r.id
                for r in self.rows
                if r.state == ANNOUNCED and last and (r.seq, r.hash) == (last["seq"], last["hash"])
            ]
            top = int(last["seq"]) if last else 0
            lost = [r.id for r in self.rows if r.state == ANNOUNCED and r.seq > top]
            anchor.mark(confirm, WRITTEN)
            anchor.mark(lost, ABANDONED)
        except AnchorUnavailable:
            self.rows = None
            return
        written = {r.seq: r.hash for r in self.rows if r.state == WRITTEN or r.id in confirm}
        head = max(written, default=0)
        if head > top or (last is not None and written.get(top) not in (None, last["hash"])):
            self.warnings.append(
                "Le journal ne correspond plus à son ancre (des entrées ont disparu ou ont été remplacées) : "
                "lancez « officine incident verify »."
            )
        elif last is not None and top not in written:
            self.warnings.append(
                "La fin du journal n'est pas dans l'ancre (entrée ajoutée hors d'officine-cyber, ou base de "
                "données inaccessible lors d'une écriture) : lancez « officine incident verify »."
            )

    def append(
        self,
        actor: str,
        action: str,
        details: dict[str, Any] | None = None,
        evidence: list[dict[str, str]] | None = None,
        at: datetime | None = None,
    ) -> Appended:
        now = at or datetime.now(UTC)
        batch: list[dict[str, Any]] = []
        last = self.last
        if self.pending_ack is not None:
            batch.append(self._entry(last, SYSTEM_ACTOR, INTERRUPTED, self.pending_ack, [], now))
            last = batch[-1]
        batch.append(self._entry(last, actor, action, details or {}, evidence or [], now))
        ids, warnings = self._announce(batch)
        payload = self.prefix + b"".join(encode(e) for e in batch)
        try:
            _write_all(self.fd, payload)
            os.fsync(self.fd)
        except OSError as exc:
            self._undo(ids)
            raise _write_error(self.journal.path, exc) from exc
        if self.size == 0:
            _sync_folder(self.journal.path.parent)
        self.size += len(payload)
        self.prefix, self.pending_ack = b"", None
        self._entries.extend(batch)
        anchored = ids is not None
        anchor = self._anchor()
        if ids is not None and anchor is not None:
            try:
                anchor.mark(ids, WRITTEN)
            except AnchorUnavailable as exc:
                anchored = False
                warnings.append(
                    f"L'entrée est écrite, mais sa confirmation dans l'ancre a échoué ({exc.reason}) : "
                    "elle sera confirmée à la prochaine écriture."
                )
        return Appended(batch[-1], anchored, [*self.warnings, *warnings])

    def _entry(
        self,
        last: dict[str, Any] | None,
        actor: str,
        action: str,
        details: dict[str, Any],
        evidence: list[Any],
        at: datetime,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": int(last["seq"]) + 1 if last else 1,
            "at": at.astimezone(UTC).isoformat(timespec="seconds"),
            "actor": actor,
            "action": action,
            "details": details,
            "evidence": evidence,
            "prev": last["hash"] if last else GENESIS,
        }
        entry["hash"] = entry_hash(entry)
        return entry

    def _announce(self, batch: list[dict[str, Any]]) -> tuple[list[int] | None, list[str]]:
        anchor = self._anchor()
        if anchor is None or self.journal.key is None:
            return None, []
        try:
            return anchor.announce(self.journal.key, [(e["seq"], e["hash"]) for e in batch]), []
        except AnchorUnavailable as exc:
            return None, [
                f"L'entrée est écrite dans le journal, mais pas dans son ancre ({exc.reason}) : "
                "« officine incident verify » dira que sa fin n'est pas prouvée."
            ]

    def _undo(self, ids: list[int] | None) -> None:
        """A failed write: give back the file exactly as it was (only our own bytes are removed)."""
        try:
            os.ftruncate(self.fd, self.size)
            os.fsync(self.fd)
        except OSError:
            pass  # an incomplete line then stays: verify shows it, the next append records it
        anchor = self._anchor()
        if ids and anchor is not None:
            with suppress(AnchorUnavailable):
                anchor.mark(ids, ABANDONED)


class Journal:
    def __init__(self, path: Path, key: str | None = None, anchor: Anchor | None = None) -> None:
        self.path = path
        self.key = key
        self.anchor = anchor

    @contextmanager
    def writing(self) -> Iterator[Writer]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield Writer(self, fd)
        finally:
            os.close(fd)  # closing releases the lock

    def append(
        self,
        actor: str,
        action: str,
        details: dict[str, Any] | None = None,
        evidence: list[dict[str, str]] | None = None,
        at: datetime | None = None,
    ) -> Appended:
        with self.writing() as writer:
            return writer.append(actor, action, details, evidence, at)

    def entries(self) -> list[dict[str, Any]]:
        """Every readable entry, in file order (judge them with `verify`)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise UserError(f"Journal illisible ({self.path}) : {exc.strerror or exc}.") from exc
        lines, tail = split(data)
        return [e for e in (parse(raw) for raw in [*lines, tail]) if e is not None]

    def timeline(self) -> list[Entry]:
        return [Entry.of(e) for e in self.entries()]

    def verify(self, opening: str | None = None) -> Verification:
        if self.key is None or self.anchor is None:
            return verify(self.path, opening=opening)
        try:
            rows = self.anchor.rows(self.key)
        except AnchorUnavailable as exc:
            return verify(self.path, anchor_error=exc.reason, opening=opening)
        return verify(self.path, rows, opening=opening)


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, min(1 << 20, size - offset), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_folder(folder: Path) -> None:
    """A new file survives a power cut only once its folder entry is on disk too."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
