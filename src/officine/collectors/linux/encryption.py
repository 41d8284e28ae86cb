"""Disk encryption: is the filesystem behind / and /home on a LUKS (dm-crypt) device?"""

from __future__ import annotations

from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown, unknown_from
from officine.host.base import Host
from officine.parsers import ParseError
from officine.parsers.misc import parse_json, parse_mounts

IMPORTANT_MOUNTS = ("/", "/home", "/srv", "/var")
VIRTUAL_ROOT_FS = ("overlay", "tmpfs", "aufs", "fuse-overlayfs", "9p", "virtiofs", "nfs", "nfs4", "cifs")


def _walk(nodes: Any, ancestors: list[dict[str, Any]], out: dict[str, dict[str, Any]]) -> None:
    if not isinstance(nodes, list):
        return  # a foreign or damaged lsblk answer: nothing to learn from it
    for node in nodes:
        if not isinstance(node, dict):
            continue
        chain = [*ancestors, node]
        points = node.get("mountpoints")
        if not isinstance(points, list):
            points = [node.get("mountpoint")]
        for point in points:
            if isinstance(point, str) and point:
                crypt = [a for a in chain if a.get("type") == "crypt"]
                out[point] = {
                    "device": node.get("name"),
                    "fstype": node.get("fstype"),
                    "encrypted": bool(crypt),
                    "scheme": "LUKS"
                    if any(a.get("fstype") == "crypto_LUKS" for a in chain)
                    else ("dm-crypt" if crypt else None),
                }
        _walk(node.get("children") or [], chain, out)


def map_mounts(lsblk: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(lsblk, dict) or not isinstance(lsblk.get("blockdevices"), list):
        raise ParseError("sortie lsblk -J inattendue")
    out: dict[str, dict[str, Any]] = {}
    _walk(lsblk["blockdevices"], [], out)
    return out


@collector("linux.encryption", platforms=("linux",), facts=("disk.encryption",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    mounts_obs = host.read_file("/proc/self/mounts")
    if not mounts_obs.ok:
        return {"disk.encryption": unknown_from(mounts_obs, "points de montage")}
    fs_of = {point: fstype for _, point, fstype in parse_mounts(mounts_obs.output or "")}
    if fs_of.get("/") in VIRTUAL_ROOT_FS:
        return {
            "disk.encryption": unknown(
                "not_supported",
                f"le système tourne sur un système de fichiers {fs_of['/']} (conteneur ou "
                "disque réseau) : le chiffrement du disque réel n'est pas visible d'ici",
                mounts_obs,
            )
        }
    lsblk = host.run(["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"])
    if not lsblk.ok or lsblk.exit_code != 0:
        return {"disk.encryption": unknown_from(lsblk, "lsblk")}
    try:
        mapped = map_mounts(parse_json(lsblk.output or ""))
    except ParseError as exc:
        return {"disk.encryption": unknown("parse_error", str(exc), lsblk)}
    volumes = [{"mount": m, **mapped[m]} for m in IMPORTANT_MOUNTS if m in mapped]
    if not any(v["mount"] == "/" for v in volumes):
        return {
            "disk.encryption": unknown("parse_error", "le disque de « / » n'apparaît pas dans lsblk", lsblk, mounts_obs)
        }
    return {"disk.encryption": observed({"volumes": volumes}, lsblk, mounts_obs)}
