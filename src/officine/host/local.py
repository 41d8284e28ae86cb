"""The local machine, or a system mounted at a root directory."""

from __future__ import annotations

import errno
import os
import shutil
import stat as stat_mod
import subprocess
import sys
import time
from pathlib import Path

from officine.errors import os_reason
from officine.host.base import Host, Observation, ObsKind, ObsStatus

MAX_OUTPUT = 4_000_000
# Paths that only describe the running kernel: meaningless on a mounted disk.
LIVE_ONLY_PREFIXES = ("/proc", "/sys", "/run", "/dev")


def current_platform() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return sys.platform


def resolve_in_root(root: Path, path: str, max_links: int = 40) -> Path:
    """Resolve `path` as if `root` were `/`: absolute symlinks stay inside root."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            links += 1
            if links > max_links:
                raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


class _NotRegular(Exception):
    """A path that is a pipe, a device or a socket: reading it could block or never end."""


_NON_REGULAR = {
    stat_mod.S_IFDIR: "c'est un dossier",
    stat_mod.S_IFIFO: "tube (FIFO) : non lu",
    stat_mod.S_IFCHR: "périphérique : non lu",
    stat_mod.S_IFBLK: "périphérique : non lu",
    stat_mod.S_IFSOCK: "prise réseau (socket) : non lue",
}


def _read_regular(path: Path, max_bytes: int) -> bytes:
    """At most `max_bytes + 1` bytes of a regular file. The kind is checked before opening (a
    tape or a serial line can react to `open`) and again on the open descriptor (the path may
    change in between); a pipe opened non-blocking never waits for a writer."""
    mode = os.stat(path).st_mode
    if not stat_mod.S_ISREG(mode):
        raise _NotRegular(_NON_REGULAR.get(stat_mod.S_IFMT(mode), "fichier spécial : non lu"))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat_mod.S_ISREG(mode):
            raise _NotRegular(_NON_REGULAR.get(stat_mod.S_IFMT(mode), "fichier spécial : non lu"))
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class LocalHost(Host):
    def __init__(self, root: str | Path | None = None) -> None:
        super().__init__()
        self.root = Path(root).resolve() if root is not None else None
        self.live = self.root is None
        self.platform = current_platform()

    # -- paths --------------------------------------------------------------
    def _real(self, path: str) -> Path:
        if self.root is None:
            return Path(path)
        return resolve_in_root(self.root, path)

    def _not_live(self, path: str) -> bool:
        return not self.live and any(path == p or path.startswith(p + "/") for p in LIVE_ONLY_PREFIXES)

    @staticmethod
    def _os_error(kind: ObsKind, target: str, exc: OSError) -> Observation:
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            status = ObsStatus.missing
        elif isinstance(exc, PermissionError):
            status = ObsStatus.denied
        else:
            status = ObsStatus.error
        return Observation(kind=kind, target=target, status=status, detail=os_reason(exc))

    # -- commands -----------------------------------------------------------
    def _run(self, argv: list[str], timeout: float, exec_argv: list[str] | None) -> Observation:
        if not self.live:
            return Observation(
                kind="command",
                target=argv,
                status=ObsStatus.unavailable,
                detail="système monté : aucune commande n'est exécutée",
            )
        if shutil.which(argv[0]) is None:
            return Observation(kind="command", target=argv, status=ObsStatus.missing, detail=f"{argv[0]} absent")
        # A fixed, neutral locale: we parse values, but never let translations move them.
        env = {**os.environ, "LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
        start = time.monotonic()
        try:
            proc = subprocess.run(
                exec_argv or argv,
                capture_output=True,
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Observation(
                kind="command",
                target=argv,
                status=ObsStatus.timeout,
                detail=f"pas de réponse en {timeout:g} s",
                duration_ms=(time.monotonic() - start) * 1000,
            )
        except PermissionError as exc:
            return Observation(kind="command", target=argv, status=ObsStatus.denied, detail=str(exc))
        except OSError as exc:
            return Observation(kind="command", target=argv, status=ObsStatus.error, detail=str(exc))
        out = proc.stdout[:MAX_OUTPUT].decode("utf-8", "replace")
        err = proc.stderr[:20_000].decode("utf-8", "replace")
        return Observation(
            kind="command",
            target=argv,
            status=ObsStatus.ok,
            exit_code=proc.returncode,
            output=out,
            stderr=err or None,
            truncated=len(proc.stdout) > MAX_OUTPUT,
            duration_ms=round((time.monotonic() - start) * 1000, 1),
            extra={"executed": exec_argv} if exec_argv else {},
        )

    # -- files ----------------------------------------------------------------
    def _read_file(self, path: str, max_bytes: int) -> Observation:
        if self._not_live(path):
            return Observation(
                kind="file",
                target=path,
                status=ObsStatus.unavailable,
                detail="fichier du système en fonctionnement",
            )
        try:
            data = _read_regular(self._real(path), max_bytes)
        except _NotRegular as exc:
            return Observation(kind="file", target=path, status=ObsStatus.error, detail=str(exc))
        except OSError as exc:
            return self._os_error("file", path, exc)
        return Observation(
            kind="file",
            target=path,
            status=ObsStatus.ok,
            output=data[:max_bytes].decode("utf-8", "replace"),
            truncated=len(data) > max_bytes,
        )

    def _list_dir(self, path: str) -> Observation:
        if self._not_live(path):
            return Observation(
                kind="dir",
                target=path,
                status=ObsStatus.unavailable,
                detail="dossier du système en fonctionnement",
            )
        try:
            entries = sorted(os.listdir(self._real(path)))
        except OSError as exc:
            return self._os_error("dir", path, exc)
        return Observation(kind="dir", target=path, status=ObsStatus.ok, entries=entries)

    def _stat(self, path: str) -> Observation:
        if self._not_live(path):
            return Observation(
                kind="stat",
                target=path,
                status=ObsStatus.unavailable,
                detail="chemin du système en fonctionnement",
            )
        try:
            st = self._real(path).stat()
        except OSError as exc:
            return self._os_error("stat", path, exc)
        return Observation(
            kind="stat",
            target=path,
            status=ObsStatus.ok,
            stat={
                "mtime": st.st_mtime,
                "size": st.st_size,
                "mode": stat_mod.S_IMODE(st.st_mode),
                "uid": st.st_uid,
                "is_dir": int(stat_mod.S_ISDIR(st.st_mode)),
            },
        )
