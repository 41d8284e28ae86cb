"""Cut every network path of this machine while keeping it on, and undo exactly that.

Linux: interfaces that were up are brought down, NetworkManager networking is switched off
when it was on, and an nftables table drops everything but loopback as a second layer (it
also survives an interface that comes back up through DHCP). The prior state is saved so that
`reconnect` restores exactly what was there. Windows: the exact commands are printed (or run
when elevated, by a later Windows module).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from officine.errors import UserError

TABLE = "officine_isolation"
NFT_RULES = f"""
table inet {TABLE} {{
  chain input {{ type filter hook input priority -300; policy drop; iif "lo" accept; }}
  chain output {{ type filter hook output priority -300; policy drop; oif "lo" accept; }}
  chain forward {{ type filter hook forward priority -300; policy drop; }}
}}
"""
WINDOWS_COMMANDS = [
    'powershell -Command "Get-NetAdapter | Where-Object Status -eq Up | Disable-NetAdapter -Confirm:$false"',
    "netsh advfirewall set allprofiles state on",
    "netsh advfirewall set allprofiles firewallpolicy blockinbound,blockoutbound",
]
WINDOWS_UNDO = [
    'powershell -Command "Get-NetAdapter | Where-Object Status -eq Disabled | Enable-NetAdapter -Confirm:$false"',
    "netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound",
]


class IsolationError(UserError):
    pass


def _run(args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env={**os.environ, "LC_ALL": "C"})
    if check and proc.returncode != 0:
        raise IsolationError(f"La commande « {' '.join(args)} » a échoué : {proc.stderr.strip()[:300]}")
    return proc


def _links() -> list[dict[str, Any]]:
    return json.loads(_run(["ip", "-j", "link", "show"]).stdout or "[]")  # type: ignore[no-any-return]


def _up_interfaces() -> list[str]:
    return [link["ifname"] for link in _links() if link.get("ifname") != "lo" and "UP" in link.get("flags", [])]


def _nm_networking() -> str | None:
    if shutil.which("nmcli") is None:
        return None
    proc = _run(["nmcli", "networking"], check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _table_present() -> bool:
    return _run(["nft", "list", "table", "inet", TABLE], check=False).returncode == 0


@dataclass
class IsolationResult:
    already: bool
    interfaces: list[str]
    firewall: bool
    networkmanager: bool
    # When the machine was already isolated: what had come undone and was put back.
    repaired: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.already and not self.repaired:
            return "Le poste était déjà isolé : rien n'a été changé."
        if self.already:
            return (
                "Le poste était déjà isolé, mais une partie de l'isolement avait disparu : "
                + " ; ".join(self.repaired)
                + ". L'état du réseau d'avant le premier isolement est gardé pour « reconnect »."
            )
        parts = []
        if self.interfaces:
            parts.append("interfaces coupées : " + ", ".join(self.interfaces))
        if self.networkmanager:
            parts.append("réseau de NetworkManager désactivé")
        if self.firewall:
            parts.append("pare-feu de blocage total posé")
        return "Poste isolé (" + " ; ".join(parts) + "). Il reste allumé : n'y touchez plus."


@dataclass
class Reconnection:
    restored: list[str]  # what is verified back as it was
    failed: list[str]  # what is still not as it was (French, one item each)

    @property
    def complete(self) -> bool:
        return not self.failed


def _require_tools() -> None:
    if os.geteuid() != 0:
        raise IsolationError(
            "Couper ou rétablir le réseau demande les droits administrateur : relancez avec sudo. "
            "En attendant, débranchez le câble réseau et coupez le WiFi à la main."
        )
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            raise IsolationError(f"L'outil « {tool} » manque : débranchez le câble réseau à la main.")


def _lay_firewall() -> bool:
    proc = subprocess.run(["nft", "-f", "-"], input=NFT_RULES, capture_output=True, text=True, check=False)
    return proc.returncode == 0


def _load_prior(state_file: Path) -> dict[str, Any]:
    try:
        prior = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IsolationError(
            f"L'état du réseau d'avant l'isolement ({state_file}) est illisible : {exc}. Rien n'a été changé ; "
            "rallumez les interfaces à la main (« ip link set dev NOM up ») ou appelez votre prestataire."
        ) from exc
    if not isinstance(prior, dict) or not isinstance(prior.get("up", []), list):
        raise IsolationError(f"L'état du réseau d'avant l'isolement ({state_file}) n'a pas la forme attendue.")
    return prior


def isolate(state_file: Path) -> IsolationResult:
    """Isolate, saving first what was up. An isolation that was never undone by a successful
    `reconnect` keeps its saved state: isolating again only puts back what had come undone (a
    firewall reload removes the table, a cable or DHCP brings an interface up), so the way back
    to the network is never replaced by "nothing was up"."""
    _require_tools()
    if state_file.exists():
        prior = _load_prior(state_file)
        repaired = []
        if not _table_present():
            if _lay_firewall():
                repaired.append("pare-feu de blocage reposé")
            else:
                repaired.append("le pare-feu de blocage n'a pas pu être reposé")
        for name in _up_interfaces():
            _run(["ip", "link", "set", "dev", name, "down"], check=False)
            repaired.append(f"interface {name} recoupée")
        if _nm_networking() == "enabled" and _run(["nmcli", "networking", "off"], check=False).returncode == 0:
            repaired.append("réseau de NetworkManager redésactivé")
        return IsolationResult(True, [str(n) for n in prior.get("up", [])], False, False, repaired)
    up = _up_interfaces()
    networking = _nm_networking()
    prior = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "up": up,
        "networkmanager": networking,
        "links": _links(),
    }
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(prior, indent=1), encoding="utf-8")
    os.replace(tmp, state_file)  # saved before anything changes, so reconnect always knows the way back
    # The firewall first: it blocks at once, whatever the interfaces do next.
    firewall = _lay_firewall()
    nm = networking == "enabled" and _run(["nmcli", "networking", "off"], check=False).returncode == 0
    for name in up:
        _run(["ip", "link", "set", "dev", name, "down"], check=False)
    return IsolationResult(False, up, firewall, nm)


def reconnect(state_file: Path) -> Reconnection:
    """Undo the isolation, then check it: every interface that was up is up again, the blocking
    table is gone, NetworkManager is on again if it was. The saved state is set aside only when
    everything is back; otherwise it stays for another try."""
    _require_tools()
    if not state_file.exists():
        if _table_present():
            _run(["nft", "delete", "table", "inet", TABLE])
            if _table_present():
                return Reconnection([], ["le pare-feu de blocage n'a pas pu être retiré"])
            return Reconnection(["pare-feu de blocage retiré"], [])
        raise IsolationError("Ce poste n'a pas été isolé par officine-cyber : rien à rétablir.")
    prior = _load_prior(state_file)
    wanted = [str(n) for n in prior.get("up", [])]
    if prior.get("networkmanager") == "enabled":
        _run(["nmcli", "networking", "on"], check=False)
    for name in wanted:
        _run(["ip", "link", "set", "dev", name, "up"], check=False)
    if _table_present():
        _run(["nft", "delete", "table", "inet", TABLE], check=False)
    restored, failed = [], []
    up_now = set(_up_interfaces())
    for name in wanted:
        if name in up_now:
            restored.append(f"interface {name} rallumée")
        elif name not in {link.get("ifname") for link in _links()}:
            failed.append(f"interface {name} introuvable (retirée ou renommée) : elle reste coupée")
        else:
            failed.append(f"interface {name} toujours coupée")
    if prior.get("networkmanager") == "enabled":
        if _nm_networking() == "enabled":
            restored.append("réseau de NetworkManager réactivé")
        else:
            failed.append("réseau de NetworkManager toujours désactivé")
    if _table_present():
        failed.append("le pare-feu de blocage est toujours en place")
    else:
        restored.append("pare-feu de blocage retiré")
    if not failed:
        state_file.rename(state_file.with_name(f"{state_file.stem}.{datetime.now(UTC):%Y%m%dT%H%M%S}.restored.json"))
    return Reconnection(restored, failed)
