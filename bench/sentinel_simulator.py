"""A ransomware simulator for the sentinel's tests and benchmark: AES-CTR over copies, nothing else.

    python bench/sentinel_simulator.py prepare [--files 300] [--folders 10]   -> prints the folder
    python bench/sentinel_simulator.py attack DOSSIER --mode MODE --rate N [--leurres FICHIER] [--log FICHIER]

`prepare` creates a new temporary folder (tempfile.mkdtemp) holding a pharmacy-like corpus and
registers it; `attack` refuses any folder that this simulator did not create itself: it must lie
in the system's temporary directory, carry our marker, and match the registration (same token,
same device and inode), so a typo can never point it at real data.

Modes (../shared/reference/sentinel-backup.md §1.2 and §1.4):
  full          whole file rewritten with ciphertext, then renamed with a new extension
  inplace       whole file rewritten in place, name kept
  intermittent  the first 4 KiB kept, 5 % of the rest encrypted in 8 evenly spaced chunks
  small         only files under 16 KiB, rewritten then renamed
  avoid         like full, in random order, skipping the canary files listed by --leurres
A ransom note is left in each folder once its files are done. Rates are files per second
(0: as fast as possible). Each changed file is logged (JSON lines) before the next one starts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MARKER = ".officine-simulateur"
PREFIX = "officine-simulateur-"
NOTE_NAME = "LISEZ-MOI-RANCON.txt"
NOTE = "Vos fichiers sont chiffrés. (Simulation officine-cyber : aucun vrai rançongiciel.)\n"
EXTENSION = ".lckd"
MODES = ("full", "inplace", "intermittent", "small", "avoid")
SMALL_LIMIT = 16 * 1024


def _registry() -> Path:
    return Path(tempfile.gettempdir()) / "officine-simulateur-registre"


class Refused(Exception):
    pass


# -- corpus ------------------------------------------------------------------------------------

_WORDS = [
    "ordonnance",
    "patient",
    "posologie",
    "délivrance",
    "générique",
    "remboursement",
    "tiers",
    "payant",
    "mutuelle",
    "facture",
    "fournisseur",
    "grossiste",
    "inventaire",
    "stupéfiants",
    "préparation",
    "magistrale",
    "officine",
    "pharmacien",
    "conseil",
    "vaccination",
    "antigénique",
    "carte",
    "vitale",
    "ameli",
    "dossier",
    "pharmaceutique",
    "stock",
    "péremption",
    "commande",
]


def _text(rng: random.Random, size: int) -> str:
    # Word salad: 4 KiB pieces shuffled from a pool (fast enough for megabytes of documents).
    pool = [" ".join(rng.choices(_WORDS, k=600))[:4096] for _ in range(8)]
    pieces = rng.choices(pool, k=size // 4096 + 1)
    return "".join(pieces)[:size]


def _pdf(rng: random.Random, size: int) -> bytes:
    stream = zlib.compress(_text(rng, size).encode("utf-8"))
    return (
        b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"3 0 obj\n<< /Length "
        + str(len(stream)).encode()
        + b" /Filter /FlateDecode >>\nstream\n"
        + stream
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def _zip_doc(rng: random.Random, size: int, main: str) -> bytes:
    import io  # noqa: PLC0415

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr(main, f"<document>{_text(rng, size)}</document>")
    return out.getvalue()


def _jpeg(rng: random.Random, size: int) -> bytes:
    # JFIF header, then entropy-coded-like bytes (no 0xFF, as in a real scan), then EOI.
    body = rng.randbytes(size).replace(b"\xff", b"\xfe")
    header = b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
    return header + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + body + b"\xff\xd9"


def _csv(rng: random.Random, size: int) -> bytes:
    lines = ["date;produit;quantite;prix"]
    for _ in range(size // 30 + 1):
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        lines.append(f"{day};{rng.choice(_WORDS)};{rng.randint(1, 99)};{rng.randint(100, 9999) / 100}")
    return ("\n".join(lines) + "\n").encode("utf-8")[:size]


_KINDS = (
    ("pdf", _pdf, 0.30),
    ("docx", lambda r, s: _zip_doc(r, s, "word/document.xml"), 0.20),
    ("xlsx", lambda r, s: _zip_doc(r, s, "xl/workbook.xml"), 0.15),
    ("jpg", _jpeg, 0.20),
    ("csv", _csv, 0.10),
    ("txt", lambda r, s: _text(r, s).encode("utf-8"), 0.05),
)


def _size(rng: random.Random, max_kib: int) -> int:
    # Mostly small documents, a tail of large ones (log-uniform from 1 KiB to max_kib).
    return int(2 ** rng.uniform(10, 10 + max(max_kib, 2).bit_length() - 1))


def prepare(files: int, folders: int, seed: int = 1, max_kib: int = 1024) -> Path:
    base = Path(tempfile.mkdtemp(prefix=PREFIX))
    token = secrets.token_hex(16)
    st = base.stat()
    (base / MARKER).write_text(json.dumps({"token": token}), encoding="utf-8")
    registry = _registry()
    registry.mkdir(mode=0o700, exist_ok=True)
    (registry / token).write_text(json.dumps({"path": str(base), "dev": st.st_dev, "ino": st.st_ino}), encoding="utf-8")
    rng = random.Random(seed)
    names = [
        "Factures",
        "Ordonnances",
        "Comptabilité",
        "Scans",
        "Inventaires",
        "Courriers",
        "RH",
        "Stupéfiants",
        "Commandes",
        "Divers",
    ]
    dirs = [base / "Documents"]
    for i in range(max(1, folders - 1)):
        parent = dirs[rng.randrange(len(dirs))] if i > 2 else dirs[0]
        dirs.append(parent / f"{names[i % len(names)]} {2020 + i}")
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    weights = [k[2] for k in _KINDS]
    for n in range(files):
        ext, make, _ = rng.choices(_KINDS, weights)[0]
        folder = dirs[n % len(dirs)]
        (folder / f"{rng.choice(_WORDS)}_{n:05d}.{ext}").write_bytes(make(rng, _size(rng, max_kib)))
    return base


def verify_owned(folder: Path) -> Path:
    """The folder must be one this simulator created: anything else is refused."""
    real = Path(os.path.realpath(folder))
    tmp = Path(os.path.realpath(tempfile.gettempdir()))
    if folder.is_symlink() or real.parent != tmp or not real.name.startswith(PREFIX):
        raise Refused(f"{folder} n'est pas un dossier temporaire créé par le simulateur : refus.")
    try:
        token = json.loads((real / MARKER).read_text(encoding="utf-8"))["token"]
        entry = json.loads((_registry() / str(token)).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        raise Refused(f"{folder} ne porte pas la marque du simulateur : refus.") from None
    st = real.stat()
    if entry.get("path") != str(real) or entry.get("dev") != st.st_dev or entry.get("ino") != st.st_ino:
        raise Refused(f"{folder} ne correspond pas au dossier enregistré par le simulateur : refus.")
    return real


def discard(folder: Path) -> None:
    """Remove a simulator folder and its registration (only one it created)."""
    import shutil  # noqa: PLC0415

    real = verify_owned(folder)
    token = json.loads((real / MARKER).read_text(encoding="utf-8"))["token"]
    shutil.rmtree(real)
    (_registry() / token).unlink(missing_ok=True)


# -- attack ------------------------------------------------------------------------------------


def _targets(root: Path, mode: str, skip: set[str], seed: int) -> list[Path]:
    found: list[Path] = []
    for directory, _subdirs, names in os.walk(root):  # readdir order, as most ransomware enumerate
        for name in names:
            path = os.path.join(directory, name)
            if name == MARKER or path in skip:
                continue
            found.append(Path(path))
    if mode == "small":
        found = [p for p in found if p.stat().st_size < SMALL_LIMIT]
    if mode == "avoid":
        random.Random(seed).shuffle(found)
    return found


def _encrypt(data: bytes, key: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CTR(secrets.token_bytes(16))).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _attack_one(path: Path, mode: str, key: bytes) -> Path:
    if mode == "intermittent":
        size = path.stat().st_size
        with path.open("r+b") as fh:
            span = max(size - 4096, 0)
            chunk = max(int(span * 0.05) // 8, 16)
            for i in range(8):
                offset = 4096 + (span * i) // 8
                if offset >= size:
                    break
                fh.seek(offset)
                plain = fh.read(chunk)
                fh.seek(offset)
                fh.write(_encrypt(plain, key))
        return path
    data = path.read_bytes()
    with path.open("r+b") as fh:
        fh.write(_encrypt(data, key))
        fh.truncate()
    if mode in ("full", "small", "avoid"):
        target = path.with_name(path.name + EXTENSION)
        os.rename(path, target)
        return target
    return path


def attack(folder: Path, mode: str, rate: float, skip: set[str], log: Path | None, seed: int = 7) -> int:
    root = verify_owned(folder)
    key = secrets.token_bytes(32)
    targets = _targets(root, mode, skip, seed)
    out = log.open("a", encoding="utf-8") if log else None
    start = time.monotonic()
    done_dirs: dict[str, int] = {}
    per_dir: dict[str, int] = {}
    for p in targets:
        per_dir[str(p.parent)] = per_dir.get(str(p.parent), 0) + 1
    for n, path in enumerate(targets):
        if rate > 0:
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        began = time.time()  # before the first byte changes: the benchmark's latency starts here
        try:
            new = _attack_one(path, mode, key)
        except OSError:
            continue
        if out is not None:
            out.write(json.dumps({"at": began, "path": str(path), "new": str(new), "n": n}) + "\n")
            out.flush()
        folder_key = str(path.parent)
        done_dirs[folder_key] = done_dirs.get(folder_key, 0) + 1
        if done_dirs[folder_key] == per_dir[folder_key]:
            (path.parent / NOTE_NAME).write_text(NOTE, encoding="utf-8")
    return len(targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare")
    prep.add_argument("--files", type=int, default=300)
    prep.add_argument("--folders", type=int, default=10)
    prep.add_argument("--seed", type=int, default=1)
    prep.add_argument("--max-kib", type=int, default=1024)
    att = sub.add_parser("attack")
    att.add_argument("folder", type=Path)
    att.add_argument("--mode", choices=MODES, required=True)
    att.add_argument("--rate", type=float, default=40)
    att.add_argument("--leurres", type=Path, help="manifest of the canary files to avoid (mode avoid)")
    att.add_argument("--log", type=Path)
    att.add_argument("--seed", type=int, default=7)
    dis = sub.add_parser("discard")
    dis.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            print(prepare(args.files, args.folders, args.seed, args.max_kib))
        elif args.command == "attack":
            skip: set[str] = set()
            if args.mode == "avoid" and args.leurres and args.leurres.exists():  # no decoys: nothing to avoid
                skip = {str(c["path"]) for c in json.loads(args.leurres.read_text(encoding="utf-8"))}
            attack(args.folder, args.mode, args.rate, skip, args.log, args.seed)
        else:
            discard(args.folder)
    except Refused as exc:
        print(f"Refus : {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
