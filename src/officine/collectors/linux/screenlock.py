"""Inactivity lock of graphical sessions: GNOME (dconf, schema defaults) and KDE Plasma."""

from __future__ import annotations

from typing import Any

from officine.collectors.linux.common import packages, users
from officine.collectors.linux.gnome import GnomeSettings, read_gnome
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, not_applicable, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers.text import parse_bool_word, parse_keyfile

DESKTOPS = {
    "gnome": ("gnome-shell",),
    "kde": ("plasma-workspace", "plasma-desktop"),
    "other": (
        "xfce4-session",
        "cinnamon",
        "mate-session-manager",
        "lxqt-session",
        "lxsession",
        "budgie-desktop",
        "openbox",
        "i3-wm",
    ),
}
LOCK_KEYS = {
    ("org.gnome.desktop.session", "idle-delay"): "idle_delay_s",
    ("org.gnome.desktop.screensaver", "lock-enabled"): "lock_enabled",
    ("org.gnome.desktop.screensaver", "lock-delay"): "lock_delay_s",
}
KDE_DEFAULTS = {"idle_delay_s": 300, "lock_enabled": True, "lock_delay_s": 5}  # Plasma's built-in values


def effective_lock_seconds(values: dict[str, Any]) -> int | None:
    """Seconds of inactivity before the screen is locked; None when it never locks."""
    idle = values.get("idle_delay_s")
    if not isinstance(idle, int) or isinstance(idle, bool) or idle <= 0 or values.get("lock_enabled") is not True:
        return None
    delay = values.get("lock_delay_s", 0)
    return idle + (delay if isinstance(delay, int) and not isinstance(delay, bool) else 0)


def _session(user: str | None, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "user": user,
        "scope": "system" if user is None else "user",
        **values,
        **extra,
        "lock_after_s": effective_lock_seconds(values),
    }


def _gnome(host: Host, used: list[Observation]) -> dict[str, Any] | Fact:
    settings = read_gnome(host, LOCK_KEYS, used)
    if not isinstance(settings, GnomeSettings):
        return settings  # type: ignore[no-any-return]
    sessions = [_session(None, settings.system, locked_keys=sorted(settings.locked))]
    sessions += [_session(name, values) for name, values in settings.users.items()]
    return {"desktop": "gnome", "sessions": sessions, "undetermined": settings.undetermined}


def _kde(host: Host, used: list[Observation]) -> dict[str, Any]:
    def read(path: str, values: dict[str, Any]) -> None:
        obs = host.read_file(path)
        used.append(obs)
        daemon = parse_keyfile(obs.output or "").get("Daemon", {}) if obs.ok else {}
        if "Autolock" in daemon:
            values["lock_enabled"] = parse_bool_word(daemon["Autolock"])
        if daemon.get("Timeout", "").strip().isdigit():
            values["idle_delay_s"] = int(daemon["Timeout"]) * 60
        if daemon.get("LockGrace", "").strip().isdigit():
            values["lock_delay_s"] = int(daemon["LockGrace"])

    base = dict(KDE_DEFAULTS)
    read("/etc/xdg/kscreenlockerrc", base)
    sessions = [_session(None, base)]
    for user in users(host).humans:
        personal = dict(base)
        read(f"{user.home}/.config/kscreenlockerrc", personal)
        sessions.append(_session(user.name, personal))
    return {"desktop": "kde", "sessions": sessions, "undetermined": []}


@collector("linux.screenlock", platforms=("linux",), facts=("screenlock.sessions",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    pkgs = packages(host)
    if pkgs.installed is None:
        return {"screenlock.sessions": unknown_from(pkgs.obs, "liste des logiciels installés")}
    found = {desktop for desktop, names in DESKTOPS.items() if pkgs.has(*names)}
    used: list[Observation] = [pkgs.obs, users(host).obs]
    if not found:
        return {
            "screenlock.sessions": not_applicable(
                "aucun environnement de bureau installé (serveur sans session graphique)", pkgs.obs
            )
        }
    results: list[dict[str, Any]] = []
    for desktop, reader in (("gnome", _gnome), ("kde", _kde)):
        if desktop in found:
            result = reader(host, used)
            if isinstance(result, Fact):
                return {"screenlock.sessions": result}
            results.append(result)
    if "other" in found:
        others = ", ".join(n for n in DESKTOPS["other"] if pkgs.has(n))
        return {
            "screenlock.sessions": unknown("not_supported", "environnement de bureau non géré : " + others, pkgs.obs)
        }
    return {"screenlock.sessions": observed({"desktops": results}, *used)}
