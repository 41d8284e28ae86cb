"""What the agent has to send, kept on disk until the server took it: one file per message,
numbered, written whole (temporary file, fsync, rename) before anything is tried. Sent in
order, removed once the server answered that it has it; a message the server refuses as
unreadable is moved aside (never deleted) and the next ones go on."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from filelock import FileLock

from officine.agent.config import queue_dir
from officine.errors import UserError, os_reason

NAME_DIGITS = 12


class Outbox:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or queue_dir()
        self.refused_dir = self.folder.parent / "refuses"
        self.lock = FileLock(self.folder.parent / "agent.lock", timeout=600, mode=0o600)

    def _ensure(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def next_sequence(self) -> int:
        """One more than any message ever queued here (the counter survives an empty queue)."""
        self._ensure()
        counter = self.folder / ".dernier"
        last = int(counter.read_text()) if counter.exists() else 0
        found = [int(p.stem) for p in self.pending()] + [int(p.stem) for p in self._refused()]
        return max([last, *found]) + 1

    def put(self, build: Any) -> Path:
        """Queue the message `build(sequence)` makes; returns its file. A disk that refuses the
        write leaves the queue as it was (the temporary file is removed) and says so."""
        try:
            sequence = self.next_sequence()
            document = build(sequence)
            path = self.folder / f"{sequence:0{NAME_DIGITS}d}.json"
            tmp = self.folder / f".{path.name}.tmp"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(json.dumps(document, ensure_ascii=False).encode("utf-8"))
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            (self.folder / ".dernier").write_text(str(sequence))
            _sync_dir(self.folder)
        except OSError as exc:
            raise UserError(
                f"Impossible d'écrire la file d'attente de l'agent dans {self.folder} ({os_reason(exc)}). "
                "Libérez de la place sur le disque ; ce qui attendait déjà est intact."
            ) from exc
        return path

    def pending(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.json") if p.stem.isdigit())

    def _refused(self) -> list[Path]:
        return sorted(self.refused_dir.glob("*.json")) if self.refused_dir.is_dir() else []

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        _sync_dir(self.folder)

    def set_aside(self, path: Path, reason: str) -> Path:
        self.refused_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.refused_dir / path.name
        os.replace(path, target)
        target.with_suffix(".raison.txt").write_text(reason + "\n", encoding="utf-8")
        return target


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
