"""The offline Pwned Passwords list (haveibeenpwned.com), in its published SHA-1 format ordered
by hash: one line "SHA1-IN-CAPITALS:COUNT" per leaked password, tens of gigabytes. It is
searched by bisection on byte offsets: about 35 reads of one line each, never loaded.

A file in another order (the "ordered by prevalence" edition) or format (NTLM) would make the
search miss leaked passwords silently, so both are refused before any search."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import BinaryIO

from officine.errors import UserError

LINE = re.compile(rb"^([0-9A-F]{40}):(\d+)\r?\n?$")
NTLM_LINE = re.compile(rb"^[0-9A-F]{32}:\d+")
WINDOW = 4096  # below this many bytes, the remaining lines are read one by one
PROBES = 32  # lines checked for order when the file is opened


class PwnedFile:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise UserError(f"Liste Pwned Passwords introuvable : {path}.")
        self.path = path
        self.size = path.stat().st_size
        self._fh: BinaryIO = path.open("rb")
        try:
            self._check_format()
        except UserError:
            self._fh.close()
            raise

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> PwnedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_format(self) -> None:
        name = self.path.name
        first = self._fh.readline()
        if NTLM_LINE.match(first) and not LINE.match(first):
            raise UserError(f"{name} est la liste au format NTLM : téléchargez la version SHA-1 (triée par empreinte).")
        if self.size == 0 or not LINE.match(first):
            raise UserError(f"{name} n'est pas la liste Pwned Passwords au format SHA-1 (lignes « EMPREINTE:NOMBRE »).")
        previous = b""
        for i in range(PROBES + 1):
            line = self._line_after(self.size * i // (PROBES + 1)) if i else first
            if not line:
                continue
            match = LINE.match(line)
            if match is None:
                raise UserError(f"{name} contient une ligne mal formée : la liste est peut-être tronquée ou abîmée.")
            if match.group(1) < previous:
                raise UserError(
                    f"{name} n'est pas triée par empreinte : téléchargez l'édition « ordered by hash » "
                    "(sinon des mots de passe divulgués passeraient inaperçus)."
                )
            previous = match.group(1)

    def _line_after(self, offset: int) -> bytes:
        """The first complete line starting after `offset` (the whole first line for 0)."""
        self._fh.seek(offset)
        if offset:
            self._fh.readline()
        return self._fh.readline()

    def count(self, password: str) -> int:
        """How many times the password appears in known leaks (0: not in the list)."""
        target = hashlib.sha1(password.encode("utf-8")).hexdigest().upper().encode()  # noqa: S324 - the list's format
        lo, hi = 0, self.size  # the target's line, if present, starts in [lo, hi); lo starts a line
        fh = self._fh
        while hi - lo > WINDOW:
            mid = (lo + hi) // 2
            fh.seek(mid)
            fh.readline()
            start = fh.tell()
            if start >= hi:
                hi = mid
                continue
            line = fh.readline()
            digest = line[:40]
            if digest < target:
                lo = start + len(line)
            elif digest > target:
                hi = start
            else:
                return _count(line)
        fh.seek(lo)
        while fh.tell() < hi:
            line = fh.readline()
            if not line:
                break
            if line[:40] == target:
                return _count(line)
        return 0


def _count(line: bytes) -> int:
    match = LINE.match(line)
    return int(match.group(2)) if match else 1
