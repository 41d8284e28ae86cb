"""Volatile evidence, collected without trampling it, into a bundle with a manifest of hashes.

Only metadata of the protected folders is read (names, sizes, times), never their content,
so that nothing there changes; executables of running processes are hashed because an
unknown program is often the first clue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RANSOM_NOTE = re.compile(r"(readme|read_me|how[_ -]?to|decrypt|restore|recover|rançon|ransom|!!!)", re.I)
# Extensions that ordinary pharmacy work creates; anything new outside them is worth a look.
USUAL_EXTENSIONS = {
    ".txt",
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".odt",
    ".ods",
    ".csv",
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".xml",
    ".json",
    ".db",
    ".sqlite",
    ".log",
    ".zip",
    ".eml",
    ".msg",
    ".dat",
    ".bak",
    ".ini",
    ".html",
    ".htm",
    ".rtf",
}
COMMANDS = {
    "processus.txt": ["ps", "-eo", "pid,ppid,user,lstart,args", "--forest"],
    "connexions.txt": ["ss", "-tunap"],
    "utilisateurs-connectes.txt": ["who", "-a"],
    "services.txt": ["systemctl", "list-units", "--type=service", "--state=running", "--no-pager", "--plain"],
    "minuteurs.txt": ["systemctl", "list-timers", "--all", "--no-pager", "--plain"],
    "adresses.txt": ["ip", "addr"],
    "routes.txt": ["ip", "route"],
}
AUTOSTART_DIRS = (
    "/etc/cron.d",
    "/etc/cron.daily",
    "/etc/cron.hourly",
    "/var/spool/cron/crontabs",
    "/etc/xdg/autostart",
    "/etc/systemd/system",
)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _processes() -> list[dict[str, Any]]:
    rows = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        row: dict[str, Any] = {"pid": int(entry.name)}
        try:
            row["cmdline"] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            row["ppid"] = int(
                next(
                    line.split()[1] for line in (entry / "status").read_text().splitlines() if line.startswith("PPid:")
                )
            )
            exe = Path(os.readlink(entry / "exe"))
            row["exe"] = str(exe)
            row["exe_sha256"] = sha256_file(entry / "exe")
        except (OSError, StopIteration, ValueError):
            pass
        rows.append(row)
    return rows


def _recent_files(folder: Path, since: datetime, limit: int = 5000) -> dict[str, Any]:
    recent: list[dict[str, Any]] = []
    notes: list[str] = []
    odd: list[str] = []
    cutoff = since.timestamp()
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            path = Path(dirpath) / name
            try:
                st = path.lstat()  # metadata only: contents are never opened
            except OSError:
                continue
            if RANSOM_NOTE.search(name):
                notes.append(str(path))
            if st.st_mtime >= cutoff and len(recent) < limit:
                recent.append(
                    {
                        "path": str(path),
                        "size": st.st_size,
                        "mtime": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(timespec="seconds"),
                    }
                )
                if path.suffix.lower() not in USUAL_EXTENSIONS:
                    odd.append(str(path))
    return {
        "folder": str(folder),
        "recent": recent,
        "ransom_note_like": notes[:200],
        "unusual_extensions": odd[:500],
    }


def collect(destination: Path, protected: list[Path], hours: int = 48, now: datetime | None = None) -> Path:
    """Write the bundle into a new folder of `destination`; returns the manifest's path."""
    now = now or datetime.now(UTC)
    bundle = destination / f"preuves-{now:%Y%m%d-%H%M%S}"
    bundle.mkdir(parents=True, exist_ok=False)
    written: list[Path] = []

    def write(name: str, content: str) -> None:
        path = bundle / name
        path.write_text(content, encoding="utf-8")
        written.append(path)

    for name, cmd in COMMANDS.items():
        if shutil.which(cmd[0]) is None:
            write(name, f"[{cmd[0]} absent]\n")
            continue
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, timeout=60, env={**os.environ, "LC_ALL": "C"}
        )
        write(name, f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    write("processus-executables.json", json.dumps(_processes(), indent=1, ensure_ascii=False))
    autostart = {d: sorted(os.listdir(d)) for d in AUTOSTART_DIRS if os.path.isdir(d)}
    write("demarrage-automatique.json", json.dumps(autostart, indent=1, ensure_ascii=False))
    since = now - timedelta(hours=hours)
    write(
        "fichiers-recents.json",
        json.dumps([_recent_files(p, since) for p in protected], indent=1, ensure_ascii=False),
    )
    manifest = {
        "created_at": now.isoformat(timespec="seconds"),
        "host": os.uname().nodename,
        "files": [{"name": p.name, "sha256": sha256_file(p), "size": p.stat().st_size} for p in written],
    }
    manifest_path = bundle / "manifeste.json"
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest_path


def verify_manifest(manifest_path: Path) -> list[str]:
    """Names of the files whose hash no longer matches (empty list: the bundle is intact)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    bad = []
    for item in manifest["files"]:
        path = manifest_path.parent / item["name"]
        if not path.exists() or sha256_file(path) != item["sha256"]:
            bad.append(item["name"])
    return bad
