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
    """The command inside the namespace; its output read as one line of words (wrapping aside)."""
    proc = ns(name, "env", "COLUMNS=200", sys.executable, "-m", "officine", *args)
    proc.stdout, proc.stderr = " ".join(proc.stdout.split()), " ".join(proc.stderr.split())
    return proc


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


def saved_state(name: str) -> dict[str, object]:
    """The prior state isolate saved, read from the current incident folder."""
    from officine.incident.runbook import current_incident

    incident = current_incident()
    assert incident is not None
    return json.loads((incident.folder / "isolation.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_firewall_reload_then_isolate_again_keeps_the_way_back(pair: tuple[str, str]) -> None:
    """The blocking table vanishes (a firewall reload); isolate runs again: the state saved first,
    with v0 up, must survive, and reconnect must really bring v0 back."""
    workstation, _peer = pair
    assert officine_in(workstation, "incident", "isolate", "--par", "Mme Martin").returncode == 0
    assert saved_state(workstation)["up"] == ["v0"]
    ns(workstation, "nft", "flush", "ruleset")  # what `systemctl reload nftables` does to our table
    again = officine_in(workstation, "incident", "isolate", "--par", "Mme Martin")
    assert again.returncode == 0, again.stderr
    assert "pare-feu de blocage reposé" in again.stdout and "rien n'a été changé" not in again.stdout
    assert saved_state(workstation)["up"] == ["v0"]  # never overwritten with "nothing was up"
    assert "officine_isolation" in ns(workstation, "nft", "list", "tables").stdout
    assert not reachable(workstation)

    proc = officine_in(workstation, "incident", "reconnect", "--par", "M. Durand (prestataire)")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "interface v0 rallumée" in proc.stdout and "Réseau rétabli comme avant" in proc.stdout
    assert reachable(workstation)


def test_interface_brought_up_during_isolation_is_cut_again(pair: tuple[str, str]) -> None:
    workstation, _peer = pair
    assert officine_in(workstation, "incident", "isolate", "--par", "Mme Martin").returncode == 0
    ns(workstation, "ip", "link", "set", "v0", "up")  # DHCP, a cable, a helpful colleague
    again = officine_in(workstation, "incident", "isolate", "--par", "Mme Martin")
    assert "interface v0 recoupée" in again.stdout
    assert "UP" not in dict((n, f) for n, f, _ in link_state(workstation))["v0"]


def test_reconnect_says_what_did_not_come_back_and_keeps_the_saved_state(pair: tuple[str, str]) -> None:
    workstation, network = pair
    # A second adapter (a veth pair: the kernel here has no dummy driver).
    ns(workstation, "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
    ns(workstation, "ip", "link", "set", "d1", "netns", network)
    ns(workstation, "ip", "link", "set", "d0", "up")
    assert officine_in(workstation, "incident", "isolate", "--par", "Mme Martin").returncode == 0
    assert sorted(saved_state(workstation)["up"]) == ["d0", "v0"]  # type: ignore[type-var]
    ns(workstation, "ip", "link", "del", "d0")  # the USB network adapter was unplugged meanwhile

    proc = officine_in(workstation, "incident", "reconnect", "--par", "M. Durand (prestataire)")
    assert proc.returncode == 1
    assert "interface v0 rallumée" in proc.stdout
    assert "interface d0 introuvable" in proc.stdout and "pas entièrement rétabli" in proc.stdout
    assert reachable(workstation)  # what could come back did
    assert sorted(saved_state(workstation)["up"]) == ["d0", "v0"]  # type: ignore[type-var]

    from officine.incident.runbook import current_incident

    incident = current_incident()
    assert incident is not None
    last = [e for e in incident.timeline() if e.action == "reconnected"][-1]
    assert last.details["complete"] is False and any("d0" in f for f in last.details["failed"])


def test_reconnect_checks_instead_of_trusting_the_commands(pair: tuple[str, str]) -> None:
    """A state file naming an interface that never existed: reconnect must not report success."""
    workstation, _peer = pair
    assert officine_in(workstation, "incident", "isolate", "--par", "Mme Martin").returncode == 0
    from officine.incident.runbook import current_incident

    incident = current_incident()
    assert incident is not None
    state = incident.folder / "isolation.json"
    prior = json.loads(state.read_text(encoding="utf-8"))
    prior["up"] = ["v0", "eth9"]
    state.write_text(json.dumps(prior), encoding="utf-8")
    proc = officine_in(workstation, "incident", "reconnect", "--par", "M. Durand")
    assert proc.returncode == 1 and "eth9" in proc.stdout and "Réseau rétabli comme avant" not in proc.stdout


def test_unreadable_saved_state_is_a_french_error_that_changes_nothing(pair: tuple[str, str]) -> None:
    workstation, _peer = pair
    assert officine_in(workstation, "incident", "isolate", "--par", "Mme Martin").returncode == 0
    from officine.incident.runbook import current_incident

    incident = current_incident()
    assert incident is not None
    (incident.folder / "isolation.json").write_text("{pas du json", encoding="utf-8")
    before = link_state(workstation)
    proc = officine_in(workstation, "incident", "reconnect", "--par", "M. Durand")
    assert proc.returncode == 2 and "illisible" in proc.stderr and "Traceback" not in proc.stderr
    assert link_state(workstation) == before
