"""Is a destination here? Telling an unplugged disk from a repository that vanished.

A missing repository folder means two very different things: the disk is in a drawer (normal
life of a rotated disk, and the very proof that it is disconnected), or the disk is plugged in
and the repository was deleted, damaged or replaced (the bad day). The difference is whether
the filesystem that held the repository the last time it was seen is mounted right now: the
guardian remembers it (mount point, device, filesystem type) each time it finds the repository,
and compares with `/proc/self/mounts`. A repository on the system disk (mount point `/`) is
always "here or gone", never "unplugged".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from officine.backup.plan import Destination
from officine.backup.restic import Restic, ResticError
from officine.parsers.misc import parse_mounts

PresenceState = Literal["here", "absent", "gone", "unseen"]

# restic's words when the server or the network did not answer (recorded with restic 0.14 against
# a closed loopback port: "dial tcp 127.0.0.1:9: connect: connection refused" for rest:, "ssh: connect
# to host 127.0.0.1 port 22: Connection refused ... unable to start the sftp session" for sftp:).
# They are checked before "Is there a repository", which restic prints in both cases.
_UNREACHABLE = (
    "connection refused",
    "dial tcp",
    "no such host",
    "network is unreachable",
    "i/o timeout",
    "connection reset",
    "unable to start the sftp session",
    "tls handshake",
    "timeout",
)


@dataclass(frozen=True)
class Volume:
    """The filesystem that holds a repository: where it is mounted and what is mounted there."""

    mount_point: str
    device: str = ""
    fstype: str = ""
    uuid: str = ""  # the filesystem's UUID when udev publishes it: two disks of the same make,
    # formatted alike and plugged into the same port, differ only by it

    def to_json(self) -> dict[str, str]:
        return {"mount_point": self.mount_point, "device": self.device, "fstype": self.fstype, "uuid": self.uuid}

    @classmethod
    def from_json(cls, data: object) -> Volume | None:
        if not isinstance(data, dict) or not isinstance(data.get("mount_point"), str):
            return None
        return cls(
            str(data["mount_point"]),
            str(data.get("device") or ""),
            str(data.get("fstype") or ""),
            str(data.get("uuid") or ""),
        )

    def same_disk(self, other: Volume) -> bool | None:
        """Is `other` the same filesystem? None when nothing identifies either."""
        if self.uuid and other.uuid:
            return self.uuid == other.uuid
        if self.device and other.device:
            return (self.device, self.fstype) == (other.device, other.fstype)
        return None


def filesystem_uuid(device: str, by_uuid: Path = Path("/dev/disk/by-uuid")) -> str:
    """The UUID of a block device, from udev's /dev/disk/by-uuid links ('' when unknown)."""
    if not device.startswith("/dev/"):
        return ""
    try:
        target = os.path.realpath(device)
        for link in by_uuid.iterdir():
            if os.path.realpath(link) == target:
                return link.name
    except OSError:
        return ""
    return ""


@dataclass(frozen=True)
class Presence:
    state: PresenceState  # here: repository found; absent: its disk is not plugged in (proven);
    # gone: the disk is here but the repository is missing or unreadable; unseen: cannot tell
    volume: Volume | None = None  # the filesystem holding the repository (here) or its remains (gone)
    why: str = ""  # French, for absent / gone / unseen

    @property
    def disk_attached(self) -> bool | None:
        """What a sighting records: is the destination's disk attached? None when unknown."""
        return {"here": True, "gone": True, "absent": False}.get(self.state)


def mount_table() -> list[tuple[str, str, str]] | None:
    """(device, mount point, type) of every mounted filesystem; None where there is no /proc."""
    try:
        return parse_mounts(Path("/proc/self/mounts").read_text(encoding="utf-8"))
    except OSError:
        return None


def _inside(path: str, point: str) -> bool:
    return path == point or path.startswith(point.rstrip("/\\") + os.sep)


def volume_of(path: Path, table: list[tuple[str, str, str]] | None = None) -> Volume | None:
    """The mounted filesystem holding `path` (which must exist)."""
    resolved = str(path.resolve())
    table = mount_table() if table is None else table
    if table is not None:
        best: tuple[str, str, str] | None = None
        for device, point, fstype in table:
            if _inside(resolved, point) and (best is None or len(point) >= len(best[1])):
                best = (device, point, fstype)  # the last of equal mount points is the visible one
        return None if best is None else Volume(best[1], best[0], best[2], filesystem_uuid(best[0]))
    # No mount table (Windows, macOS): the nearest mount point up the tree, a drive on Windows.
    current = Path(resolved)
    while not os.path.ismount(current) and current != current.parent:
        current = current.parent
    return Volume(str(current))


def mounted_at(point: str, table: list[tuple[str, str, str]] | None = None) -> Volume | None:
    """What is mounted at `point` right now, if anything."""
    table = mount_table() if table is None else table
    if table is None:
        return Volume(point) if os.path.ismount(point) else None
    found = None
    for device, mount_point, fstype in table:
        if mount_point == point:
            found = (device, fstype)  # the last mount at a point hides the earlier ones
    return None if found is None else Volume(point, found[0], found[1], filesystem_uuid(found[0]))


def _deepest_existing(path: Path) -> Path:
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def locate_local(dest: Destination, repo: Path, known: Volume | None) -> Presence:
    """Where a repository on a local path stands, given the filesystem it was last seen on."""
    table = mount_table()
    if (repo / "config").is_file():
        return Presence("here", volume_of(repo, table))
    remains = _deepest_existing(repo)
    where = volume_of(remains, table)
    if known is None:
        if repo.is_dir() and any(repo.iterdir()):
            return Presence(
                "gone",
                where,
                f"le dossier du dépôt de « {dest.label} » ({repo}) existe mais n'est plus un dépôt restic "
                "(fichier config absent) : il a été abîmé ou vidé",
            )
        return Presence(
            "unseen",
            where,
            f"« {dest.label} » introuvable ({repo}) : le disque n'est pas branché, ou le dépôt n'a pas encore "
            "été créé (« officine backup init »)",
        )
    now_there = mounted_at(known.mount_point, table)
    if now_there is None:
        return Presence(
            "absent", None, f"« {dest.label} » n'est pas branché (rien n'est monté sur {known.mount_point})"
        )
    if known.same_disk(now_there) is False:
        return Presence(
            "absent",
            None,
            f"« {dest.label} » n'est pas branché : un autre disque ({now_there.device}) est monté à sa place "
            f"sur {known.mount_point}",
        )
    return Presence(
        "gone",
        now_there,
        f"le disque de « {dest.label} » est branché ({known.mount_point}) mais son dépôt de sauvegarde "
        f"({repo}) a disparu",
    )


def locate_remote(dest: Destination, restic: Restic) -> Presence:
    """A remote repository: reachable and readable, unreachable (absent), or answering without it (gone)."""
    try:
        restic.run(dest, ["cat", "config"], timeout=60)
    except ResticError as exc:
        if exc.code in ("password_file", "missing"):
            raise
        detail = exc.detail.lower()
        if exc.code == "timeout" or any(needle in detail for needle in _UNREACHABLE):
            return Presence("absent", None, f"« {dest.label} » ne répond pas (réseau ou serveur injoignable)")
        if exc.code == "no_repository":
            return Presence("gone", None, f"« {dest.label} » répond, mais son dépôt de sauvegarde a disparu")
        # Wrong password, damaged data...: the operation itself will fail and say precisely why.
    return Presence("here")


def locate(dest: Destination, restic: Restic, known: Volume | None = None) -> Presence:
    repo = dest.local_path
    if repo is None:
        return locate_remote(dest, restic)
    return locate_local(dest, repo, known)


def volume_details(presence: Presence, dest: Destination) -> dict[str, Any]:
    """What a record keeps so that the next look can tell 'unplugged' from 'vanished'."""
    if presence.state != "here" or presence.volume is None:
        return {}
    return {"volume": {**presence.volume.to_json(), "repository": dest.repository}}


def known_volume(dest: Destination, details: list[dict[str, Any] | None]) -> Volume | None:
    """The newest remembered volume of this destination (records newest first), for its current path."""
    for d in details:
        volume = (d or {}).get("volume")
        if isinstance(volume, dict) and volume.get("repository") == dest.repository:
            return Volume.from_json(volume)
    return None
