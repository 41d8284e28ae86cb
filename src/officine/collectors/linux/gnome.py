"""GNOME settings as a session sees them: schema defaults, vendor overrides, dconf system
databases (with locks) and, on a running system, each user's own dconf database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from officine.collectors.linux.common import users
from officine.facts import unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers import ParseError
from officine.parsers.text import parse_gvariant_scalar, parse_keyfile

SCHEMA_DIR = "/usr/share/glib-2.0/schemas"
GnomeKeys = dict[tuple[str, str], str]  # (schema id, key) -> name in our facts


def schema_default(xml: str, key: str) -> bool | int | str:
    """Default of one key in a .gschema.xml file (regex: no XML entity expansion on foreign input)."""
    m = re.search(r'<key[^>]*\bname="' + re.escape(key) + r'"[^>]*>(.*?)</key>', xml, re.S)
    if not m:
        raise ParseError(f"clé {key} absente du schéma")
    d = re.search(r"<default>(.*?)</default>", m.group(1), re.S)
    if not d:
        raise ParseError(f"clé {key} sans valeur par défaut")
    return parse_gvariant_scalar(d.group(1))


def apply_keyfile(
    sections: dict[str, dict[str, str]], values: dict[str, Any], keys: GnomeKeys, schema_style: bool
) -> None:
    for (schema, key), name in keys.items():
        section = schema if schema_style else schema.replace(".", "/")
        raw = sections.get(section, {}).get(key)
        if raw is None:
            continue
        try:
            values[name] = parse_gvariant_scalar(raw)
        except ParseError:
            continue


@dataclass
class GnomeSettings:
    system: dict[str, Any]
    locked: set[str]
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    undetermined: list[dict[str, Any]] = field(default_factory=list)


def _defaults(host: Host, keys: GnomeKeys, used: list[Observation]) -> dict[str, Any] | Observation:
    values: dict[str, Any] = {}
    for (schema, key), name in keys.items():
        obs = host.read_file(f"{SCHEMA_DIR}/{schema}.gschema.xml")
        used.append(obs)
        if not obs.ok:
            return obs
        try:
            values[name] = schema_default(obs.output or "", key)
        except ParseError:
            return obs
    listing = host.list_dir(SCHEMA_DIR)
    used.append(listing)
    for entry in listing.entries or []:  # vendor overrides, applied in lexical order
        if entry.endswith(".gschema.override"):
            obs = host.read_file(f"{SCHEMA_DIR}/{entry}")
            used.append(obs)
            apply_keyfile(parse_keyfile(obs.output or ""), values, keys, schema_style=True)
    return values


def _system_dbs(host: Host, keys: GnomeKeys, used: list[Observation]) -> tuple[dict[str, Any], set[str]]:
    """dconf system databases named by the `user` profile, with their locks."""
    values: dict[str, Any] = {}
    locked: set[str] = set()
    profile = host.read_file("/etc/dconf/profile/user")
    used.append(profile)
    names = (
        [
            line.split(":", 1)[1].strip()
            for line in (profile.output or "").splitlines()
            if line.strip().startswith("system-db:")
        ]
        if profile.ok
        else []
    )
    for name in reversed(names):  # the first database of the profile has the highest priority
        directory = f"/etc/dconf/db/{name}.d"
        listing = host.list_dir(directory)
        used.append(listing)
        for entry in listing.entries or []:
            if entry == "locks":
                continue
            obs = host.read_file(f"{directory}/{entry}")
            used.append(obs)
            if obs.ok:
                apply_keyfile(parse_keyfile(obs.output or ""), values, keys, schema_style=False)
        locks = host.list_dir(f"{directory}/locks")
        used.append(locks)
        for entry in locks.entries or []:
            obs = host.read_file(f"{directory}/locks/{entry}")
            used.append(obs)
            for line in (obs.output or "").splitlines():
                for (schema, key), fname in keys.items():
                    if line.strip() == "/" + schema.replace(".", "/") + "/" + key:
                        locked.add(fname)
    return values, locked


def read_gnome(host: Host, keys: GnomeKeys, used: list[Observation]) -> GnomeSettings | Any:
    """Effective values per human user; returns an unknown Fact when the schemas are missing."""
    defaults = _defaults(host, keys, used)
    if isinstance(defaults, Observation):
        return unknown_from(defaults, "schémas GNOME")
    system_values, locked = _system_dbs(host, keys, used)
    settings = GnomeSettings({**defaults, **system_values}, locked)
    for user in users(host).humans:
        if locked >= set(keys.values()):
            settings.users[user.name] = dict(settings.system)  # every key imposed by the administrator
            continue
        dump = host.run(
            [
                "env",
                f"HOME={user.home}",
                f"XDG_CONFIG_HOME={user.home}/.config",
                "dconf",
                "dump",
                "/org/gnome/desktop/",
            ]
        )
        used.append(dump)
        if not dump.ok or dump.exit_code != 0:
            fact = unknown_from(dump, f"réglages GNOME de {user.name}")
            if dump.ok and dump.exit_code == 127:
                fact = unknown("command_missing", "dconf (paquet dconf-cli) absent", dump)
            settings.undetermined.append({"user": user.name, "reason": fact.reason, "detail": fact.detail})
            continue
        personal = dict(settings.system)
        rebased = {"org/gnome/desktop/" + k: v for k, v in parse_keyfile(dump.output or "").items()}
        apply_keyfile(rebased, personal, keys, schema_style=False)
        for key in locked:
            personal[key] = settings.system[key]
        settings.users[user.name] = personal
    return settings
