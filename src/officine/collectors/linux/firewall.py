"""Host firewall: the live nftables ruleset when readable, else ufw/firewalld configuration."""

from __future__ import annotations

from typing import Any

from officine.collectors.linux.common import packages
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers import ParseError
from officine.parsers.misc import parse_json
from officine.parsers.text import parse_env_file

INBOUND_HOOKS = ("input",)
TERMINAL_BLOCK = ("drop", "reject")
NEUTRAL_EXPR = ("counter", "log", "limit")


def _catch_all_block(expr: list[Any]) -> bool:
    """A rule that drops or rejects everything: only counters/logs and a drop/reject verdict."""
    kinds = [next(iter(e)) for e in expr if isinstance(e, dict) and e]
    return bool(kinds) and kinds[-1] in TERMINAL_BLOCK and all(k in NEUTRAL_EXPR for k in kinds[:-1])


def summarise_nft(ruleset: Any) -> dict[str, Any]:
    """Reduce `nft -j list ruleset` to what decides inbound protection."""
    if not isinstance(ruleset, dict) or not isinstance(ruleset.get("nftables"), list):
        raise ParseError("sortie nft -j inattendue")
    chains: dict[tuple[str, str, str], dict[str, Any]] = {}
    last_rule: dict[tuple[str, str, str], list[Any]] = {}
    rules = 0
    for item in ruleset["nftables"]:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("chain"), dict):
            c = item["chain"]
            key = (str(c.get("family")), str(c.get("table")), str(c.get("name")))
            chains[key] = c
        elif isinstance(item.get("rule"), dict):
            r = item["rule"]
            rules += 1
            key = (str(r.get("family")), str(r.get("table")), str(r.get("chain")))
            expr = r.get("expr")
            last_rule[key] = expr if isinstance(expr, list) else []
    inbound = []
    for key, c in chains.items():
        if c.get("hook") in INBOUND_HOOKS and c.get("type", "filter") == "filter" and key[0] in ("inet", "ip", "ip6"):
            blocks = c.get("policy") == "drop" or _catch_all_block(last_rule.get(key, []))
            inbound.append(
                {
                    "family": key[0],
                    "table": key[1],
                    "chain": key[2],
                    "policy": c.get("policy", "accept"),
                    "blocks_by_default": blocks,
                }
            )
    families = {c["family"] for c in inbound if c["blocks_by_default"]}
    # IPv4 and IPv6 must both be covered: inet covers both.
    protected = "inet" in families or {"ip", "ip6"} <= families
    return {"input_chains": inbound, "rules": rules, "default_inbound": "drop" if protected else "accept"}


def _from_configuration(host: Host) -> tuple[dict[str, Any] | None, list[Observation]]:
    pkgs = packages(host)
    used: list[Observation] = [pkgs.obs]
    if pkgs.has("ufw"):
        conf = host.read_file("/etc/ufw/ufw.conf")
        default = host.read_file("/etc/default/ufw")
        used += [conf, default]
        if conf.ok:
            enabled = parse_env_file(conf.output or "").get("ENABLED", "no").lower() == "yes"
            policy = parse_env_file(default.output or "").get("DEFAULT_INPUT_POLICY", "DROP").upper()
            if enabled:
                return {
                    "engine": "ufw",
                    "source": "configuration",
                    "active": True,
                    "default_inbound": "drop" if policy in ("DROP", "REJECT") else "accept",
                }, used
    if pkgs.has("firewalld"):
        wants = host.stat("/etc/systemd/system/multi-user.target.wants/firewalld.service")
        used.append(wants)
        if wants.ok:
            return {
                "engine": "firewalld",
                "source": "configuration",
                "active": True,
                "default_inbound": "drop",
            }, used
    return None, used


@collector("linux.firewall", platforms=("linux",), facts=("firewall.state",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    live = host.run(["nft", "-j", "list", "ruleset"], timeout=15)
    if live.ok and live.exit_code == 0:
        try:
            summary = summarise_nft(parse_json(live.output or ""))
        except ParseError as exc:
            return {"firewall.state": unknown("parse_error", str(exc), live)}
        summary.update(engine="nftables", source="live", active=bool(summary["input_chains"]))
        return {"firewall.state": observed(summary, live)}
    configured, used = _from_configuration(host)
    if configured is not None:
        return {"firewall.state": observed(configured, live, *used)}
    if live.ok:  # nft exists but refused: not root
        return {
            "firewall.state": unknown(
                "permission_denied",
                "nft list ruleset : droits root nécessaires pour lire le pare-feu actif",
                live,
                *used,
            )
        }
    return {"firewall.state": unknown_from(live, "nft list ruleset")}
