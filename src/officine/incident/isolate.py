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
from dataclasses import dataclass
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

    def describe(self) -> str:
        if self.already:
            return "Le poste était déjà isolé : rien n'a été changé."
        parts = []
        if self.interfaces:
            parts.append("interfaces coupées : " + ", ".join(self.interfaces))
        if self.networkmanager:
            parts.append("réseau de NetworkManager désactivé")
        if self.firewall:
            parts.append("pare-feu de blocage total posé")
        return "Poste isolé (" + " ; ".join(parts) + "). Il reste allumé : n'y touchez plus."


def isolate(state_file: Path) -> IsolationResult:
    if os.geteuid() != 0:
        raise IsolationError(
            "Couper le réseau demande les droits administrateur : relancez avec sudo. "
            "En attendant, débranchez le câble réseau et coupez le WiFi à la main."
        )
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            raise IsolationError(f"L'outil « {tool} » manque : débranchez le câble réseau à la main.")
    if state_file.exists() and _table_present():
        return IsolationResult(True, [], False, False)
    up = _up_interfaces()
    networking = _nm_networking()
    prior: dict[str, Any] = {
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
    proc = subprocess.run(["nft", "-f", "-"], input=NFT_RULES, capture_output=True, text=True, check=False)
    firewall = proc.returncode == 0
    nm = networking == "enabled" and _run(["nmcli", "networking", "off"], check=False).returncode == 0
    for name in up:
        _run(["ip", "link", "set", "dev", name, "down"], check=False)
    return IsolationResult(False, up, firewall, nm)


def reconnect(state_file: Path) -> list[str]:
    if not state_file.exists():
        if _table_present():
            _run(["nft", "delete", "table", "inet", TABLE])
            return ["pare-feu de blocage retiré"]
        raise IsolationError("Ce poste n'a pas été isolé par officine-cyber : rien à rétablir.")
    prior = json.loads(state_file.read_text(encoding="utf-8"))
    done = []
    for name in prior.get("up", []):
        if _run(["ip", "link", "set", "dev", name, "up"], check=False).returncode == 0:
            done.append(f"interface {name} rallumée")
    if prior.get("networkmanager") == "enabled" and _run(["nmcli", "networking", "on"], check=False).returncode == 0:
        done.append("réseau de NetworkManager réactivé")
    if _table_present():
        _run(["nft", "delete", "table", "inet", TABLE])
        done.append("pare-feu de blocage retiré")
    state_file.rename(state_file.with_name(f"{state_file.stem}.{datetime.now(UTC):%Y%m%dT%H%M%S}.restored.json"))
    return done
