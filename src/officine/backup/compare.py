"""Restored files against their originals: every byte of every file whose original is unchanged.

A drill restores files into a temporary folder (still in the page cache), so the speed of the
comparison is bound by reading the originals. On many small files the cost is per file, not per
byte: each file is opened, checked and read with plain `os` calls (no file objects, one `stat`
per side), and several files are read at once so that the disk always has requests queued —
a cold read of a small file is mostly waiting. Large files are read in big blocks with a
sequential read-ahead hint, by fewer readers so that their streams do not interleave.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from officine.errors import os_reason

COMPARE_BLOCK = 2 * 1024 * 1024
SMALL_READERS = 8  # small files: latency-bound, keep several reads in flight
LARGE_READERS = 2  # large files: bandwidth-bound, few long sequential streams
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation

Result = tuple[str, str | None]  # ('ok'|'changed'|'deleted'|'mismatch', why)

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def mtime_ns(value: object) -> int | None:
    """restic's RFC 3339 times carry nanoseconds; datetime keeps only microseconds."""
    if not isinstance(value, str):
        return None
    m = _RFC3339.match(value)
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    try:
        seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    except ValueError:
        return None
    return seconds * 1_000_000_000 + int((m.group(2) or "0").ljust(9, "0")[:9])


@dataclass(frozen=True)
class Planned:
    """One file of the snapshot, as `restic ls --json` describes it."""

    path: str
    size: int
    mtime_ns: int | None

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> Planned:
        return cls(str(node["path"]), int(node.get("size") or 0), mtime_ns(node.get("mtime")))

    def unchanged(self, st: os.stat_result) -> bool:
        """Same size and modification time (to the nanosecond) as when the snapshot was taken."""
        return self.mtime_ns is not None and st.st_size == self.size and st.st_mtime_ns == self.mtime_ns


def _read_exactly(fd: int, n: int) -> bytes:
    data = os.read(fd, n)
    while len(data) < n:
        more = os.read(fd, n - len(data))
        if not more:
            break
        data += more
    return data


def same_fds(a: int, b: int, size: int) -> bool:
    """Byte comparison of two open files of `size` bytes."""
    if size <= COMPARE_BLOCK:  # one read each
        return _read_exactly(a, size) == _read_exactly(b, size)
    for fd in (a, b):
        with contextlib.suppress(AttributeError, OSError):  # not on Windows and macOS
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    buf_a, buf_b = bytearray(COMPARE_BLOCK), bytearray(COMPARE_BLOCK)
    while True:
        na, nb = _fill(a, buf_a), _fill(b, buf_b)
        if na != nb:
            return False
        if not na:
            return True
        if na == COMPARE_BLOCK:
            if buf_a != buf_b:  # bytearray equality is a memcmp
                return False
        elif buf_a[:na] != buf_b[:nb]:
            return False


def _fill(fd: int, buf: bytearray) -> int:
    """Fill `buf` from `fd` (a network filesystem may return less than asked); bytes read."""
    view = memoryview(buf)
    done = 0
    while done < len(buf):
        n = os.readv(fd, [view[done:]]) if hasattr(os, "readv") else _read_into(fd, view[done:])
        if not n:
            break
        done += n
    return done


def _read_into(fd: int, view: memoryview) -> int:
    data = os.read(fd, len(view))
    view[: len(data)] = data
    return len(data)


def same_content(a: os.PathLike[str] | str, b: os.PathLike[str] | str) -> bool:
    """Are two files byte for byte identical?"""
    fa = os.open(a, os.O_RDONLY | _O_BINARY)
    try:
        fb = os.open(b, os.O_RDONLY | _O_BINARY)
        try:
            sa, sb = os.fstat(fa), os.fstat(fb)
            return sa.st_size == sb.st_size and same_fds(fa, fb, sa.st_size)
        finally:
            os.close(fb)
    finally:
        os.close(fa)


def compare_one(planned: Planned, restored_root: str) -> Result:
    """('ok'|'changed'|'deleted'|'mismatch', why) for one file of the snapshot."""
    restored = os.path.join(restored_root, planned.path.lstrip("/"))
    try:
        rfd = os.open(restored, os.O_RDONLY | _O_BINARY)
    except OSError:
        return "mismatch", "absent de la restauration"
    try:
        rst = os.fstat(rfd)
        if not stat.S_ISREG(rst.st_mode):
            return "mismatch", "absent de la restauration"
        if rst.st_size != planned.size:
            return "mismatch", "taille différente de celle de la sauvegarde"
        try:
            sfd = os.open(planned.path, os.O_RDONLY | _O_BINARY)
        except FileNotFoundError:
            return "deleted", None
        except OSError as exc:
            return "changed", f"original illisible ({os_reason(exc)})"
        try:
            if not planned.unchanged(os.fstat(sfd)):
                return "changed", None  # modified since the backup: a difference is expected, not corruption
            if not same_fds(rfd, sfd, planned.size):
                return "mismatch", "contenu différent de l'original alors que l'original n'a pas changé"
            return "ok", None
        finally:
            os.close(sfd)
    finally:
        os.close(rfd)


def compare_all(planned: Iterable[Planned], restored_root: os.PathLike[str] | str) -> dict[str, Result]:
    """Compare every planned file; results by path. Small and large files go to separate readers."""
    root = os.fspath(restored_root)
    items = list(planned)
    small = [p for p in items if p.size <= COMPARE_BLOCK]
    large = sorted((p for p in items if p.size > COMPARE_BLOCK), key=lambda p: -p.size)
    results: dict[str, Result] = {}
    with (
        ThreadPoolExecutor(max_workers=SMALL_READERS) as small_pool,
        ThreadPoolExecutor(max_workers=LARGE_READERS) as large_pool,
    ):
        pending_large = large_pool.map(lambda p: compare_one(p, root), large)
        for p, result in zip(small, _chunked_map(small_pool, small, root), strict=True):
            results[p.path] = result
        for p, result in zip(large, pending_large, strict=True):
            results[p.path] = result
    return results


def _chunked_map(pool: ThreadPoolExecutor, items: list[Planned], root: str) -> Iterator[Result]:
    """pool.map over batches: one task per few dozen small files keeps the scheduling cost low."""
    size = 32
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    for batch_results in pool.map(lambda batch: [compare_one(p, root) for p in batch], batches):
        yield from batch_results
