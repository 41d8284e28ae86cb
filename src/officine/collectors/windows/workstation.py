"""Windows workstation protection: inactivity lock, AutoRun, USB storage, BitLocker, listeners,
remote-control tools, password managers and personal cloud clients."""

from __future__ import annotations

import ipaddress
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host, Observation
from officine.parsers.windows import as_bool, as_int

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
    # A timeout with no screen saver set never starts anything, so never locks: the one the policy
    # imposes, else the user's own.
    saver = str(policy.get("SCRNSAVE.EXE") or user.get("SCRNSAVE.EXE") or "").strip()
    if active and secure and seconds and saver:
        return seconds, f"{source} (écran de veille {saver.rsplit(chr(92), 1)[-1]} avec mot de passe)"
    if active and secure and seconds:
        return None, f"{source} (délai de {seconds} s mais aucun écran de veille choisi)"
    return None, source


def _first(rows: list[dict[str, Any]] | Fact) -> dict[str, Any]:
    return rows[0] if isinstance(rows, list) and rows else {}


def bitlocker_state(volume: dict[str, Any]) -> str:
    """on, off, suspended (encrypted but its key left in clear: protection off), in_progress."""
    protection = str(volume.get("ProtectionStatus") or "")
    status = str(volume.get("VolumeStatus") or "")
    if protection == "On":
        return "on"
    if status in ("EncryptionInProgress", "EncryptionPaused"):
        return "in_progress"
    if status.startswith("FullyEncrypted"):
        return "suspended"
    return "off"


SMB1_DEFAULT_ON_BELOW = 16299  # before Windows 10 1709 / Server 1709, SMBv1 is on unless turned off


def smb1_server(host: Host) -> tuple[bool | None, str, list[Observation]]:
    """Whether the SMB server accepts SMBv1, and what said so: the server's own configuration first,
    then the registry value, then the optional feature's state, then the build's documented default.
    An absent registry value is not "off": on Windows Server 2016 and Windows 10 before 1709 it is on."""
    c_obs, config = objects(host, "network.smb_server")
    if isinstance(config, list) and config and as_bool(config[0].get("EnableSMB1Protocol")) is not None:
        return as_bool(config[0].get("EnableSMB1Protocol")), "Get-SmbServerConfiguration", [c_obs]
    r_obs, registry = objects(host, "network.smb1")
    value = as_int(_first(registry).get("SMB1")) if not isinstance(registry, Fact) else None
    if value is not None:
        return value != 0, "registre LanmanServer SMB1", [c_obs, r_obs]
    f_obs, feature = objects(host, "network.smb1_feature")
    state = str(_first(feature).get("State") or "") if not isinstance(feature, Fact) else ""
    if state:
        return state == "Enabled", "fonctionnalité SMB1Protocol", [c_obs, r_obs, f_obs]
    v_obs, version = objects(host, "os.currentversion")
    build = as_int(_first(version).get("CurrentBuild")) if not isinstance(version, Fact) else None
    if build is not None and build < SMB1_DEFAULT_ON_BELOW:
        return True, f"valeur par défaut de la build {build}", [c_obs, r_obs, f_obs, v_obs]
    return None, "", [c_obs, r_obs, f_obs, v_obs]


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
        values = _first(rows)
        # NoDriveTypeAutoRun 255: no drive type; NoAutorun 1: AutoRun off altogether.
        never = never or as_int(values.get("NoDriveTypeAutoRun")) == 0xFF or as_int(values.get("NoAutorun")) == 1
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

    b_obs, volumes = objects(host, "bitlocker.volumes", ctx.privileged)
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
                            "state": bitlocker_state(v),
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
    smb1, smb_how, smb_used = smb1_server(host)
    if isinstance(rdp, Fact) and rdp_obs.status.value != "missing":
        facts["network.remote_access"] = rdp
    else:
        deny = as_int(_first(rdp).get("fDenyTSConnections"))
        nla_value = as_int(_first(nla).get("UserAuthentication")) if not isinstance(nla, Fact) else None
        facts["network.remote_access"] = observed(
            {
                "rdp_enabled": deny == 0,  # absent or 1: Remote Desktop refused (Windows' default)
                "rdp_nla": None if nla_value is None else nla_value == 1,
                "smb1_server": smb1,  # None: could not be told
                "smb1_source": smb_how,
            },
            rdp_obs,
            nla_obs,
            *smb_used,
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
