"""What a file's bytes say: its type by magic bytes, and whether interior fragments look like ciphertext.

Statistics on small samples cannot tell ciphertext from deflate or JPEG data; chi-square on
fragments of 64 KiB or more can (../shared/reference/sentinel-backup.md §1.3: 0 false flags on
jpg/png/gzip/zip/pdf, 36/36 on AES output). Small files are therefore judged by their type only.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass

# (type, offset, signature). Order matters: the first match wins.
_SIGNATURES: tuple[tuple[str, int, bytes], ...] = (
    ("pdf", 0, b"%PDF-"),
    ("zip", 0, b"PK\x03\x04"),
    ("zip", 0, b"PK\x05\x06"),
    ("jpeg", 0, b"\xff\xd8\xff"),
    ("png", 0, b"\x89PNG\r\n\x1a\n"),
    ("gif", 0, b"GIF8"),
    ("ole", 0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    ("sqlite", 0, b"SQLite format 3\x00"),
    ("gzip", 0, b"\x1f\x8b"),
    ("7z", 0, b"7z\xbc\xaf\x27\x1c"),
    ("rar", 0, b"Rar!\x1a\x07"),
    ("xz", 0, b"\xfd7zXZ\x00"),
    ("zstd", 0, b"\x28\xb5\x2f\xfd"),
    ("bzip2", 0, b"BZh"),
    ("tiff", 0, b"II*\x00"),
    ("tiff", 0, b"MM\x00*"),
    ("bmp", 0, b"BM"),
    ("rtf", 0, b"{\\rtf"),
    ("elf", 0, b"\x7fELF"),
    ("exe", 0, b"MZ"),
    ("mp3", 0, b"ID3"),
    ("mp4", 4, b"ftyp"),
    ("webp", 8, b"WEBP"),
    ("deb", 0, b"!<arch>\n"),
    ("tar", 257, b"ustar"),
    ("pgp", 0, b"-----BEGIN PGP"),
    ("kdbx", 0, b"\x03\xd9\xa2\x9a"),
)
# Formats whose body is already compressed or encoded: a random-looking interior is normal for
# them, so only a change of type (not the statistic) can show they were encrypted.
COMPRESSED_TYPES = frozenset(
    {
        "zip",
        "jpeg",
        "png",
        "gif",
        "gzip",
        "7z",
        "rar",
        "xz",
        "zstd",
        "bzip2",
        "mp3",
        "mp4",
        "webp",
        "deb",
        "pdf",
        "kdbx",
    }
)
UNKNOWN_TYPE = "data"
EMPTY_TYPE = "empty"
TEXT_TYPE = "text"
# Chi-square of a byte histogram against the uniform one, 255 degrees of freedom: below ~311
# (p ≈ 0.01) the bytes are as flat as a cipher's output.
CHI_SQUARE_RANDOM = 311.0


def file_type(head: bytes) -> str:
    """The type named by the first bytes; "text" for readable text, "data" for anything else."""
    if not head:
        return EMPTY_TYPE
    for name, offset, signature in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return name
    sample = head[:512]
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(sample) - 3:
            decoded = sample.decode("latin-1") if _mostly_printable(sample) else ""
        else:
            decoded = sample[: exc.start].decode("utf-8")
        if not decoded:
            return UNKNOWN_TYPE
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in decoded)
    return TEXT_TYPE if printable >= 0.95 * len(decoded) else UNKNOWN_TYPE


def _mostly_printable(sample: bytes) -> bool:
    return sum(32 <= b < 127 or b in (9, 10, 13) or b >= 0xA0 for b in sample) >= 0.95 * len(sample)


def chi_square(data: bytes) -> float:
    """Pearson's chi-square of the byte histogram against a uniform distribution."""
    n = len(data)
    if n == 0:
        return float("inf")
    expected = n / 256
    counts = Counter(data)
    seen = sum((c - expected) ** 2 for c in counts.values())
    return (seen + (256 - len(counts)) * expected * expected) / expected


@dataclass(frozen=True)
class Sample:
    """What one read of a file showed."""

    size: int
    type: str
    fragments: int  # interior fragments tested
    random_fragments: int  # of which look like ciphertext
    min_chi_square: float | None

    @property
    def random_interior(self) -> bool:
        return self.random_fragments > 0


def fragment_offsets(size: int, fragment: int, count: int, skip: int) -> list[int]:
    """Offsets of up to `count` whole fragments spread evenly through the file's interior.

    The header (`skip` bytes) is left out: intermittent encryption keeps it, and a container's
    header is not representative of its body."""
    usable = size - skip
    if usable < fragment:
        return []
    slots = usable // fragment
    if slots <= count:
        return [skip + i * fragment for i in range(slots)]
    step = (slots - 1) / (count - 1) if count > 1 else 0
    return sorted({skip + round(i * step) * fragment for i in range(count)})


def sample_file(path: str, fragment: int = 65536, count: int = 4, skip: int = 4096) -> Sample | None:
    """Read the header and a few interior fragments; None when the file is gone or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not _regular(st.st_mode):
            return None
        kind = file_type(_pread(fd, 512, 0))
        lowest: float | None = None
        random_count = 0
        offsets = fragment_offsets(st.st_size, fragment, count, skip)
        for offset in offsets:
            data = _pread(fd, fragment, offset)
            if len(data) < fragment:
                break
            chi = chi_square(data)
            lowest = chi if lowest is None else min(lowest, chi)
            if chi < CHI_SQUARE_RANDOM:
                random_count += 1
        return Sample(st.st_size, kind, len(offsets), random_count, lowest)
    except OSError:
        return None
    finally:
        os.close(fd)


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def head_type(path: str) -> str | None:
    """The type of a file from its first bytes only (the baseline index's cheap read)."""
    try:
        with open(path, "rb") as fh:
            return file_type(fh.read(512))
    except OSError:
        return None
