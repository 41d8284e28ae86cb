"""Isolation and reconnection, proven for real inside network namespaces the test creates."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from conftest import listening, needs_root

pytestmark = needs_root


def ns(name: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", name, *cmd], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def pair(netns: str, peer: str) -> Iterator[tuple[str, str]]:
    """`netns` is the pharmacy workstation; the peer namespace plays the network, with a listener."""
    with listening(peer, "192.0.2.2", 8443):
        yield netns, peer


PROBE = "import socket\ns=socket.socket()\ns.settimeout(1.5)\nprint(s.connect_ex(('192.0.2.2', 8443)))"


def reachable(name: str) -> bool:
    return ns(name, sys.executable, "-c", PROBE).stdout.strip() == "0"


def link_state(name: str) -> list[tuple[str, tuple[str, ...], str]]:
    links = json.loads(ns(name, "ip", "-j", "link", "show").stdout)
    return sorted((link["ifname"], tuple(sorted(link.get("flags", []))), link.get("operstate", "")) for link in links)


def officine_in(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return ns(name, sys.executable, "-m", "officine", *args)


def test_isolate_then_reconnect_restores_exactly_the_prior_state(pair: tuple[str, str]) -> None:
    workstation, _peer = pair
    assert reachable(workstation)
    before_links = link_state(workstation)
    before_rules = ns(workstation, "nft", "list", "ruleset").stdout

    proc = officine_in(workstation, "incident", "isolate", "--par", "Mme Martin")
    assert proc.returncode == 0, proc.stderr
    assert "Poste isolé" in proc.stdout and "v0" in proc.stdout
    assert not reachable(workstation)
    # Even an interface brought back up (e.g. by DHCP) stays cut by the firewall layer.
    ns(workstation, "ip", "link", "set", "v0", "up")
    assert not reachable(workstation)
    ns(workstation, "ip", "link", "set", "v0", "down")

    again = officine_in(workstation, "incident", "isolate")
    assert again.returncode == 0 and "déjà isolé" in again.stdout

    proc = officine_in(workstation, "incident", "reconnect", "--par", "M. Durand (prestataire)")
    assert proc.returncode == 0, proc.stderr
    assert reachable(workstation)
    assert link_state(workstation) == before_links
    assert ns(workstation, "nft", "list", "ruleset").stdout == before_rules

    from officine.incident.runbook import current_incident

    incident = current_incident()
    assert incident is not None
    actions = [(e["action"], e["actor"]) for e in incident.entries()]
    assert ("isolated", "Mme Martin") in actions and ("reconnected", "M. Durand (prestataire)") in actions


def test_reconnect_without_isolation_changes_nothing(netns: str) -> None:
    before = link_state(netns)
    proc = officine_in(netns, "incident", "reconnect")
    assert proc.returncode == 2 and "rien à rétablir" in proc.stderr
    assert link_state(netns) == before
