"""fanotify through ctypes (Linux, root): every event names the process that caused it.

One notification group with FAN_REPORT_DFID_NAME and a filesystem-wide mark on each watched
folder's filesystem, so creations, deletions and renames are reported too (kernel 5.9+), and
FAN_RENAME pairs a rename's old and new names (5.17+; without it, moves are reported as a
deletion and a creation). Events carry a directory handle and a name: the directory's path is
resolved at once by open_by_handle_at (CAP_DAC_READ_SEARCH, which root has) and kept in a
small cache emptied whenever a directory moves. Events outside the watched folders, and the
sentinel's own, are dropped here. FAN_Q_OVERFLOW is reported as an overflow event.

No Python binding covers the FID reporting modes (pyfanotify 0.3.0 gives file descriptors only),
hence ctypes; the layouts are those of <linux/fanotify.h>.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import struct
import threading
from dataclasses import dataclass

from officine.sentinel.events import Emit, FsEvent, Kind, under

FAN_CLOEXEC = 0x1
FAN_NONBLOCK = 0x2
FAN_CLASS_NOTIF = 0x0
FAN_REPORT_DIR_FID = 0x400
FAN_REPORT_NAME = 0x800
FAN_REPORT_DFID_NAME = FAN_REPORT_DIR_FID | FAN_REPORT_NAME
FAN_MARK_ADD = 0x1
FAN_MARK_FILESYSTEM = 0x100
FAN_MODIFY = 0x2
FAN_CLOSE_WRITE = 0x8
FAN_MOVED_FROM = 0x40
FAN_MOVED_TO = 0x80
FAN_CREATE = 0x100
FAN_DELETE = 0x200
FAN_Q_OVERFLOW = 0x4000
FAN_RENAME = 0x10000000
FAN_ONDIR = 0x40000000
INFO_DFID_NAME = 2
INFO_OLD_DFID_NAME = 10
INFO_NEW_DFID_NAME = 12
AT_FDCWD = -100
O_PATH = 0o10000000
METADATA = struct.Struct("=IBBHQii")
INFO_HEADER = struct.Struct("=BBH")

_libc = ctypes.CDLL(None, use_errno=True)


class FanotifyUnavailable(Exception):
    """The kernel or the privileges do not allow this mode; the caller falls back."""


@dataclass(frozen=True)
class Support:
    rename: bool  # FAN_RENAME pairs old and new names


def _init(flags: int) -> int:
    fd = int(_libc.fanotify_init(ctypes.c_uint(flags), ctypes.c_uint(os.O_RDONLY | os.O_LARGEFILE)))
    if fd < 0:
        err = ctypes.get_errno()
        raise FanotifyUnavailable(f"fanotify_init: {os.strerror(err)}")
    return fd


def _mark(fd: int, mask: int, path: str) -> None:
    rc = _libc.fanotify_mark(
        ctypes.c_int(fd),
        ctypes.c_uint(FAN_MARK_ADD | FAN_MARK_FILESYSTEM),
        ctypes.c_uint64(mask),
        ctypes.c_int(AT_FDCWD),
        path.encode(),
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise FanotifyUnavailable(f"fanotify_mark({path}): {os.strerror(err)}")


BASE_MASK = FAN_CLOSE_WRITE | FAN_CREATE | FAN_DELETE | FAN_ONDIR


def probe() -> Support:
    """What this kernel offers, tried for real (raises FanotifyUnavailable when nothing fits)."""
    fd = _init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME)
    try:
        try:
            _mark(fd, BASE_MASK | FAN_RENAME, "/")
            return Support(rename=True)
        except FanotifyUnavailable:
            _mark(fd, BASE_MASK | FAN_MOVED_FROM | FAN_MOVED_TO, "/")
            return Support(rename=False)
    finally:
        os.close(fd)


class FanotifyWatcher:
    mode = "fanotify"
    gives_pid = True

    def __init__(self) -> None:
        self.support = probe()
        self._fd = -1
        self._mount_fds: list[int] = []
        self._roots: tuple[str, ...] = ()
        self._dirs: dict[bytes, str] = {}
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._own_pid = os.getpid()

    def start(self, roots: list[str], emit: Emit) -> None:
        self._roots = tuple(r.rstrip("/") or "/" for r in roots)
        self._fd = _init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME)
        mask = BASE_MASK | (FAN_RENAME if self.support.rename else FAN_MOVED_FROM | FAN_MOVED_TO)
        seen_devices: set[int] = set()
        for root in self._roots:
            device = os.stat(root).st_dev
            if device in seen_devices:
                continue
            seen_devices.add(device)
            _mark(self._fd, mask, root)
            self._mount_fds.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY))
        self._thread = threading.Thread(target=self._run, args=(emit,), name="sentinel-fanotify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._fd, *self._mount_fds, self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _run(self, emit: Emit) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping.is_set():
            poller.poll()
            while True:
                try:
                    buf = os.read(self._fd, 256 * 1024)
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno == errno.EINTR:
                        continue
                    raise
                if not buf:
                    break
                self._parse(buf, emit)

    def _parse(self, buf: bytes, emit: Emit) -> None:
        offset = 0
        while offset + METADATA.size <= len(buf):
            event_len, _vers, _res, meta_len, mask, fd, pid = METADATA.unpack_from(buf, offset)
            if fd >= 0:
                os.close(fd)
            if mask & FAN_Q_OVERFLOW:
                emit(FsEvent(Kind.overflow, "", None))
            elif pid != self._own_pid:
                self._event(buf[offset + meta_len : offset + event_len], mask, pid, emit)
            offset += event_len

    def _event(self, info: bytes, mask: int, pid: int, emit: Emit) -> None:
        names: dict[int, str] = {}
        pos = 0
        while pos + INFO_HEADER.size <= len(info):
            info_type, _pad, length = INFO_HEADER.unpack_from(info, pos)
            if length == 0:
                break
            if info_type in (INFO_DFID_NAME, INFO_OLD_DFID_NAME, INFO_NEW_DFID_NAME):
                path = self._path(info[pos + INFO_HEADER.size : pos + length])
                if path is not None:
                    names[info_type] = path
            pos += length
        is_dir = bool(mask & FAN_ONDIR)
        if mask & FAN_RENAME:
            old, new = names.get(INFO_OLD_DFID_NAME), names.get(INFO_NEW_DFID_NAME)
            if is_dir:
                self._dirs.clear()
            old_in = old is not None and under(old, self._roots)
            new_in = new is not None and under(new, self._roots)
            if old_in and new_in:
                emit(FsEvent(Kind.rename, new or "", pid, old_path=old, is_dir=is_dir))
            elif old_in:
                emit(FsEvent(Kind.delete, old or "", pid, is_dir=is_dir))
            elif new_in:
                emit(FsEvent(Kind.create, new or "", pid, is_dir=is_dir))
            return
        path = names.get(INFO_DFID_NAME)
        if path is None or not under(path, self._roots):
            return
        # The kernel merges events on the same name that are still queued (delete + create + write
        # of a file replaced by tar): emit each part, in the order the file's presence tells.
        gone = bool(mask & (FAN_MOVED_FROM | FAN_DELETE))
        parts = []
        if mask & (FAN_MOVED_TO | FAN_CREATE):
            parts.append(FsEvent(Kind.create, path, pid, is_dir=is_dir))
        if mask & FAN_CLOSE_WRITE and not is_dir:
            parts.append(FsEvent(Kind.write, path, pid))
        if gone:
            if is_dir:
                self._dirs.clear()
            deletion = FsEvent(Kind.delete, path, pid, is_dir=is_dir)
            if parts and os.path.lexists(path):
                parts.insert(0, deletion)
            else:
                parts.append(deletion)
        for part in parts:
            emit(part)

    def _path(self, record: bytes) -> str | None:
        """Directory handle + name -> path (fsid: 8 bytes, file_handle, NUL-terminated name)."""
        handle_bytes = struct.unpack_from("=I", record, 8)[0]
        handle_end = 8 + 8 + handle_bytes
        handle = record[8:handle_end]
        name = record[handle_end:].split(b"\0", 1)[0]
        directory = self._dirs.get(handle)
        if directory is None:
            directory = self._resolve(handle)
            if directory is None:
                return None
            if len(self._dirs) > 20000:
                self._dirs.clear()
            self._dirs[handle] = directory
        if not name or name == b".":
            return directory
        return os.path.join(directory, os.fsdecode(name))

    def _resolve(self, handle: bytes) -> str | None:
        buf = ctypes.create_string_buffer(handle, len(handle))
        for mount_fd in self._mount_fds:
            fd = _libc.open_by_handle_at(ctypes.c_int(mount_fd), buf, ctypes.c_int(O_PATH))
            if fd < 0:
                continue
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                return None
            finally:
                os.close(fd)
            return None if target.endswith(" (deleted)") else target
        return None
