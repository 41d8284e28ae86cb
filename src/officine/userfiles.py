"""Reading a file someone hands us (a snapshot, an answers file, a plan): bounded and regular only.

A path can name a device that never ends (`/dev/zero`), a pipe that blocks until someone
writes to it, or a file larger than memory. Each is refused with a French message before
anything is read past the limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from officine.errors import UserError, os_reason

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX: opening a pipe must not wait for a writer
_BINARY = getattr(os, "O_BINARY", 0)  # Windows


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "un dossier"
    if stat.S_ISFIFO(mode):
        return "un tube (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "un périphérique"
    if stat.S_ISSOCK(mode):
        return "une prise réseau (socket)"
    return "un fichier spécial"


def read_input(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; `what` names it ("Le fichier de réponses")."""
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            raise UserError(
                f"{what} {path} est {_kind(before.st_mode)}, pas un fichier ordinaire : indiquez un fichier."
            )
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY)
    except FileNotFoundError as exc:
        raise UserError(f"{what} {path} est introuvable. Vérifiez le chemin.") from exc
    except OSError as exc:
        raise UserError(f"{what} {path} ne peut pas être lu : {os_reason(exc)}.") from exc
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # replaced between the two looks
            raise UserError(
                f"{what} {path} est {_kind(opened.st_mode)}, pas un fichier ordinaire : indiquez un fichier."
            )
        if opened.st_size > limit:
            raise UserError(f"{what} {path} est trop gros ({opened.st_size} octets ; {limit} au plus).")
        chunks = []
        remaining = limit + 1  # the size can change while reading: never trust st_size alone
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise UserError(f"{what} {path} ne peut pas être lu : {os_reason(exc)}.") from exc
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UserError(f"{what} {path} est trop gros (plus de {limit} octets).")
    return data


def decode_text(data: bytes, path: Path, what: str) -> str:
    """UTF-8 text (a byte-order mark is tolerated); anything else gets a French refusal."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{what} {path} n'est pas un texte UTF-8 (ligne {line}) : enregistrez-le en UTF-8 puis relancez."
        ) from exc
