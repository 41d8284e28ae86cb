"""The baseline: every watched file's type (magic bytes) and size, known before anything happens.

A type can only be said to have changed against what it was; this index is that memory. It is
built once at start (the watcher already runs, so nothing is missed meanwhile) and rebuilt by a
rescan after an overflow. Canary files are kept apart: they never count as real data.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from officine.sentinel.content import head_type


@dataclass(slots=True)
class Entry:
    type: str
    size: int
    # When the sentinel last saw it written (0: found by the walk). Files written moments ago
    # (journals, lock and pid files) are not yet a baseline to compare with.
    written_at: float = 0.0

    def settled(self, now: float, delay: float) -> bool:
        return now - self.written_at >= delay


def extension(path: str) -> str:
    """The lower-case extension of a file name ("" when there is none)."""
    name = path.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


class BaselineIndex:
    def __init__(self) -> None:
        self._files: dict[str, Entry] = {}
        self.dirs: set[str] = set()
        self.extensions: set[str] = set()
        self.canaries: dict[str, str] = {}  # path -> SHA-256 of its content
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.unreadable: list[str] = []

    def __len__(self) -> int:
        return len(self._files)

    def build(self, roots: Iterable[str], skip: Iterable[str] = ()) -> int:
        """Walk the roots; returns the number of files indexed (canaries excluded)."""
        skipped = tuple(s.rstrip("/") + "/" for s in skip)
        files: dict[str, Entry] = {}
        dirs: set[str] = set()
        exts: set[str] = set()
        unreadable: list[str] = []
        for root in roots:
            for directory, subdirs, names in os.walk(root, onerror=lambda e: unreadable.append(str(e.filename))):
                if skipped and (directory + "/").startswith(skipped):
                    subdirs[:] = []
                    continue
                dirs.add(directory)
                for name in names:
                    path = os.path.join(directory, name)
                    if path in self.canaries:
                        continue
                    try:
                        st = os.lstat(path)
                    except OSError:
                        continue
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    kind = head_type(path)
                    if kind is None:
                        unreadable.append(path)
                        continue
                    files[path] = Entry(kind, st.st_size)
                    ext = extension(path)
                    if ext:
                        exts.add(ext)
        with self.lock:
            self._files = files
            self.dirs = dirs
            self.extensions = exts
            self.unreadable = unreadable
        self.ready.set()
        return len(files)

    def items(self) -> list[tuple[str, Entry]]:
        with self.lock:
            return list(self._files.items())

    def get(self, path: str) -> Entry | None:
        return self._files.get(path)

    def set(self, path: str, entry: Entry) -> None:
        with self.lock:
            # Extensions stay those of the baseline: a new one must remain "unknown".
            self._files[path] = entry

    def remove(self, path: str) -> Entry | None:
        with self.lock:
            return self._files.pop(path, None)

    def move(self, old: str, new: str) -> Entry | None:
        """A file renamed: its baseline follows it (the destination's own baseline is returned)."""
        with self.lock:
            replaced = self._files.get(new)
            entry = self._files.pop(old, None)
            if entry is not None:
                self._files[new] = entry
            return replaced

    def move_dir(self, old: str, new: str) -> None:
        prefix = old + "/"
        with self.lock:
            moved = {p: e for p, e in self._files.items() if p.startswith(prefix)}
            for path, entry in moved.items():
                del self._files[path]
                self._files[new + path[len(old) :]] = entry
            for d in [d for d in self.dirs if d == old or d.startswith(prefix)]:
                self.dirs.discard(d)
                self.dirs.add(new + d[len(old) :])

    def remove_dir(self, path: str) -> int:
        prefix = path + "/"
        with self.lock:
            gone = [p for p in self._files if p.startswith(prefix)]
            for p in gone:
                del self._files[p]
            self.dirs.discard(path)
            return len(gone)
