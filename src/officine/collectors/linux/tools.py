"""The system tools installed that change how a measure is fixed (ufw or plain nftables...):
advice fits the workstation, never a command for a tool it does not have."""

from __future__ import annotations

from officine.collectors.linux.common import packages
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown_from
from officine.host.base import Host

TOOLS = ("ufw", "firewalld", "nftables", "iptables", "unattended-upgrades", "cryptsetup")


@collector("linux.tools", platforms=("linux",), facts=("software.admin_tools",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    pkgs = packages(host)
    if pkgs.installed is None:
        return {"software.admin_tools": unknown_from(pkgs.obs, "liste des paquets")}
    return {"software.admin_tools": observed({"installed": [t for t in TOOLS if pkgs.has(t)]}, pkgs.obs)}
