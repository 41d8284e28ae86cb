"""Canary files: realistic documents that no one should ever change, where an attacker meets them first.

A process that enumerates a folder meets, in most tools, either the name order or the directory's
own order (readdir): each protected folder gets a PDF named to sort first, a DOCX named to sort
last, and a JPEG scan whose name is chosen among candidates so that readdir lists it first. They
are real documents (valid headers, a readable PDF and Word file, a decodable JPEG) so that a
ransomware that checks types still takes them, and they are left out of every statistic of the
pharmacy's own data. Restoring one unchanged (a restic restore) is not an alarm: only a change of
content, a rename or a deletion is.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

FIRST_NAME = "!Inventaire stupéfiants - ne pas modifier.pdf"
LAST_NAME = "zz-Relevés fournisseurs - ne pas modifier.docx"
SCAN_NAME = "Scan ordonnance {n:04d}.jpg"
SCAN_CANDIDATES = 16
MAX_FOLDERS = 40
_LINES = (
    "Ce document est un leurre déposé par la sentinelle d'officine-cyber.",
    "Il ne contient aucune donnée réelle. Ne le modifiez pas et ne le supprimez pas :",
    "s'il change, la sentinelle considère qu'un rançongiciel chiffre vos fichiers.",
)


def _filler(n: int) -> list[str]:
    """Plausible inventory lines (deterministic), so the decoy has a realistic size."""
    items = ("Doliprane 1000 mg", "Amoxicilline 500 mg", "Ventoline 100 µg", "Levothyrox 75 µg", "Kardegic 75 mg")
    return [
        f"Ligne {i:04d} ; {items[i % len(items)]} ; lot {7301 + i * 13} ; quantité {(i * 37) % 90 + 1}"
        for i in range(n)
    ]


def pdf_document() -> bytes:
    """A small valid PDF (one page of text, exact cross-reference table)."""
    lines = [*_LINES, "", *_filler(900)]
    text = (
        "BT /F1 9 Tf 40 800 Td 11 TL "
        + " ".join(
            "("
            + line.encode("latin-1", "replace")
            .decode("latin-1")
            .replace("\\", "\\\\")
            .replace("(", "\\(")
            .replace(")", "\\)")
            + ") '"
            for line in lines
        )
        + " ET"
    )
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def docx_document() -> bytes:
    """A minimal Word document (Office Open XML in a zip container)."""
    paragraphs = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{line}</w:t></w:r></w:p>' for line in (*_LINES, *_filler(1500))
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{paragraphs}</w:body></w:document>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 5, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, body)
    return out.getvalue()


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg_document(comment: bytes = b"") -> bytes:
    """A baseline JPEG (8x8 grey, JFIF) that any decoder reads: a uniform block coded with
    one-symbol Huffman tables (DC difference 0, then end of block)."""
    jfif = b"JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
    dqt = b"\x00" + bytes([1] * 64)
    sof = b"\x08" + struct.pack(">HH", 8, 8) + b"\x01" + b"\x01\x11\x00"
    one_symbol = bytes([1] + [0] * 15)
    dht = b"\x00" + one_symbol + b"\x00" + b"\x10" + one_symbol + b"\x00"
    sos = b"\x01" + b"\x01\x00" + b"\x00\x3f\x00"
    body = b"\xff\xd8" + _segment(0xE0, jfif)
    note = comment or " ".join(_LINES).encode("utf-8")
    while note:
        body += _segment(0xFE, note[:65000])
        note = note[65000:]
    body += _segment(0xDB, dqt) + _segment(0xC0, sof) + _segment(0xC4, dht) + _segment(0xDA, sos)
    return body + b"\x3f" + b"\xff\xd9"


@dataclass(frozen=True)
class Canary:
    path: str
    sha256: str


def _write(path: Path, data: bytes) -> Canary:
    tmp = path.with_name(path.name + ".officine-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return Canary(str(path), hashlib.sha256(data).hexdigest())


def _readdir_first(folder: Path) -> Canary | None:
    """A scan whose name readdir returns before every other entry (ext4 orders by hash)."""
    data = jpeg_document(" ".join(_LINES).encode("utf-8") + b" " + "\n".join(_filler(700)).encode("utf-8"))
    chosen: Canary | None = None
    best = None
    for n in range(1, SCAN_CANDIDATES + 1):
        candidate = folder / SCAN_NAME.format(n=1000 + n)
        if candidate.exists():
            continue
        written = _write(candidate, data)
        order = os.listdir(folder)
        position = order.index(candidate.name)
        if best is None or position < best:
            if chosen is not None:
                os.unlink(chosen.path)
            chosen, best = written, position
        else:
            os.unlink(candidate)
        if position == 0:
            break
    return chosen


def place(folders: list[str]) -> list[Canary]:
    """Put the decoys in each folder (existing identical ones are kept)."""
    placed: list[Canary] = []
    pdf, docx = pdf_document(), docx_document()
    for folder in folders:
        base = Path(folder)
        try:
            placed.append(_write(base / FIRST_NAME, pdf))
            placed.append(_write(base / LAST_NAME, docx))
            existing = [p for p in base.glob("Scan ordonnance 1[0-9][0-9][0-9].jpg") if _is_ours(p)]
            if existing:
                placed.append(Canary(str(existing[0]), hashlib.sha256(existing[0].read_bytes()).hexdigest()))
            else:
                scan = _readdir_first(base)
                if scan is not None:
                    placed.append(scan)
        except OSError:
            continue
    return placed


def _is_ours(path: Path) -> bool:
    try:
        return _LINES[0].encode("utf-8") in path.read_bytes()[:4096]
    except OSError:
        return False


def choose_folders(roots: list[str], limit: int = MAX_FOLDERS) -> list[str]:
    """The roots, then their sub-folders holding the most files (two levels down)."""
    scored: list[tuple[int, str]] = []
    for root in roots:
        for directory, subdirs, names in os.walk(root):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]  # no decoys in .git, .cache...
            depth = directory[len(root) :].count(os.sep)
            if depth >= 2:
                subdirs[:] = []
            if directory != root:
                scored.append((len(names), directory))
    scored.sort(key=lambda item: (-item[0], item[1]))
    chosen = list(roots) + [d for n, d in scored if n > 0][: max(0, limit - len(roots))]
    return chosen


def save_manifest(path: Path, canaries: list[Canary]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([c.__dict__ for c in canaries], ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_manifest(path: Path) -> list[Canary]:
    try:
        return [Canary(str(c["path"]), str(c["sha256"])) for c in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def remove(canaries: list[Canary]) -> int:
    """Delete the decoys that are still ours (unchanged); returns how many were removed."""
    removed = 0
    for canary in canaries:
        path = Path(canary.path)
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() == canary.sha256:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
