"""Windows and macOS: watchdog (ReadDirectoryChangesW, FSEvents), which gives no process ID.

watchdog drops a Windows buffer overflow silently (issue #1019 in gorakhargosh/watchdog, see
../shared/reference/sentinel-backup.md §2.1), so in this mode the engine also rescans on a timer.
The same adapter runs on Linux in the tests (watchdog then uses inotify underneath).
"""

from __future__ import annotations

import os
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from officine.sentinel.events import Emit, FsEvent, Kind


class _Handler(FileSystemEventHandler):
    def __init__(self, emit: Emit) -> None:
        self.emit = emit

    def on_any_event(self, event: FileSystemEvent) -> None:
        src = os.fsdecode(event.src_path)
        kind = event.event_type
        if kind == "created":
            self.emit(FsEvent(Kind.create, src, None, is_dir=event.is_directory))
        elif kind == "deleted":
            self.emit(FsEvent(Kind.delete, src, None, is_dir=event.is_directory))
        elif kind == "moved":
            dest = os.fsdecode(event.dest_path)
            self.emit(FsEvent(Kind.rename, dest, None, old_path=src, is_dir=event.is_directory))
        elif kind in ("closed", "modified") and not event.is_directory:
            # Windows and macOS have no "closed after writing": a modification is the signal there.
            self.emit(FsEvent(Kind.write, src, None))


class WatchdogWatcher:
    mode = "watchdog"
    gives_pid = False

    def __init__(self) -> None:
        self._observer: Any = Observer()

    def start(self, roots: list[str], emit: Emit) -> None:
        handler = _Handler(emit)
        for root in roots:
            self._observer.schedule(handler, root, recursive=True)
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)
