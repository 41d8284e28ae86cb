"""Windows workstation protection: inactivity lock, AutoRun, USB storage, BitLocker, listeners,
remote-control tools, password managers and personal cloud clients."""

from __future__ import annotations

import ipaddress
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host, Observation
from officine.parsers.windows import as_int

REMOTE_TOOLS = {
    "TeamViewer": ("teamviewer", "teamviewer_service"),
    "AnyDesk": ("anydesk",),
    "RustDesk": ("rustdesk",),
    "Splashtop": ("srmanager", "srservice"),
    "VNC": ("winvnc", "tvnserver", "vncserver"),
    "Chrome Remote Desktop": ("remoting_host",),
}
CLOUD_CLIENTS = {
    "OneDrive": ("onedrive",),
    "Dropbox": ("dropbox",),
    "Google Drive": ("googledrivefs",),
    "iCloud": ("iclouddrive", "icloudservices"),
    "MEGA": ("megasync",),
}
PASSWORD_MANAGERS = ("keepass", "keepassxc", "bitwarden", "dashlane", "1password")


def lock_after(machine: dict[str, Any], policy: dict[str, Any], user: dict[str, Any]) -> tuple[int | None, str]:
    """Seconds before the session locks, and which setting decided it."""
    timeout = as_int(machine.get("InactivityTimeoutSecs"))
    if timeout:
        return timeout, "stratégie machine InactivityTimeoutSecs"
    source, values = (
        ("stratégie utilisateur", policy)
        if policy.get("ScreenSaveActive") is not None
        else ("réglage de l'utilisateur", user)
    )
    active = str(values.get("ScreenSaveActive", "0")).strip() == "1"
    secure = str(values.get("ScreenSaverIsSecure", "0")).strip() == "1"
    seconds = as_int(values.get("ScreenSaveTimeOut"))
    if active and secure and seconds:
        return seconds, f"{source} (écran de veille avec mot de passe)"
    return None, source


def _first(rows: list[dict[str, Any]] | Fact) -> dict[str, Any]:
    return rows[0] if isinstance(rows, list) and rows else {}


@collector(
    "windows.workstation",
    platforms=("windows",),
    facts=(
        "network.remote_access",
        "screenlock.sessions",
        "removable.autorun",
        "removable.usb_storage",
        "disk.encryption",
        "network.listeners",
        "software.remote_control",
        "software.password_manager",
        "software.cloud_sync",
    ),
)
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    m_obs, machine = objects(host, "lock.machine_policy")
    p_obs, policy = objects(host, "lock.policy_screensaver")
    u_obs, user = objects(host, "lock.user_screensaver")
    if isinstance(user, Fact) and isinstance(machine, Fact):
        facts["screenlock.sessions"] = user
    else:
        seconds, source = lock_after(_first(machine), _first(policy), _first(user))
        session = {"user": "session qui a fait la collecte", "scope": "user", "lock_after_s": seconds, "source": source}
        facts["screenlock.sessions"] = observed(
            {"desktops": [{"desktop": "windows", "sessions": [session], "undetermined": []}]}, m_obs, p_obs, u_obs
        )

    used: list[Observation] = []
    never = False  # an absent policy key means Windows' default, which leaves AutoRun on for some drives
    failed: Fact | None = None
    for item_id in ("autorun.machine", "autorun.user"):
        obs, rows = objects(host, item_id)
        used.append(obs)
        if isinstance(rows, Fact) and obs.status.value != "missing":
            failed = rows
        never = never or as_int(_first(rows).get("NoDriveTypeAutoRun")) == 0xFF
    if failed is not None and not never:
        facts["removable.autorun"] = failed
    else:
        facts["removable.autorun"] = observed(
            {"sessions": [{"user": None, "autorun_never": never}], "undetermined": []}, *used
        )

    s_obs, usbstor = objects(host, "removable.usbstor_service")
    if isinstance(usbstor, Fact):
        facts["removable.usb_storage"] = usbstor
    else:
        start = as_int(_first(usbstor).get("Start"))
        facts["removable.usb_storage"] = observed(
            {
                "blocked": start == 4,
                "mechanism": "service USBSTOR désactivé" if start == 4 else None,
                "module_loaded": None,
            },
            s_obs,
        )

    b_obs, volumes = objects(host, "bitlocker.volumes")
    if isinstance(volumes, Fact):
        facts["disk.encryption"] = volumes
    else:
        fixed = [v for v in volumes if str(v.get("VolumeType")) in ("OperatingSystem", "Data")]
        if not fixed:
            facts["disk.encryption"] = unknown("parse_error", "aucun volume système dans la réponse BitLocker", b_obs)
        else:
            facts["disk.encryption"] = observed(
                {
                    "volumes": [
                        {
                            "mount": str(v.get("MountPoint")),
                            "device": str(v.get("VolumeType")),
                            "encrypted": str(v.get("ProtectionStatus")) == "On",
                            "scheme": "BitLocker",
                        }
                        for v in fixed
                    ]
                },
                b_obs,
            )

    l_obs, listeners = objects(host, "network.listeners")
    if isinstance(listeners, Fact):
        facts["network.listeners"] = listeners
    else:
        sockets = []
        for row in listeners:
            try:
                address = str(ipaddress.ip_address(str(row.get("LocalAddress"))))
            except ValueError:
                continue
            port = as_int(row.get("LocalPort"))
            if port is None:
                continue
            sockets.append(
                {
                    "proto": "tcp",
                    "address": address,
                    "port": port,
                    "exposed": not ipaddress.ip_address(address).is_loopback,
                    "process": row.get("Process"),
                }
            )
        facts["network.listeners"] = observed({"sockets": sockets, "process_names": True}, l_obs)

    rdp_obs, rdp = objects(host, "network.rdp")
    nla_obs, nla = objects(host, "network.rdp_nla")
    smb_obs, smb = objects(host, "network.smb1")
    if isinstance(rdp, Fact) and rdp_obs.status.value != "missing":
        facts["network.remote_access"] = rdp
    else:
        deny = as_int(_first(rdp).get("fDenyTSConnections"))
        nla_value = as_int(_first(nla).get("UserAuthentication")) if not isinstance(nla, Fact) else None
        smb1 = as_int(_first(smb).get("SMB1")) if not isinstance(smb, Fact) else None
        facts["network.remote_access"] = observed(
            {
                "rdp_enabled": deny == 0,  # absent or 1: Remote Desktop refused (Windows' default)
                "rdp_nla": None if nla_value is None else nla_value == 1,
                # SMB1 absent from the server parameters means the protocol's own default (off since
                # Windows 10 1709 for new installs); only an explicit 1 proves it on.
                "smb1_server": smb1 == 1,
            },
            rdp_obs,
            nla_obs,
            smb_obs,
        )

    pr_obs, processes = objects(host, "processes")
    un_obs, installed = objects(host, "software.uninstall")
    names = {str(p.get("ProcessName", "")).lower() for p in processes} if isinstance(processes, list) else None
    programs = [str(p.get("DisplayName", "")) for p in installed] if isinstance(installed, list) else None
    if names is None and programs is None:
        facts["software.remote_control"] = facts["software.password_manager"] = facts["software.cloud_sync"] = unknown(
            "not_recorded", "ni processus ni logiciels installés", pr_obs, un_obs
        )
        return facts
    lowered = [p.lower() for p in programs or []]
    tools = []
    for tool, procs in REMOTE_TOOLS.items():
        running = bool(names & set(procs)) if names is not None else None
        found = any(tool.lower() in p for p in lowered)
        if running or found:
            tools.append({"name": tool, "running": running, "packages": [tool] if found else []})
    facts["software.remote_control"] = observed(
        {"tools": tools, "processes_visible": names is not None}, pr_obs, un_obs
    )
    facts["software.password_manager"] = observed(
        {"found": sorted({p for p in programs or [] if any(k in p.lower() for k in PASSWORD_MANAGERS)})}, un_obs
    )
    clients = [
        {"name": c, "running": bool(names & set(procs)) if names is not None else None}
        for c, procs in CLOUD_CLIENTS.items()
        if (names is not None and names & set(procs)) or any(c.lower() in p for p in lowered)
    ]
    facts["software.cloud_sync"] = observed(
        {"clients": clients, "processes_visible": names is not None}, pr_obs, un_obs
    )
    return facts
