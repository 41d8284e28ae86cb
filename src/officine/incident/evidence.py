"""Volatile evidence, collected without trampling it, into a bundle with a manifest of hashes.

Only metadata of the protected folders is read (names, sizes, times), never their content,
so that nothing there changes; executables of running processes are hashed because an
unknown program is often the first clue.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from officine.errors import UserError

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


class EvidenceError(UserError):
    """Nothing was written to the destination (checked before the first byte)."""


class EvidenceIncomplete(UserError):
    """The destination failed part way: what is there, what is not, where the rest was kept."""

    def __init__(self, message: str, bundle: Path, written: list[str], missing: list[str], kept: Path | None) -> None:
        super().__init__(message)
        self.bundle, self.written, self.missing, self.kept = bundle, written, missing, kept


WHY = {
    errno.ENOSPC: "la clé est pleine",
    errno.EDQUOT: "le quota de la clé est atteint",
    errno.EROFS: "la clé est en lecture seule (verrou de protection, ou système de fichiers abîmé)",
    errno.EACCES: "accès refusé",
    errno.EPERM: "accès refusé",
    errno.EIO: "erreur de lecture-écriture (clé retirée ou abîmée)",
}


def _why(exc: OSError) -> str:
    return WHY.get(exc.errno or 0, exc.strerror or str(exc))


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} Mo".replace(".", ",") if n >= 100_000 else f"{max(1, round(n / 1000))} ko"


def gather(protected: list[Path], hours: int, now: datetime) -> dict[str, bytes]:
    """Everything the bundle will hold, read before anything is written (so its size is known)."""
    contents: dict[str, bytes] = {}
    for name, cmd in COMMANDS.items():
        if shutil.which(cmd[0]) is None:
            contents[name] = f"[{cmd[0]} absent]\n".encode()
            continue
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, check=False, timeout=60, env={**os.environ, "LC_ALL": "C"}
            )
            contents[name] = f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}".encode()
        except (OSError, subprocess.TimeoutExpired) as exc:
            contents[name] = f"$ {' '.join(cmd)}\n[échec : {exc}]\n".encode()
    contents["processus-executables.json"] = _json(_processes())
    autostart = {}
    for d in AUTOSTART_DIRS:
        try:
            autostart[d] = sorted(os.listdir(d))
        except OSError:
            continue
    contents["demarrage-automatique.json"] = _json(autostart)
    since = now - timedelta(hours=hours)
    contents["fichiers-recents.json"] = _json([_recent_files(p, since) for p in protected])
    return contents


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=1, ensure_ascii=False).encode("utf-8")


def space_needed(contents: dict[str, bytes], block: int) -> int:
    """Bytes the bundle takes on a file system of this block size: each file rounded up to whole
    blocks, the manifest twice (it is replaced atomically) and the folder."""

    def blocks(n: int) -> int:
        return -(-max(n, 1) // block) * block

    manifest = 400 + 200 * len(contents)
    return sum(blocks(len(c)) for c in contents.values()) + 2 * blocks(manifest) + block


def collect(
    destination: Path,
    protected: list[Path],
    hours: int = 48,
    now: datetime | None = None,
    on_written: Callable[[str], None] | None = None,
    keep_rest: Path | None = None,
) -> Path:
    """Write the bundle into a new folder of `destination`; returns the manifest's path.

    The space is checked first (EvidenceError, nothing written). The manifest is written first
    and rewritten after each file, so that whatever happens the key holds a manifest of exactly
    the files completely written. A failure part way raises EvidenceIncomplete; the files not
    written are then kept in `keep_rest` (the incident folder) when given."""
    now = now or datetime.now(UTC)
    contents = gather(protected, hours, now)
    try:
        fs = os.statvfs(destination)
    except OSError as exc:
        raise EvidenceError(f"Impossible de lire la clé {destination} : {_why(exc)}. Rien n'a été écrit.") from exc
    if fs.f_flag & os.ST_RDONLY:
        raise EvidenceError(
            f"{destination} est en lecture seule (verrou de protection de la clé, ou clé abîmée) : rien n'y a été "
            "écrit. Retirez le verrou ou prenez une autre clé, puis recommencez."
        )
    needed, free = space_needed(contents, fs.f_frsize or 4096), fs.f_bavail * fs.f_frsize
    if free < needed:
        raise EvidenceError(
            f"Place insuffisante sur {destination} : les traces demandent environ {_size(needed)}, il reste "
            f"{_size(free)}. Rien n'a été écrit : prenez une clé avec plus de place, puis recommencez."
        )
    bundle = destination / f"preuves-{now:%Y%m%d-%H%M%S}"
    manifest: dict[str, Any] = {
        "created_at": now.isoformat(timespec="seconds"),
        "host": os.uname().nodename,
        "complete": False,
        "files": [],
    }
    manifest_path = bundle / "manifeste.json"
    try:
        bundle.mkdir(parents=True, exist_ok=False)
        _write_manifest(manifest_path, manifest)
    except OSError as exc:
        _remove_empty(bundle)
        raise EvidenceError(f"Rien n'a pu être écrit sur {destination} : {_why(exc)}.") from exc
    for name, content in contents.items():
        try:
            _write_file(bundle / name, content)
            manifest["files"].append(
                {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
            )
            _write_manifest(manifest_path, manifest)
        except OSError as exc:
            (bundle / name).unlink(missing_ok=True)  # a half-written file would not match any hash
            raise _incomplete(exc, bundle, manifest_path, contents, keep_rest, now) from exc
        if on_written is not None:
            on_written(name)
    manifest["complete"] = True
    try:
        _write_manifest(manifest_path, manifest)
    except OSError as exc:
        raise _incomplete(exc, bundle, manifest_path, contents, keep_rest, now) from exc
    return manifest_path


def _incomplete(
    exc: OSError,
    bundle: Path,
    manifest_path: Path,
    contents: dict[str, bytes],
    keep_rest: Path | None,
    now: datetime,
) -> EvidenceIncomplete:
    """Say exactly what the key holds: the manifest there is the judge of it."""
    try:
        listed = [f["name"] for f in json.loads(manifest_path.read_text(encoding="utf-8"))["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        listed = []
    missing = [name for name in contents if name not in listed]
    kept = None
    if keep_rest is not None and missing:
        kept = keep_rest / f"preuves-{now:%Y%m%d-%H%M%S}-non-copiees"
        try:
            kept.mkdir(parents=True, exist_ok=True)
            for name in missing:
                _write_file(kept / name, contents[name])
        except OSError:
            kept = None
    on_key = (
        f"Sur la clé, dans {bundle} : {', '.join(listed)}, avec leur manifeste (manifeste.json, marqué incomplet)."
        if listed
        else f"Sur la clé, dans {bundle} : aucun fichier complet (seulement le manifeste, vide)."
    )
    rest = (
        f" Les {len(missing)} fichier(s) non copié(s) ({', '.join(missing)}) sont gardés sur ce poste dans {kept} : "
        "copiez-les sur une autre clé."
        if kept
        else f" Non copié(s) : {', '.join(missing)}. Recommencez sur une autre clé."
    )
    return EvidenceIncomplete(
        f"La copie des traces s'est arrêtée : {_why(exc)}. {on_key}{rest}", bundle, listed, missing, kept
    )


def _write_file(path: Path, content: bytes) -> None:
    with path.open("xb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(_json(manifest))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # the previous manifest stays whole until the new one is complete
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _remove_empty(folder: Path) -> None:
    try:
        for leftover in folder.iterdir():
            if leftover.stat().st_size == 0 or leftover.name.endswith(".tmp"):
                leftover.unlink()
        folder.rmdir()
    except OSError:
        pass


def verify_manifest(manifest_path: Path) -> list[str]:
    """Names of the files whose hash no longer matches (empty list: the bundle is intact)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    bad = []
    for item in manifest["files"]:
        path = manifest_path.parent / item["name"]
        if not path.exists() or sha256_file(path) != item["sha256"]:
            bad.append(item["name"])
    return bad
