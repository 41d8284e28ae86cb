"""Accounts: empty passwords, extra UID 0, administrators, automatic graphical logon."""

from __future__ import annotations

from typing import Any

from officine.collectors.linux.common import groups, packages, users
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, not_applicable, observed, unknown_from
from officine.host.base import Host, Observation
from officine.parsers.accounts import parse_shadow_password_states
from officine.parsers.text import parse_bool_word, parse_keyfile

ADMIN_GROUPS = ("sudo", "wheel", "admin")
# (package, file, section, enable key, user key)
AUTOLOGIN_SOURCES = (
    ("gdm3", "/etc/gdm3/custom.conf", "daemon", "AutomaticLoginEnable", "AutomaticLogin"),
    ("gdm3", "/etc/gdm3/daemon.conf", "daemon", "AutomaticLoginEnable", "AutomaticLogin"),
    ("gdm", "/etc/gdm/custom.conf", "daemon", "AutomaticLoginEnable", "AutomaticLogin"),
    ("lightdm", "/etc/lightdm/lightdm.conf", "Seat:*", None, "autologin-user"),
    ("sddm", "/etc/sddm.conf", "Autologin", None, "User"),
)


def _autologin(host: Host) -> Fact:
    pkgs = packages(host)
    if pkgs.installed is None:
        return unknown_from(pkgs.obs, "liste des logiciels installés")
    managers = pkgs.has("gdm3", "gdm", "lightdm", "sddm")
    if not managers:
        return not_applicable("aucun gestionnaire de connexion graphique installé", pkgs.obs)
    used: list[Observation] = [pkgs.obs]
    found: list[dict[str, Any]] = []
    for package, path, section, enable_key, user_key in AUTOLOGIN_SOURCES:
        if package not in managers:
            continue
        obs = host.read_file(path)
        used.append(obs)
        if not obs.ok:
            continue
        sections = parse_keyfile(obs.output or "")
        values = next((v for k, v in sections.items() if k.lower() == section.lower()), {})
        user = values.get(user_key, "").strip()
        enabled = parse_bool_word(values.get(enable_key, "false")) if enable_key else bool(user)
        if enabled and user:
            found.append({"manager": package, "user": user, "file": path})
    return observed({"enabled": bool(found), "entries": found, "managers": managers}, *used)


@collector(
    "linux.accounts",
    platforms=("linux",),
    facts=("accounts.empty_passwords", "accounts.admins", "accounts.autologin"),
)
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    all_users = users(host)
    shadow = host.read_file("/etc/shadow", redact="shadow")
    if not shadow.ok:
        facts["accounts.empty_passwords"] = unknown_from(shadow, "/etc/shadow (lisible par root seulement)")
    else:
        states = parse_shadow_password_states(shadow.output or "")
        login_names = {u.name for u in all_users.all if not u.shell.endswith(("/nologin", "/false"))}
        empty = sorted(n for n, s in states.items() if s == "empty" and n in login_names)
        facts["accounts.empty_passwords"] = observed({"accounts": empty, "checked": len(states)}, shadow, all_users.obs)

    group_obs, group_map = groups(host)
    if not all_users.obs.ok:
        facts["accounts.admins"] = unknown_from(all_users.obs)
    elif not group_obs.ok:
        facts["accounts.admins"] = unknown_from(group_obs)
    else:
        primary = {u.gid: u.name for u in all_users.all}
        admins: set[str] = set()
        for g in ADMIN_GROUPS:
            if g in group_map:
                gid, members = group_map[g]
                admins.update(members)
                admins.update(name for uid_gid, name in primary.items() if uid_gid == gid)
        extra_root = sorted(u.name for u in all_users.all if u.uid == 0 and u.name != "root")
        humans = sorted(u.name for u in all_users.humans)
        facts["accounts.admins"] = observed(
            {
                "humans": humans,
                "admins": sorted(a for a in admins if a in humans),
                "extra_uid0": extra_root,
                "groups": [g for g in ADMIN_GROUPS if g in group_map],
            },
            all_users.obs,
            group_obs,
        )
    facts["accounts.autologin"] = _autologin(host)
    return facts
