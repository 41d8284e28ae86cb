"""Archives opened as far as possible without running or extracting anything to disk, and
without the password: a ZIP lists its names even when its content is encrypted; RAR lists
them unless its headers are encrypted too; 7-Zip and the others are only recognised.

Every archive can be a bomb (a few kilobytes that expand to gigabytes, archives inside
archives, millions of entries, entries that overlap), so a budget is shared by the whole
message: members looked at, bytes decompressed, nesting depth, and the ratio of each member."""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from officine.mail.findings import Finding

MAX_MEMBERS = 1000  # entries looked at in the whole message
MAX_TOTAL_BYTES = 100 * 1024 * 1024  # decompressed, whole message
MAX_MEMBER_BYTES = 40 * 1024 * 1024  # one decompressed member
MAX_RATIO = 100  # decompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_DEPTH = 3  # an archive in an archive in an archive


@dataclass
class Budget:
    members: int = 0
    bytes: int = 0


# (member name shown, data or None when only the name could be read, depth) -> findings
Inspect = Callable[[str, bytes | None, int], list[Finding]]


def _zip_entry_count(data: bytes) -> int | None:
    """The entry count of the End Of Central Directory record, read before any entry is parsed."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    count: int = struct.unpack_from("<H", data, at + 10)[0]
    return count


# What a damaged or hostile ZIP raises while it is listed or a member is decompressed (a corrupt
# deflate stream raises zlib.error, an LZMA member lzma.LZMAError: neither is an OSError).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


def inspect_zip(name: str, data: bytes, depth: int, budget: Budget, inspect: Inspect) -> list[Finding]:
    found: list[Finding] = []
    count = _zip_entry_count(data)
    if count is not None and (count == 0xFFFF or budget.members + count > MAX_MEMBERS):
        return [Finding.of("pj_archive_bombe", nom=name, cause=f"plus de {MAX_MEMBERS} fichiers")]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except ZIP_ERRORS:
        return [Finding.of("pj_archive_non_inspectee", nom=name, cause="archive endommagée ou d'un format inconnu")]
    encrypted = [i.filename for i in infos if i.flag_bits & 0x1]
    if encrypted:
        listed = ", ".join(encrypted[:5]) + (" …" if len(encrypted) > 5 else "")
        found.append(Finding.of("pj_archive_chiffree", nom=name, contenu=f" (elle contient : {listed})"))
    for info in infos:
        if info.is_dir():
            continue
        budget.members += 1
        if budget.members > MAX_MEMBERS:
            found.append(Finding.of("pj_archive_bombe", nom=name, cause=f"plus de {MAX_MEMBERS} fichiers"))
            break
        shown = f"{name} › {info.filename}"
        if info.flag_bits & 0x1:
            found += inspect(shown, None, depth + 1)
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            found.append(
                Finding.of(
                    "pj_archive_bombe",
                    nom=name,
                    cause=f"{info.filename} ferait {info.file_size // (1024 * 1024)} Mo une fois décompressé",
                )
            )
            found += inspect(shown, None, depth + 1)
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            found.append(
                Finding.of(
                    "pj_archive_bombe", nom=name, cause=f"{info.filename} est compressé plus de {MAX_RATIO} fois"
                )
            )
            found += inspect(shown, None, depth + 1)
            continue
        if budget.bytes + info.file_size > MAX_TOTAL_BYTES:
            found.append(
                Finding.of(
                    "pj_archive_bombe",
                    nom=name,
                    cause=f"plus de {MAX_TOTAL_BYTES // (1024 * 1024)} Mo une fois décompressée",
                )
            )
            found += inspect(shown, None, depth + 1)
            break
        try:
            with archive.open(info) as member:
                content = member.read(MAX_MEMBER_BYTES + 1)  # zipfile stops at the declared size
        except ZIP_ERRORS:
            found.append(
                Finding.of("pj_archive_non_inspectee", nom=name, cause=f"{info.filename} ne se décompresse pas")
            )
            found += inspect(shown, None, depth + 1)
            continue
        budget.bytes += len(content)
        found += inspect(shown, content, depth + 1)
    return found


def inspect_rar(name: str, data: bytes, depth: int, budget: Budget, inspect: Inspect) -> list[Finding]:
    import rarfile  # noqa: PLC0415 - pure Python for listing; never asked to extract

    try:
        archive = rarfile.RarFile(io.BytesIO(data))
        infos = archive.infolist()
        needs_password = archive.needs_password()
    except rarfile.PasswordRequired:
        return [Finding.of("pj_archive_chiffree", nom=name, contenu=" (même la liste de ses fichiers est chiffrée)")]
    except Exception:  # rarfile raises many kinds on damaged input
        return [Finding.of("pj_archive_non_inspectee", nom=name, cause="archive RAR endommagée")]
    found: list[Finding] = []
    if needs_password:
        names = [i.filename for i in infos if i.needs_password()][:5]
        found.append(Finding.of("pj_archive_chiffree", nom=name, contenu=f" (elle contient : {', '.join(names)})"))
    else:
        found.append(
            Finding.of(
                "pj_archive_non_inspectee",
                nom=name,
                cause="le contenu des archives RAR n'est pas décompressé ; seuls les noms ont été vérifiés",
            )
        )
    for info in infos:
        if info.is_dir():
            continue
        budget.members += 1
        if budget.members > MAX_MEMBERS:
            found.append(Finding.of("pj_archive_bombe", nom=name, cause=f"plus de {MAX_MEMBERS} fichiers"))
            break
        found += inspect(f"{name} › {info.filename}", None, depth + 1)
    return found


def inspect_archive(kind: str, name: str, data: bytes, depth: int, budget: Budget, inspect: Inspect) -> list[Finding]:
    if depth >= MAX_DEPTH:
        return [
            Finding.of("pj_archive_bombe", nom=name, cause=f"des archives imbriquées sur plus de {MAX_DEPTH} niveaux")
        ]
    if kind == "zip":
        return inspect_zip(name, data, depth, budget, inspect)
    if kind == "rar":
        return inspect_rar(name, data, depth, budget, inspect)
    what = {"7z": "archive 7-Zip", "gzip": "archive compressée", "cab": "archive CAB"}.get(kind, "archive")
    return [
        Finding.of("pj_archive_non_inspectee", nom=name, cause=f"{what} : son contenu n'est pas ouvert par l'analyseur")
    ]
