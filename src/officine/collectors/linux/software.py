"""Software that matters to the catalogue: password managers, personal cloud sync clients."""

from __future__ import annotations

from officine.collectors.linux.common import packages, processes
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown_from
from officine.host.base import Host

PASSWORD_MANAGERS = {
    "KeePassXC": ("keepassxc", "keepassxc-full", "keepassxc-minimal"),
    "KeePass 2": ("keepass2",),
    "Bitwarden": ("bitwarden",),
}
FLATPAK_APPS = {"KeePassXC": "org.keepassxc.KeePassXC", "Bitwarden": "com.bitwarden.desktop"}
CLOUD_CLIENTS = {
    "Dropbox": (("dropbox", "nautilus-dropbox"), ("dropbox",)),
    "MEGA": (("megasync",), ("megasync",)),
    "Google Drive (Insync)": (("insync",), ("insync",)),
    "pCloud": ((), ("pcloud",)),
}


@collector("linux.software", platforms=("linux",), facts=("software.password_manager", "software.cloud_sync"))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    pkgs = packages(host)
    flatpak = host.list_dir("/var/lib/flatpak/app")
    snaps = host.list_dir("/snap")
    extra = set(flatpak.entries or []) | set(snaps.entries or [])
    if pkgs.installed is None:
        fact = unknown_from(pkgs.obs, "liste des logiciels installés")
        return {"software.password_manager": fact, "software.cloud_sync": fact}
    managers = sorted(
        name
        for name, pkg_names in PASSWORD_MANAGERS.items()
        if pkgs.has(*pkg_names) or FLATPAK_APPS.get(name) in extra or any(p in extra for p in pkg_names)
    )
    ps_obs, procs = processes(host)
    running = {p.comm for p in procs or []}
    clients = []
    for name, (pkg_names, proc_names) in CLOUD_CLIENTS.items():
        is_running = bool(running & set(proc_names))
        if pkgs.has(*pkg_names) or is_running:
            clients.append({"name": name, "running": is_running if procs is not None else None})
    return {
        "software.password_manager": observed({"found": managers}, pkgs.obs, flatpak, snaps),
        "software.cloud_sync": observed({"clients": clients, "processes_visible": procs is not None}, pkgs.obs, ps_obs),
    }
