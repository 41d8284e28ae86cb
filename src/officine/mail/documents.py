"""Active content inside documents, found without opening them in their application:
PDF (JavaScript, launch actions, embedded files), Office (macros through oletools, external
relationships, embedded objects, encryption), RTF (embedded OLE objects)."""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile
import zlib

from officine.mail.archives import ZIP_ERRORS
from officine.mail.findings import Finding

MAX_PDF_STREAMS = 2000
MAX_PDF_INFLATED = 30 * 1024 * 1024  # all object streams of one PDF, decompressed
MAX_STREAM_INFLATED = 5 * 1024 * 1024
MAX_OLEVBA_BYTES = 20 * 1024 * 1024
MAX_RELS_BYTES = 2 * 1024 * 1024

_PDF_NAME = re.compile(rb"/[A-Za-z0-9#_.]{1,40}")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
_PDF_ACTIVE = {
    b"/JS": "JavaScript",
    b"/JavaScript": "JavaScript",
    b"/Launch": "lancement d'un programme",
    b"/RichMedia": "média Flash",
}
_EXTERNAL_REL = re.compile(rb"<Relationship\b[^>]*>", re.I)
_ATTR = re.compile(rb'(\w+)\s*=\s*"([^"]*)"')
_HARMLESS_EXTERNAL = (b"/hyperlink",)  # an ordinary clickable link in the document


def _pdf_names(chunk: bytes) -> set[bytes]:
    return {_PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), n) for n in _PDF_NAME.findall(chunk)}


def check_pdf(name: str, data: bytes) -> list[Finding]:
    """Names in the PDF's objects, in clear and inside compressed object streams (the way
    pdfid looks, with #xx escapes undone): no PDF library interprets the file."""
    names = _pdf_names(data)
    inflated = 0
    for count, match in enumerate(_PDF_STREAM.finditer(data)):
        if count >= MAX_PDF_STREAMS or inflated >= MAX_PDF_INFLATED:
            break
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        decompressor = zlib.decompressobj()
        try:
            chunk = decompressor.decompress(data[start:end], MAX_STREAM_INFLATED)
        except zlib.error:
            continue
        inflated += len(chunk)
        names |= _pdf_names(chunk)
    found = []
    active = sorted({label for key, label in _PDF_ACTIVE.items() if key in names})
    if active:
        found.append(Finding.of("pj_pdf_actif", nom=name, quoi=", ".join(active)))
    if b"/EmbeddedFile" in names or b"/EmbeddedFiles" in names:
        found.append(Finding.of("pj_pdf_fichier", nom=name))
    return found


def _macro_details(name: str, data: bytes) -> str:
    """What oletools says the macros do (run on opening, write files, run programs...)."""
    if len(data) > MAX_OLEVBA_BYTES:
        return ""
    try:
        with warnings.catch_warnings():  # oletools uses pyparsing names that now warn
            warnings.simplefilter("ignore")
            from oletools.olevba import VBA_Parser  # noqa: PLC0415 - slow to import, only for Office files

        logging.getLogger("olevba").setLevel(logging.CRITICAL)
        parser = VBA_Parser(name, data=data, relaxed=True, disable_pcode=True)
        try:
            if not parser.detect_vba_macros():
                return ""
            kinds = {str(kind) for kind, _keyword, _description in parser.analyze_macros()}
        finally:
            parser.close()
    except Exception:  # oletools on a damaged file: the macro part was still seen
        return ""
    details = []
    if "AutoExec" in kinds:
        details.append("qui se lancent dès l'ouverture")
    if "Suspicious" in kinds:
        details.append("qui font des actions dangereuses (télécharger, lancer un programme, écrire des fichiers)")
    if "IOC" in kinds:
        details.append("qui contiennent des adresses Internet")
    return " " + " et ".join(details) if details else ""


def check_ooxml(name: str, data: bytes, archive: zipfile.ZipFile) -> list[Finding]:
    found: list[Finding] = []
    names = [i.filename for i in archive.infolist()][:5000]
    lowered = [n.lower() for n in names]
    if any(n.endswith("vbaproject.bin") for n in lowered) or any(n.startswith("xl/macrosheets/") for n in lowered):
        found.append(Finding.of("pj_macros", nom=name, details=_macro_details(name, data)))
    targets: list[str] = []
    for info in archive.infolist()[:5000]:
        if not info.filename.lower().endswith(".rels") or info.file_size > MAX_RELS_BYTES:
            continue
        try:
            with archive.open(info) as fh:
                rels = fh.read(MAX_RELS_BYTES)
        except ZIP_ERRORS:
            continue
        for tag in _EXTERNAL_REL.findall(rels):
            attrs = {k.lower(): v for k, v in _ATTR.findall(tag)}
            if attrs.get(b"targetmode", b"").lower() != b"external":
                continue
            if attrs.get(b"type", b"").lower().endswith(_HARMLESS_EXTERNAL):
                continue
            target = attrs.get(b"target", b"").decode("utf-8", "replace")
            if target and target not in targets:
                targets.append(target)
    if targets:
        found.append(Finding.of("pj_liens_externes", nom=name, cibles=", ".join(targets[:3])))
    embedded = [n for n in names if "/embeddings/" in n.lower() or "/activex/" in n.lower()]
    if embedded:
        found.append(
            Finding.of("pj_objet_incorpore", nom=name, quoi=", ".join(e.rpartition("/")[2] for e in embedded[:3]))
        )
    return found


def check_ole(name: str, data: bytes) -> list[Finding]:
    import olefile  # noqa: PLC0415

    try:
        ole = olefile.OleFileIO(data)
    except Exception:  # olefile raises many kinds on damaged input
        return []
    try:
        streams = ["/".join(s) for s in ole.listdir(streams=True, storages=True)]
    except Exception:
        streams = []
    finally:
        ole.close()
    lowered = [s.lower() for s in streams]
    found: list[Finding] = []
    if any(s in ("encryptedpackage", "encryptioninfo") for s in lowered):
        found.append(Finding.of("pj_office_chiffre", nom=name))
    if any(s.endswith(("vba", "_vba_project", "vba/dir")) or "macros/" in s or s == "macros" for s in lowered):
        found.append(Finding.of("pj_macros", nom=name, details=_macro_details(name, data)))
    if any(s.endswith("\x01ole10native") for s in lowered):
        found.append(Finding.of("pj_objet_incorpore", nom=name, quoi="fichier empaqueté (Ole10Native)"))
    return found


def check_rtf(name: str, data: bytes) -> list[Finding]:
    lowered = data[: 40 * 1024 * 1024].lower()
    if b"\\objdata" in lowered or b"\\objupdate" in lowered or b"\\object" in lowered:
        return [Finding.of("pj_objet_incorpore", nom=name, quoi="objet OLE dans un document RTF")]
    return []


def ooxml_archive(data: bytes) -> zipfile.ZipFile | None:
    """The ZIP of an Office Open XML document, None for an ordinary archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = {n.lower() for n in archive.namelist()[:5000]}
    except ZIP_ERRORS:
        return None
    if "[content_types].xml" in names or any(n.startswith(("word/", "xl/", "ppt/")) for n in names):
        return archive
    return None
