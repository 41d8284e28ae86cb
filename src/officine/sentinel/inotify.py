"""inotify (Linux without root): one watch per directory, kept in step as folders come and go.

inotify gives no process ID, so the sentinel judges the host as a whole in this mode. The
binding is inotify_simple (a few lines of ctypes over libc, no compiled part, maintained):
it only reads and decodes the kernel's records, which is all the thin reader needs. Renames are
paired by their cookie; a move out of the watched tree is a deletion, a move in a creation (a
folder moved in is walked). IN_Q_OVERFLOW becomes an overflow event, followed by a rescan.
"""

from __future__ import annotations

import os
import select
import threading

from inotify_simple import INotify
from inotify_simple import flags as F

from officine.sentinel.events import Emit, FsEvent, Kind

MASK = F.CLOSE_WRITE | F.CREATE | F.DELETE | F.MOVED_FROM | F.MOVED_TO | F.DELETE_SELF | F.MOVE_SELF | F.DONT_FOLLOW


class InotifyWatcher:
    mode = "inotify"
    gives_pid = False

    def __init__(self) -> None:
        self._inotify = INotify(nonblocking=True)
        self._paths: dict[int, str] = {}
        self._wds: dict[str, int] = {}
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.watch_errors = 0

    def start(self, roots: list[str], emit: Emit) -> None:
        for root in roots:
            self._add_tree(root.rstrip("/") or "/", emit=None)
        self._thread = threading.Thread(target=self._run, args=(emit,), name="sentinel-inotify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._inotify.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    @property
    def watched_dirs(self) -> int:
        return len(self._wds)

    def _add_tree(self, top: str, emit: Emit | None) -> None:
        """Watch `top` and every folder below; with `emit`, report files already inside as created
        (they were written between the folder's creation and its watch)."""
        stack = [top]
        while stack:
            directory = stack.pop()
            try:
                wd = self._inotify.add_watch(directory, MASK)
            except OSError:
                self.watch_errors += 1
                continue
            self._paths[wd] = directory
            self._wds[directory] = wd
            try:
                with os.scandir(directory) as it:
                    for entry in it:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif emit is not None:
                            emit(FsEvent(Kind.create, entry.path, None))
                            emit(FsEvent(Kind.write, entry.path, None))
            except OSError:
                continue

    def _moved_dir(self, old: str, new: str) -> None:
        prefix = old + "/"
        for wd, path in list(self._paths.items()):
            if path == old or path.startswith(prefix):
                moved = new + path[len(old) :]
                self._paths[wd] = moved
                self._wds.pop(path, None)
                self._wds[moved] = wd

    def _forget(self, path: str) -> None:
        prefix = path + "/"
        for known in [p for p in self._wds if p == path or p.startswith(prefix)]:
            wd = self._wds.pop(known)
            self._paths.pop(wd, None)

    def _run(self, emit: Emit) -> None:
        poller = select.poll()
        poller.register(self._inotify.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping.is_set():
            poller.poll()
            try:
                batch = self._inotify.read(timeout=0)
            except BlockingIOError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                raise
            self._handle(batch, emit)

    def _handle(self, batch: list[object], emit: Emit) -> None:
        moved_from: dict[int, tuple[str, bool]] = {}
        for ev in batch:
            wd, mask, cookie, name = ev.wd, ev.mask, ev.cookie, ev.name  # type: ignore[attr-defined]
            if mask & F.Q_OVERFLOW:
                emit(FsEvent(Kind.overflow, "", None))
                continue
            if mask & F.IGNORED:
                path = self._paths.pop(wd, None)
                if path is not None and self._wds.get(path) == wd:
                    del self._wds[path]
                continue
            directory = self._paths.get(wd)
            if directory is None or mask & (F.DELETE_SELF | F.MOVE_SELF):
                continue
            path = os.path.join(directory, name) if name else directory
            is_dir = bool(mask & F.ISDIR)
            if mask & F.CLOSE_WRITE:
                emit(FsEvent(Kind.write, path, None))
            elif mask & F.CREATE:
                emit(FsEvent(Kind.create, path, None, is_dir=is_dir))
                if is_dir:
                    self._add_tree(path, emit)
            elif mask & F.DELETE:
                emit(FsEvent(Kind.delete, path, None, is_dir=is_dir))
                if is_dir:
                    self._forget(path)
            elif mask & F.MOVED_FROM:
                moved_from[cookie] = (path, is_dir)
            elif mask & F.MOVED_TO:
                source = moved_from.pop(cookie, None)
                if source is not None:
                    if is_dir:
                        self._moved_dir(source[0], path)
                    emit(FsEvent(Kind.rename, path, None, old_path=source[0], is_dir=is_dir))
                else:
                    emit(FsEvent(Kind.create, path, None, is_dir=is_dir))
                    if is_dir:
                        self._add_tree(path, emit)
        # Moved out of the watched folders: gone, as far as the sentinel can see.
        for path, is_dir in moved_from.values():
            emit(FsEvent(Kind.delete, path, None, is_dir=is_dir))
            if is_dir:
                self._forget(path)
