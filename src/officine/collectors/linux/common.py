"""Observations shared by several Linux collectors (memoised on the host)."""

from __future__ import annotations

from dataclasses import dataclass

from officine.collectors.registry import Unobservable
from officine.host.base import Host, Observation
from officine.parsers.accounts import PasswdEntry, parse_group, parse_passwd
from officine.parsers.apt import parse_dpkg_status
from officine.parsers.text import parse_space_config

DPKG_STATUS = "/var/lib/dpkg/status"


@dataclass(frozen=True)
class Packages:
    """Installed packages, or why they could not be read."""

    obs: Observation
    installed: dict[str, str] | None

    def has(self, *names: str) -> list[str]:
        return [n for n in names if self.installed is not None and n in self.installed]


def packages(host: Host) -> Packages:
    def compute() -> Packages:
        obs = host.read_file(DPKG_STATUS, max_bytes=50_000_000)
        return Packages(obs, parse_dpkg_status(obs.output) if obs.ok and obs.output else None)

    return host.memo("linux.packages", compute)


def login_defs(host: Host) -> tuple[Observation, dict[str, str]]:
    obs = host.read_file("/etc/login.defs")
    return obs, parse_space_config(obs.output or "") if obs.ok else {}


@dataclass(frozen=True)
class Users:
    obs: Observation
    all: list[PasswdEntry]
    humans: list[PasswdEntry]


NOLOGIN_SHELLS = ("/nologin", "/false", "/sync", "/shutdown", "/halt")


def users(host: Host) -> Users:
    def compute() -> Users:
        obs = host.read_file("/etc/passwd")
        entries = parse_passwd(obs.output or "") if obs.ok else []
        _, defs = login_defs(host)
        try:
            uid_min, uid_max = int(defs.get("UID_MIN", "1000")), int(defs.get("UID_MAX", "60000"))
        except ValueError:
            uid_min, uid_max = 1000, 60000
        humans = [
            e
            for e in entries
            if uid_min <= e.uid <= uid_max and not e.shell.endswith(NOLOGIN_SHELLS) and e.name != "nobody"
        ]
        return Users(obs, entries, humans)

    return host.memo("linux.users", compute)


def groups(host: Host) -> tuple[Observation, dict[str, tuple[int, list[str]]]]:
    obs = host.read_file("/etc/group")
    return obs, parse_group(obs.output or "") if obs.ok else {}


@dataclass(frozen=True)
class Process:
    pid: int
    uid: int
    comm: str
    args: str


def processes(host: Host) -> tuple[Observation, list[Process] | None]:
    """Running processes from `ps` (numeric and plain fields; no translated text)."""

    def compute() -> tuple[Observation, list[Process] | None]:
        obs = host.run(["ps", "-e", "-ww", "-o", "pid=,uid=,comm=,args="])
        if not obs.ok or obs.exit_code != 0 or obs.output is None:
            return obs, None
        procs = []
        for line in obs.output.splitlines():
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[0].isdigit() and parts[1].isdigit():
                procs.append(Process(int(parts[0]), int(parts[1]), parts[2], parts[3] if len(parts) > 3 else parts[2]))
        return obs, procs

    return host.memo("linux.processes", compute)


MAX_DIR_FILES = 256  # a configuration folder holds a handful; thousands are a hostile or broken machine


def read_dir_files(host: Host, directory: str, accept: tuple[str, ...] = ()) -> list[Observation]:
    """Read every regular file of a directory (sorted), optionally only those with given suffixes.
    Reading part of them would judge a configuration whose later files may override the earlier
    ones: beyond MAX_DIR_FILES, the facts built on them are unknown."""
    listing = host.list_dir(directory)
    if not listing.ok or not listing.entries:
        return []
    names = [name for name in listing.entries if not accept or name.endswith(accept)]
    if len(names) > MAX_DIR_FILES:
        raise Unobservable(
            "error",
            f"{directory} contient {len(names)} fichiers de configuration, bien plus qu'une machine normale "
            f"(au plus {MAX_DIR_FILES} sont lus) : ce dossier est anormal, faites-le examiner par votre prestataire.",
        )
    found = []
    for name in names:
        obs = host.read_file(f"{directory.rstrip('/')}/{name}")
        if obs.ok:
            found.append(obs)
    return found
