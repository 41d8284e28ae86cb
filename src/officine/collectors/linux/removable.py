"""Removable media: is USB mass storage blocked; do inserted media open or run by themselves?"""

from __future__ import annotations

from typing import Any

from officine.collectors.linux.common import packages, read_dir_files
from officine.collectors.linux.gnome import GnomeSettings, read_gnome
from officine.collectors.linux.screenlock import DESKTOPS
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, not_applicable, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers.misc import parse_modprobe

MODPROBE_DIRS = ("/etc/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d", "/run/modprobe.d")
BLOCKING_INSTALL = ("/bin/false", "/usr/bin/false", "/bin/true", "/usr/bin/true", "false", "true")
MEDIA_KEYS = {
    ("org.gnome.desktop.media-handling", "automount"): "automount",
    ("org.gnome.desktop.media-handling", "automount-open"): "automount_open",
    ("org.gnome.desktop.media-handling", "autorun-never"): "autorun_never",
}


def _usb_storage(host: Host) -> Fact:
    used: list[Observation] = []
    blacklisted = False
    install_blocked = None
    for directory in MODPROBE_DIRS:
        for obs in read_dir_files(host, directory, (".conf",)):
            used.append(obs)
            rules = parse_modprobe(obs.output or "")
            if "usb_storage" in rules.blacklisted:
                blacklisted = True
            command = rules.install_overrides.get("usb_storage")
            if command is not None and install_blocked is None:
                install_blocked = command.split()[0] in BLOCKING_INSTALL
    pkgs = packages(host)
    usbguard = False
    if pkgs.has("usbguard"):
        wants = host.stat("/etc/systemd/system/multi-user.target.wants/usbguard.service")
        used.append(wants)
        usbguard = wants.ok
    loaded = host.stat("/sys/module/usb_storage")
    mechanism = "usbguard" if usbguard else ("install" if install_blocked else ("blacklist" if blacklisted else None))
    value: dict[str, Any] = {
        "blocked": mechanism is not None,
        "mechanism": mechanism,
        "module_loaded": loaded.ok if loaded.status.value in ("ok", "missing") else None,
    }
    return observed(value, pkgs.obs, loaded, *used)


def _automount(host: Host) -> Fact:
    pkgs = packages(host)
    if pkgs.installed is None:
        return unknown_from(pkgs.obs, "liste des logiciels installés")
    if not pkgs.has(*DESKTOPS["gnome"]):
        if pkgs.has(*DESKTOPS["kde"], *DESKTOPS["other"]):
            return unknown("not_supported", "ouverture automatique des supports : seul GNOME est géré", pkgs.obs)
        return not_applicable("aucun environnement de bureau installé", pkgs.obs)
    used: list[Observation] = [pkgs.obs]
    settings = read_gnome(host, MEDIA_KEYS, used)
    if not isinstance(settings, GnomeSettings):
        return settings  # type: ignore[no-any-return]
    sessions = [{"user": None, **settings.system}]
    sessions += [{"user": name, **values} for name, values in settings.users.items()]
    return observed({"desktop": "gnome", "sessions": sessions, "undetermined": settings.undetermined}, *used)


@collector("linux.removable", platforms=("linux",), facts=("removable.usb_storage", "removable.autorun"))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    return {"removable.usb_storage": _usb_storage(host), "removable.autorun": _automount(host)}
