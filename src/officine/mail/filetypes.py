"""What a file really is, from its first bytes: the few kinds that decide a verdict are
recognised here from their published signatures; puremagic names the rest."""

from __future__ import annotations

import re

_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|script|svg|meta|iframe|form)\b", re.I | re.S
)

# kind -> French name for {reel}
KIND_NAMES = {
    "executable": "programme Windows (exécutable)",
    "elf": "programme Linux",
    "macho": "programme macOS",
    "script": "script",
    "raccourci": "raccourci Windows (.lnk)",
    "iso": "image de CD/DVD (ISO)",
    "vhd": "disque virtuel",
    "zip": "archive ZIP ou document Office",
    "rar": "archive RAR",
    "7z": "archive 7-Zip",
    "gzip": "archive compressée",
    "cab": "archive CAB",
    "ole": "document Office ancien format (ou installeur MSI)",
    "pdf": "PDF",
    "rtf": "document RTF",
    "html": "page web (HTML)",
    "image": "image",
}
LNK_HEADER = bytes.fromhex("4c0000000114020000000000c000000000000046")


def sniff(data: bytes) -> str | None:
    """The kind of file `data` is, or None when it is none of the kinds that matter."""
    head = data[:16]
    if head.startswith(b"MZ"):
        return "executable"
    if head.startswith(b"\x7fELF"):
        return "elf"
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"):
        return "macho"
    if data.startswith(LNK_HEADER):
        return "raccourci"
    if any(data[offset : offset + 5] == b"CD001" for offset in (0x8001, 0x8801, 0x9001)):
        return "iso"
    if head.startswith((b"conectix", b"vhdxfile")):
        return "vhd"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        return "gzip"
    if head.startswith(b"MSCF"):
        return "cab"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.lstrip().startswith(b"{\\rt"):
        return "rtf"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")):
        return "image"
    if head.startswith(b"#!"):
        return "script"
    if _HTML_START.match(data[:4096].lstrip(b"\xef\xbb\xbf")):
        return "html"
    return None


def describe(data: bytes) -> str:
    """A name for any content, for the explanation (puremagic's table), or "inconnu"."""
    kind = sniff(data)
    if kind is not None:
        return KIND_NAMES[kind]
    try:
        import puremagic  # noqa: PLC0415

        matches = puremagic.magic_string(data[:8192])
    except Exception:  # puremagic raises when nothing matches
        return "type inconnu"
    if not matches:
        return "type inconnu"
    best = max(matches, key=lambda m: m.confidence)
    return str(best.name or best.mime_type or best.extension)


# What each extension category may really contain; a known kind outside it is a disguise.
EXPECTED: dict[str, set[str | None]] = {
    "pdf": {"pdf"},
    "office": {"zip", "ole", "rtf", "html"},  # Word also saves .doc as HTML or RTF
    "image": {"image"},
    "text": {None, "html", "script"},
    "archive": {"zip", "rar", "7z", "gzip", "cab"},
}
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "bmp", "webp"})
TEXT_EXTENSIONS = frozenset({"txt", "csv"})
DANGEROUS_KINDS = frozenset({"executable", "elf", "macho", "raccourci", "iso", "vhd"})
