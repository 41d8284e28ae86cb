"""OpenSSH server: effective settings from `sshd -T` (root), else the configuration files."""

from __future__ import annotations

import fnmatch

from officine.collectors.linux.common import packages
from officine.collectors.linux.includes import Expansion
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, not_applicable, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers.ssh import parse_sshd_config_located, parse_sshd_effective

DEFAULTS = {
    "permitrootlogin": "prohibit-password",
    "passwordauthentication": "yes",
    "kbdinteractiveauthentication": "yes",
    "permitemptypasswords": "no",
}
KEYS = tuple(DEFAULTS)
# Older names sshd still accepts for the same setting.
ALIASES = {"challengeresponseauthentication": "kbdinteractiveauthentication"}


def _files(host: Host, path: str, used: list[Observation]) -> tuple[list[tuple[str, str, str]], str | None]:
    """Configuration (keyword, value, "file:line") in the order sshd reads them (Include expanded,
    each file once, first value wins), and the problem that stopped the expansion, if any (a loop,
    too deep, too large)."""
    expansion = Expansion(host, used)
    pairs: list[tuple[str, str, str]] = []

    def expand(file: str, chain: tuple[str, ...]) -> None:
        obs = expansion.enter(file, chain)
        if obs is None or not obs.ok:
            return
        in_match = False
        for key, value, number in parse_sshd_config_located(obs.output or ""):
            if key == "match":
                in_match = value.lower() != "all"
                continue
            if key == "include":
                for pattern in value.split():
                    full = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
                    directory, _, glob = full.rpartition("/")
                    listing = host.list_dir(directory)
                    if not any(o is listing for o in used):
                        used.append(listing)
                    for entry in listing.entries or []:
                        if fnmatch.fnmatch(entry, glob):
                            expand(f"{directory}/{entry}", (*chain, file))
                        if expansion.problem is not None:
                            return
                continue
            # Match blocks only apply to some connections: ignored for the global value
            if not in_match and expansion.keep():
                pairs.append((ALIASES.get(key, key), value, f"{file}:{number}"))
            if expansion.problem is not None:
                return

    expand(path, ())
    return pairs, expansion.problem


def _first_values(pairs: list[tuple[str, str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """The value sshd keeps for each keyword (the first one read) and where it was set."""
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for key, value, where in pairs:
        if key in KEYS and key not in values:
            values[key] = value.lower()
            origins[key] = where
    return values, origins


@collector("linux.ssh", platforms=("linux",), facts=("ssh.server",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    pkgs = packages(host)
    if pkgs.installed is None:
        return {"ssh.server": unknown_from(pkgs.obs, "liste des logiciels installés")}
    if not pkgs.has("openssh-server"):
        return {"ssh.server": not_applicable("pas de serveur SSH installé", pkgs.obs)}
    effective = host.run(["sshd", "-T"], timeout=10)
    used: list[Observation] = [pkgs.obs, effective]
    pairs, problem = _files(host, "/etc/ssh/sshd_config", used)
    values, origins = _first_values(pairs)
    if effective.ok and effective.exit_code == 0:
        config = parse_sshd_effective(effective.output or "")
        for old, new in ALIASES.items():
            if old in config:
                config.setdefault(new, config[old])
        if all(k in config for k in ("permitrootlogin", "passwordauthentication")):
            settled = {k: config.get(k, DEFAULTS[k]).lower() for k in KEYS}
            # The file and line where each effective value was set, when the files agree with sshd.
            located = {k: origins[k] for k in KEYS if k in origins and values.get(k) == settled[k]}
            return {"ssh.server": observed({"source": "effective", **settled, "origins": located}, *used)}
    if not used[2].ok:
        return {"ssh.server": unknown_from(used[2], "/etc/ssh/sshd_config")}
    if problem is not None:
        return {"ssh.server": unknown("parse_error", f"/etc/ssh/sshd_config : {problem}", *used)}
    return {"ssh.server": observed({"source": "files", **{**DEFAULTS, **values}, "origins": origins}, *used)}
