"""Listening sockets reachable beyond loopback, and remote-control tools."""

from __future__ import annotations

import re
from typing import Any

from officine.collectors.linux.common import packages, processes
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown_from
from officine.host.base import Host, Observation
from officine.parsers.net import parse_proc_net

PROC_NET = (
    ("tcp", "/proc/net/tcp"),
    ("tcp", "/proc/net/tcp6"),
    ("udp", "/proc/net/udp"),
    ("udp", "/proc/net/udp6"),
)
# Remote-control and screen-sharing tools: process names and package names.
REMOTE_TOOLS = {
    "TeamViewer": ({"teamviewerd", "TeamViewer"}, ("teamviewer", "teamviewer-host")),
    "AnyDesk": ({"anydesk"}, ("anydesk",)),
    "RustDesk": ({"rustdesk"}, ("rustdesk",)),
    "Chrome Remote Desktop": ({"chrome-remote-de"}, ("chrome-remote-desktop",)),
    "VNC": (
        {"x11vnc", "Xvnc", "vino-server", "Xtigervnc", "Xtightvnc"},
        ("x11vnc", "tigervnc-standalone-server", "tightvncserver", "vino"),
    ),
    "xrdp": ({"xrdp", "xrdp-sesman"}, ("xrdp",)),
    "GNOME Remote Desktop": ({"gnome-remote-de"}, ()),
    "Splashtop": ({"SRManager", "SRStreamer"}, ("splashtop-streamer",)),
}
_SS_USERS = re.compile(r'\("([^"]+)",pid=(\d+)')


def _ss_names(host: Host) -> tuple[Observation, dict[tuple[str, int], str]]:
    """Process names per (proto, port) from `ss -p` (iproute2 is not translated). Root only."""
    obs = host.run(["ss", "-H", "-t", "-u", "-l", "-n", "-p"])
    names: dict[tuple[str, int], str] = {}
    if obs.ok and obs.exit_code == 0:
        for line in (obs.output or "").splitlines():
            fields = line.split()
            if len(fields) >= 5 and ":" in fields[4]:
                port = fields[4].rpartition(":")[2]
                m = _SS_USERS.search(line)
                if m and port.isdigit():
                    names[(fields[0].lower(), int(port))] = m.group(1)
    return obs, names


@collector("linux.network", platforms=("linux",), facts=("network.listeners", "software.remote_control"))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    listeners = []
    used: list[Observation] = []
    failed: Observation | None = None
    for proto, path in PROC_NET:
        obs = host.read_file(path)
        if obs.ok:
            used.append(obs)
            listeners += parse_proc_net(obs.output or "", proto)
        elif path.endswith("tcp") and failed is None:
            failed = obs
    if failed is not None:
        facts["network.listeners"] = unknown_from(failed, "sockets en écoute")
    else:
        ss_obs, names = _ss_names(host)
        seen = set()
        rows: list[dict[str, Any]] = []
        for lst in listeners:
            key = (lst.proto, lst.address, lst.port)
            if key in seen:
                continue
            seen.add(key)
            rows.append(
                {
                    **lst.to_json(),
                    "exposed": not lst.loopback_only,
                    "process": names.get((lst.proto, lst.port)),
                }
            )
        rows.sort(key=lambda r: (r["proto"], r["port"], r["address"]))
        facts["network.listeners"] = observed({"sockets": rows, "process_names": bool(names)}, *used, ss_obs)

    ps_obs, procs = processes(host)
    pkgs = packages(host)
    if procs is None and pkgs.installed is None:
        facts["software.remote_control"] = unknown_from(ps_obs, "processus en cours")
    else:
        running_names = {p.comm for p in procs} if procs is not None else set()
        tools = []
        for tool, (proc_names, pkg_names) in REMOTE_TOOLS.items():
            running = bool(running_names & proc_names)
            installed = pkgs.has(*pkg_names)
            if running or installed:
                tools.append({"name": tool, "running": running if procs is not None else None, "packages": installed})
        facts["software.remote_control"] = observed(
            {"tools": tools, "processes_visible": procs is not None}, ps_obs, pkgs.obs
        )
    return facts
