"""Attachments (and files inside archives): names, real types, active content."""

from __future__ import annotations

import re
import unicodedata

from officine.mail.archives import Budget, inspect_archive
from officine.mail.documents import check_ole, check_ooxml, check_pdf, check_rtf, ooxml_archive
from officine.mail.filetypes import (
    DANGEROUS_KINDS,
    EXPECTED,
    IMAGE_EXTENSIONS,
    KIND_NAMES,
    TEXT_EXTENSIONS,
    describe,
    sniff,
)
from officine.mail.findings import Finding
from officine.mail.knowledge import Knowledge
from officine.mail.parse import Mail

_SMUGGLING = (
    (re.compile(rb"<script", re.I), "script"),
    (re.compile(rb"atob\s*\(", re.I), "décodage de données cachées"),
    (re.compile(rb"new\s+Blob\s*\(|msSaveOrOpenBlob|createObjectURL", re.I), "fabrication d'un fichier"),
    (re.compile(rb"(window|document)\.location|http-equiv\s*=\s*[\"']?refresh", re.I), "redirection vers un site"),
    (re.compile(rb"<form\b", re.I), "formulaire"),
)


def _extensions(name: str) -> tuple[str, str]:
    """(last, next-to-last) extensions of the last path element, lower case; trailing dots and
    spaces are ignored as Windows does."""
    base = name.replace("\\", "/").rpartition("/")[2].rstrip(" .")
    parts = [p.strip().lower() for p in base.split(".")]
    if len(parts) < 2:
        return "", ""
    return parts[-1], (parts[-2] if len(parts) >= 3 else "")


def _category(ext: str, kn: Knowledge) -> str | None:
    e = kn.extensions
    for category in (
        "executable",
        "installeur",
        "script",
        "raccourci",
        "hta",
        "iso",
        "img",
        "vhd",
        "html",
        "office",
        "pdf",
        "archive",
    ):
        if ext in getattr(e, category):
            return category
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in TEXT_EXTENSIONS:
        return "text"
    return None


def _has_bidi(name: str) -> bool:
    return any(unicodedata.category(ch) == "Cf" for ch in name)


class Inspector:
    def __init__(self, kn: Knowledge) -> None:
        self.kn = kn
        self.budget = Budget()

    def inspect(self, name: str, data: bytes | None, depth: int = 0) -> list[Finding]:
        kn = self.kn
        found: list[Finding] = []
        genres = kn.reasons.genres
        ext, previous = _extensions(name)
        category = _category(ext, kn)
        if _has_bidi(name):
            found.append(
                Finding.of(
                    "pj_double_extension",
                    nom=name,
                    apparente="nom inversé par un caractère invisible",
                    reelle=ext or "?",
                )
            )
        elif (
            previous
            and previous in kn.extensions.document
            and category in ("executable", "installeur", "script", "raccourci", "hta", "iso", "img", "vhd")
        ):
            found.append(Finding.of("pj_double_extension", nom=name, apparente=previous, reelle=ext))
        if category in ("executable", "installeur", "script", "raccourci", "hta"):
            found.append(Finding.of("pj_executable", nom=name, genre=genres.get(category, category)))
        elif category in ("iso", "img", "vhd"):
            found.append(Finding.of("pj_image_disque", nom=name, genre=genres.get(category, category)))
        if data is None:
            return found
        kind = sniff(data)
        if kind in DANGEROUS_KINDS and category not in (
            "executable",
            "installeur",
            "script",
            "raccourci",
            "hta",
            "iso",
            "img",
            "vhd",
        ):
            found.append(
                Finding.of(
                    "pj_type_deguise", nom=name, annonce=f".{ext}" if ext else "sans extension", reel=KIND_NAMES[kind]
                )
            )
            if kind in ("iso", "vhd"):
                found.append(Finding.of("pj_image_disque", nom=name, genre=KIND_NAMES[kind]))
            else:
                found.append(Finding.of("pj_executable", nom=name, genre=KIND_NAMES[kind]))
        elif category in EXPECTED and kind is not None and kind not in EXPECTED[category]:
            found.append(Finding.of("pj_type_deguise", nom=name, annonce=f".{ext}", reel=describe(data)))
        if category == "html" or kind == "html":
            what = [label for pattern, label in _SMUGGLING if pattern.search(data[:5_000_000])]
            if what:
                found.append(Finding.of("pj_html_script", nom=name, quoi=", ".join(what)))
            else:
                found.append(Finding.of("pj_html", nom=name))
        if kind == "pdf":
            found += check_pdf(name, data)
        elif kind == "rtf":
            found += check_rtf(name, data)
        elif kind == "ole" and category != "installeur":
            found += check_ole(name, data)
        elif kind == "zip":
            office = ooxml_archive(data)
            if office is not None:
                found += check_ooxml(name, data, office)
            else:
                found += inspect_archive(kind, name, data, depth, self.budget, self.inspect)
        elif kind in ("rar", "7z", "gzip", "cab"):
            found += inspect_archive(kind, name, data, depth, self.budget, self.inspect)
        return found


def check_attachments(mail: Mail, kn: Knowledge) -> list[Finding]:
    inspector = Inspector(kn)
    found: list[Finding] = []
    for attachment in mail.attachments[:100]:
        if attachment.data is None:
            found.append(Finding.of("pj_illisible", nom=attachment.name, cause=attachment.problem or "contenu absent"))
            found += inspector.inspect(attachment.name, None)
            continue
        found += inspector.inspect(attachment.name, attachment.data)
    return found
