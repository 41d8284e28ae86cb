"""What a pharmacy's machines do every day, replayed in a watched folder: none of it may raise an alarm.

    python bench/sentinel_benign.py ACTIVITY DOSSIER      (DOSSIER: a folder made by sentinel_simulator prepare)
    python bench/sentinel_benign.py all DOSSIER

Each activity runs in its own process (so a false alarm suspends it, not the caller), with the
real tools where they exist here: zip/tar, sqlite, PostgreSQL, restic, gpg, dpkg-deb.
Benign traps from ../shared/reference/sentinel-backup.md §1.2:
  office       documents saved as Office and LibreOffice do (zip written to a temporary name, renamed)
  pdf          PDF exports (deflate streams: high-entropy bodies)
  scans        JPEG and PNG scans
  archives     zip and tar.gz created, extracted into a new folder and over the existing files
  sqlite       a SQLite database under write load (rollback journal and WAL)
  postgresql   a PostgreSQL cluster living in the watched folder, 10,000 rows written
  restic       a restic backup of the folder, then a restore over it and into a sub-folder
  encrypt      a user encrypting one file on purpose with gpg (then deleting the original)
  update       a software update: a .deb unpacked, then its next version unpacked over it
"""

from __future__ import annotations

import io
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sentinel_simulator import Refused, verify_owned

ACTIVITIES = ("office", "pdf", "scans", "archives", "sqlite", "postgresql", "restic", "encrypt", "update")


def _files(root: Path, *exts: str) -> list[Path]:
    """The pharmacy's own files of these types (the sentinel's decoys are nobody's work)."""
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix.lower().lstrip(".") in exts and not _decoy(p.name)
    )


def _decoy(name: str) -> bool:
    return "ne pas modifier" in name or name.startswith("Scan ordonnance 1")


def _zip_doc(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("word/document.xml", f"<document>{text}</document>")
    return out.getvalue()


def office(root: Path) -> None:
    docs = _files(root, "docx", "xlsx")[:30]
    for n, doc in enumerate(docs):
        body = _zip_doc(f"version {n} " * 2000 + os.urandom(2000).hex())
        if n % 2:  # LibreOffice: lock file, temporary file, rename over the original
            lock = doc.with_name(f".~lock.{doc.name}#")
            lock.write_text("utilisateur,poste,01.01.2026 10:00,", encoding="utf-8")
            tmp = doc.with_name(f"lu{n:04d}.tmp")
            tmp.write_bytes(body)
            os.replace(tmp, doc)
            lock.unlink()
        else:  # Word: new content in ~WRD, original renamed to ~WRL, new one renamed, ~WRL deleted
            new = doc.with_name(f"~WRD{n:04d}.tmp")
            backup = doc.with_name(f"~WRL{n:04d}.tmp")
            new.write_bytes(body)
            os.rename(doc, backup)
            os.rename(new, doc)
            backup.unlink()
        time.sleep(0.01)


def _pdf(text: str) -> bytes:
    stream = zlib.compress((text * 50).encode() + os.urandom(3000))
    return (
        b"%PDF-1.7\n1 0 obj\n<< /Length "
        + str(len(stream)).encode()
        + b" /Filter /FlateDecode >>\nstream\n"
        + stream
        + b"\nendstream\nendobj\n%%EOF\n"
    )


def pdf(root: Path) -> None:
    exports = root / "Exports PDF"
    exports.mkdir(exist_ok=True)
    folders = [exports, *[p for p in root.rglob("*") if p.is_dir()][:5]]
    for n in range(60):
        (folders[n % len(folders)] / f"export_{n:03d}.pdf").write_bytes(_pdf(f"facture {n} "))


def _png(width: int, height: int, rng: random.Random) -> bytes:
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def scans(root: Path) -> None:
    rng = random.Random(3)
    target = root / "Scans du jour"
    target.mkdir(exist_ok=True)
    for n in range(40):
        body = rng.randbytes(rng.randint(50_000, 400_000)).replace(b"\xff", b"\xfe")
        jpeg = (
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
            + body
            + b"\xff\xd9"
        )
        (target / f"scan_{n:03d}.jpg").write_bytes(jpeg)
        (target / f"scan_{n:03d}.png").write_bytes(_png(200, 150, rng))


def archives(root: Path) -> None:
    source = next(p for p in sorted(root.rglob("*")) if p.is_dir() and any(p.iterdir()))
    subprocess.run(["zip", "-qr", str(root / "archive.zip"), source.name], cwd=source.parent, check=True)
    subprocess.run(["tar", "czf", str(root / "archive.tar.gz"), "-C", str(source.parent), source.name], check=True)
    extracted = root / "Extraction"
    extracted.mkdir(exist_ok=True)
    subprocess.run(["unzip", "-qo", str(root / "archive.zip"), "-d", str(extracted)], check=True)
    # Extracting over the existing files (same names, same content, rewritten).
    subprocess.run(["tar", "xzf", str(root / "archive.tar.gz"), "-C", str(source.parent)], check=True)


def sqlite(root: Path) -> None:
    import sqlite3  # noqa: PLC0415

    for journal in ("DELETE", "WAL"):
        db = root / f"lgo-{journal.lower()}.sqlite"
        con = sqlite3.connect(db)
        con.execute(f"PRAGMA journal_mode={journal}")
        con.execute("CREATE TABLE IF NOT EXISTS ventes (id INTEGER PRIMARY KEY, produit TEXT, quantite INT, note TEXT)")
        for batch in range(100):
            con.executemany(
                "INSERT INTO ventes (produit, quantite, note) VALUES (?, ?, ?)",
                [(f"produit {batch}-{i}", i, "délivrance sur ordonnance " * 5) for i in range(50)],
            )
            con.execute("UPDATE ventes SET quantite = quantite + 1 WHERE id % 7 = ?", (batch % 7,))
            con.commit()
        con.close()


def _pg_bin() -> Path:
    base = Path("/usr/lib/postgresql")
    for version in sorted(base.iterdir(), reverse=True) if base.is_dir() else []:
        if (version / "bin/initdb").exists():
            return version / "bin"
    raise SystemExit("PostgreSQL absent")


def postgresql(root: Path) -> None:
    bindir = _pg_bin()
    data, sock = root / "LGO-postgresql", Path(tempfile.mkdtemp(prefix="officine-pgsock-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses root: the postgres account must reach the folder
        for parent in [root, *root.parents]:
            os.chmod(parent, os.stat(parent).st_mode | 0o011)  # noqa: S103 - traverse only, test folder
        data.mkdir()
        shutil.chown(data, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "lgo"], check=True, capture_output=True
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The server inherits pg_ctl's output: a log file, not our pipes (or pg_ctl never returns).
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(sock / "log"),
            "-o",
            f"-k {sock} -p {port} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sql = (
            "CREATE TABLE ventes (id serial primary key, produit text, quantite int, note text);"
            "INSERT INTO ventes (produit, quantite, note) SELECT 'produit ' || g, g % 90, repeat('délivrance ', 20)"
            " FROM generate_series(1, 10000) g;"
            "UPDATE ventes SET quantite = quantite + 1 WHERE id % 3 = 0; CHECKPOINT;"
        )
        subprocess.run(
            [str(bindir / "psql"), "-h", str(sock), "-p", str(port), "-U", "lgo", "-d", "postgres", "-q", "-c", sql],
            check=True,
            capture_output=True,
        )
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True, check=False
        )
        shutil.rmtree(sock, ignore_errors=True)


def restic(root: Path) -> None:
    repo = Path(tempfile.mkdtemp(prefix="officine-restic-"))
    env = {**os.environ, "RESTIC_REPOSITORY": str(repo / "repo"), "RESTIC_PASSWORD": "banc-d-essai"}
    try:
        subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)
        subprocess.run(["restic", "backup", str(root)], env=env, check=True, capture_output=True)
        subprocess.run(["restic", "restore", "latest", "--target", "/"], env=env, check=True, capture_output=True)
        restored = root / "Restauration"
        restored.mkdir(exist_ok=True)
        subprocess.run(
            ["restic", "restore", "latest", "--target", str(restored)], env=env, check=True, capture_output=True
        )
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def encrypt(root: Path) -> None:
    """The sentinel's rule: one file encrypted on purpose is not an attack (no alarm)."""
    target = max(_files(root, "pdf", "docx"), key=lambda p: p.stat().st_size)
    home = Path(tempfile.mkdtemp(prefix="officine-gpg-"))
    try:
        subprocess.run(
            [
                "gpg",
                "--homedir",
                str(home),
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "secret",
                "--symmetric",
                "--cipher-algo",
                "AES256",
                "--compress-algo",
                "none",
                "-o",
                f"{target}.gpg",
                str(target),
            ],
            check=True,
            capture_output=True,
        )
        target.unlink()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _deb(version: str, work: Path) -> Path:
    pkg = work / f"pkg-{version}"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN/control").write_text(
        f"Package: officine-demo\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: demo <demo@example.org>\nDescription: demo\n",
        encoding="utf-8",
    )
    for sub in ("usr/bin", "usr/share/doc/officine-demo", "usr/lib/officine-demo"):
        (pkg / sub).mkdir(parents=True)
    shutil.copy(sys.executable, pkg / "usr/bin/officine-demo")
    for n in range(30):
        (pkg / f"usr/lib/officine-demo/module{n}.py").write_text(
            f"# version {version}\nVALUE = {n}\n" * 40, encoding="utf-8"
        )
    (pkg / "usr/share/doc/officine-demo/changelog.gz").write_bytes(zlib.compress(f"version {version}\n".encode() * 500))
    subprocess.run(
        ["dpkg-deb", "--build", "-Zxz", str(pkg), str(work / f"demo_{version}.deb")], check=True, capture_output=True
    )
    return work / f"demo_{version}.deb"


def update(root: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="officine-deb-"))
    try:
        target = root / "Logiciel"
        target.mkdir(exist_ok=True)
        for version in ("1.0", "1.1"):
            subprocess.run(["dpkg-deb", "-x", str(_deb(version, work)), str(target)], check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_all(root: Path, python: str = sys.executable) -> dict[str, int]:
    """Every activity in its own process; returns each one's exit code."""
    codes = {}
    for name in ACTIVITIES:
        proc = subprocess.run([python, __file__, name, str(root)], capture_output=True, text=True, check=False)
        codes[name] = proc.returncode
        if proc.returncode:
            print(f"{name}: {proc.stderr[-500:]}", file=sys.stderr)
    return codes


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in (*ACTIVITIES, "all"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        root = verify_owned(Path(argv[1]))
    except Refused as exc:
        print(f"Refus : {exc}", file=sys.stderr)
        return 2
    if argv[0] == "all":
        return 1 if any(run_all(root).values()) else 0
    globals()[argv[0]](root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
