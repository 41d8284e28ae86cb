"""Builds the stored fixture snapshots (tests/fixtures/snapshots/) from the real published outputs in
tests/fixtures/raw, deterministically. Run `python tests/snapshot_fixtures.py` after changing a machine
below or the Windows manifest, and commit the regenerated files (a test checks they are current).

Every observation says where it comes from in `extra.fixture`: `raw/<path>` for a published output
(converted to what the collector records: collect.ps1 turns objects into JSON, so Format-List/Table
text becomes JSON objects here), or `constructed: <why>` for a machine state set by hand because no
published output exists (registry policy values, secedit lines...). Nothing constructed claims to be
a capture."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from officine import snapshot
from officine.collectors.macos.system import SOCKETFILTERFW
from officine.collectors.windows.script import manifest, target
from officine.host.base import Observation, ObsStatus
from officine.parsers.windows import parse_format_list, parse_format_table

HERE = Path(__file__).parent
RAW = HERE / "fixtures/raw"
OUT = HERE / "fixtures/snapshots"
WHEN = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NAMESPACE = uuid.UUID("5b0f3c1e-8d7a-4e55-9a1f-0c7f1e2d3a4b")


def raw(rel: str) -> str:
    """A published output without its six-line citation header."""
    return (RAW / rel).read_text(encoding="utf-8").split("# ---\n", 1)[1]


def typed(value: str) -> Any:
    """A Format-List/Table cell as ConvertTo-Json writes the property (bool, number or string)."""
    if value in ("True", "False"):
        return value == "True"
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    return value if value != "" else None


def objects(
    rel: str, keep: list[str] | None = None, typing: bool = True, listing: bool = False
) -> list[dict[str, Any]]:
    """The objects of a PowerShell Format-Table (or, with `listing`, Format-List) capture, as JSON objects."""
    text = raw(rel)
    as_list = "\n".join(line for line in text.splitlines() if not line.startswith("PS "))
    rows = parse_format_list(as_list) if listing else parse_format_table(text) or parse_format_list(as_list)
    return [
        {k: (typed(v) if typing else v) for k, v in r.items() if keep is None or k in keep}
        for r in rows
        if any(v for v in r.values())
    ]


def command_output(rel: str, command: str) -> str:
    """The lines printed after `$ <command>` in a capture holding several commands."""
    text = raw(rel)
    parts = re.split(r"^\$ (.*)$", text, flags=re.M)
    for i in range(1, len(parts), 2):
        if parts[i].strip().startswith(command):
            return parts[i + 1].lstrip("\n")
    return text


def item(item_id: str) -> dict[str, Any]:
    return next(i for i in manifest()["observations"] if i["id"] == item_id)


# -- What a machine recorded ------------------------------------------------------------------------
@dataclass(frozen=True)
class Rec:
    """One manifest item as recorded: `ok` with a value, `missing` (key or class absent), `denied`."""

    status: str
    value: Any = None
    source: str = ""
    detail: str = "Access denied"

    def observation(self, spec: dict[str, Any]) -> dict[str, Any]:
        obs: dict[str, Any] = {"kind": spec["kind"], "target": target(spec), "status": self.status}
        if self.status == "ok":
            if spec["kind"] == "command":
                obs.update(output=self.value, exit_code=0)
            else:
                obs["output"] = json.dumps(self.value, ensure_ascii=False)
        elif self.status == "missing":
            obs["detail"] = "cle absente" if spec["kind"].startswith("registry") else "absent"
        else:
            obs["detail"] = self.detail
        obs["duration_ms"] = 3.0
        obs["extra"] = {"fixture": self.source}
        return obs


def real(value: Any, rel: str, note: str = "") -> Rec:
    return Rec("ok", value, f"raw/{rel}" + (f" ({note})" if note else ""))


def made(value: Any, why: str) -> Rec:
    return Rec("ok", value, f"constructed: {why}")


def absent(why: str) -> Rec:
    return Rec("missing", None, f"constructed: {why}")


def denied(why: str = "run without administrator rights") -> Rec:
    return Rec("denied", None, f"constructed: {why}")


@dataclass
class WindowsMachine:
    name: str
    hostname: str
    description: str
    privileged: bool
    items: dict[str, Rec] = field(default_factory=dict)


def adsi_view(members: Rec, hostname: str) -> Rec:
    """The Administrators group as the ADSI fallback reads it, when Get-LocalGroupMember answered: the same
    members (ADSI is only consulted when that cmdlet fails, so this never decides a verdict)."""
    if members.status != "ok":
        return Rec("error", None, "constructed: not recorded with this machine", "not recorded")
    rows = [
        {
            "Name": "WinNT://" + str(m.get("Name", "")).replace("\\", "/"),
            "SID": m.get("SID"),
            "Class": "Group" if str(m.get("ObjectClass")) == "Group" else "User",
        }
        for m in members.value
    ]
    return made(rows, f"ADSI view of the same members of {hostname}'s Administrators")


def windows_body(machine: WindowsMachine) -> dict[str, Any]:
    if "accounts.administrators_adsi" not in machine.items and "accounts.administrators" in machine.items:
        machine.items["accounts.administrators_adsi"] = adsi_view(
            machine.items["accounts.administrators"], machine.hostname
        )
    ids = [spec["id"] for spec in manifest()["observations"]]
    unknown_ids = set(machine.items) - set(ids)
    if unknown_ids:
        raise ValueError(f"{machine.name}: not in the manifest: {sorted(unknown_ids)}")
    unset = [i for i in ids if i not in machine.items]
    if unset:
        raise ValueError(f"{machine.name}: every manifest item must be stated, missing {unset}")
    return {
        "format": "officine-cyber/snapshot",
        "schema_version": 1,
        "snapshot_id": str(uuid.uuid5(NAMESPACE, machine.name)),
        "tool_version": "0.1.0",
        "platform": "windows",
        "mode": "live",
        "collected_at": WHEN.isoformat(),
        "host": {"hostname": machine.hostname, "machine_id_sha256": None},
        "collector": {"user": f"{machine.hostname}\\fixture", "privileged": machine.privileged, "powershell": "5.1"},
        "observations": [machine.items[spec["id"]].observation(spec) for spec in manifest()["observations"]],
        "facts": {},
    }


def envelope(body: dict[str, Any]) -> dict[str, Any]:
    """Sealed the way collect.ps1 seals it: the exact payload bytes, base64, with their SHA-256."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return {
        "format": "officine-cyber/snapshot-envelope",
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload": base64.b64encode(payload).decode("ascii"),
    }


# -- Windows machines -------------------------------------------------------------------------------
NETSH = "windows/netsh-wlan-show-interfaces/"
CURRENTVERSION = item("os.currentversion")["values"]
WIN11_25H2 = "windows/get-itemproperty-currentversion/en-US-win11-25h2-pro-productname-says-windows-10-partial.txt"
WIN10_21H2 = "windows/get-itemproperty-currentversion/en-US-win10-21h2-pro-19044-ubr3086.txt"
USERS_FR = "windows/get-localuser/fr-FR-win10-1909-home-administrateur-invite.txt"
FIREWALL_FR = "windows/get-netfirewallprofile/fr-FR-win-ft-name-enabled.txt"
DEFENDER_OK = "windows/get-mpcomputerstatus/en-US-win10-1903-image-build-realtime-on.txt"
DEFENDER_OFF = "windows/get-mpcomputerstatus/en-US-defender-not-running-partial.txt"
DEFENDER_SERVER = "windows/get-mpcomputerstatus/en-US-server2016-htb-realtime-on.txt"
DEFENDER_RT_OFF = "windows/get-mpcomputerstatus/en-US-server2016-htb-realtime-off.txt"
WIN10_22H2 = "windows/reg-query-currentversion/en-US-win10-22h2-enterprise-flutter-fixture.txt"
HOTFIXES = "windows/get-hotfix/en-US-server2016-thm-20-hotfixes.txt"
USBSTOR = "windows/reg-query-usbstor/en-US-two-devices-test-constant-UNVERIFIED.txt"
DEFENDER_KEEP = [
    "AMServiceEnabled",
    "AntivirusEnabled",
    "RealTimeProtectionEnabled",
    "AntivirusSignatureAge",
    "AntivirusSignatureVersion",
    "AMRunningMode",
]


def registry_values(rel: str) -> dict[str, Any]:
    values = objects(rel, CURRENTVERSION, typing=False)[0]
    if "UBR" in values:
        values["UBR"] = int(values["UBR"])  # a REG_DWORD
    return values


def defender(rel: str) -> list[dict[str, Any]]:
    return [r for r in objects(rel, DEFENDER_KEEP, listing=True) if "AntivirusEnabled" in r]


def hotfixes(dates: list[str] | None) -> list[dict[str, Any]]:
    """The real Get-HotFix capture; its US dates as collect.ps1 writes them (yyyy-MM-dd), or other dates."""
    rows = objects(HOTFIXES, ["HotFixID", "Description", "InstalledOn"], typing=False)
    out = []
    for i, r in enumerate(rows):
        if dates is None:
            installed = datetime.strptime(r["InstalledOn"], "%m/%d/%Y %I:%M:%S %p").date().isoformat()
        else:
            installed = dates[i] if i < len(dates) else None
        if installed is not None:
            out.append({"HotFixID": r["HotFixID"], "Description": r["Description"], "InstalledOn": installed})
    return out


def usbstor_keys(rel: str) -> list[dict[str, Any]]:
    """`reg query ...\\USBSTOR /s /v FriendlyName` text turned into what collect.ps1 records (depth 2)."""
    rows: list[dict[str, Any]] = []
    for block in raw(rel).split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines or not lines[0].startswith("HKEY_LOCAL_MACHINE"):
            continue
        key = lines[0].strip().replace("HKEY_LOCAL_MACHINE", "HKLM")
        friendly = next((line.split("REG_SZ", 1)[1].strip() for line in lines[1:] if "FriendlyName" in line), None)
        parent = key.rsplit("\\", 1)[0]
        if not any(r["key"] == parent for r in rows):
            rows.append({"key": parent, "value": None})
        rows.append({"key": key, "value": friendly})
    return rows


def users_fr() -> list[dict[str, Any]]:
    return objects(USERS_FR, ["Name", "Enabled"])


def users_en() -> list[dict[str, Any]]:
    english = {"Administrateur": "Administrator", "Invité": "Guest"}
    return [dict(u, Name=english.get(u["Name"], u["Name"])) for u in users_fr()]


def firewall(inbound: str) -> list[dict[str, Any]]:
    return [dict(r, DefaultInboundAction=inbound, DefaultOutboundAction="NotConfigured") for r in objects(FIREWALL_FR)]


RECENT = "dates set to the month before collection (the published capture is from 2016-2019)"
W32TM = "windows/w32tm-query-status/"
USER_DESKTOP = "windows/reg-query-control-panel-desktop/en-US-win11-hkcu-desktop-full-no-screensaver-timeout.txt"
BITLOCKER_ON = "windows/get-bitlockervolume/en-US-ui-comma-decimal-win10-fl-fullyencrypted-msdocs.txt"
BITLOCKER_OFF = "windows/get-bitlockervolume/en-US-win-table-data-volume-fullydecrypted-msdocs.txt"
BITLOCKER_KEEP = ["MountPoint", "VolumeType", "ProtectionStatus", "VolumeStatus", "EncryptionPercentage"]
SC_DEFENDER = "windows/securitycenter2-antivirusproduct/en-US-win10-defender-only-397568.txt"
SC_BITDEFENDER = "windows/securitycenter2-antivirusproduct/en-US-win10-bitdefender-266240-defender-393472.txt"
LISTENERS_SERVER = "windows/get-nettcpconnection/en-US-server2016-thm-listen-20.txt"


def text(rel: str, note: str = "") -> Rec:
    return real(raw(rel), rel, note)


def w32tm(name: str) -> Rec:
    """The w32tm lines of a capture (without the author's prompt and other commands)."""
    lines = raw(W32TM + name).split("\n\n")[0].splitlines()
    return real("\n".join(line for line in lines if "w32tm" not in line) + "\n", W32TM + name)


def firewall_off() -> Rec:
    rel = "windows/get-netfirewallprofile/nl-NL-server-all-disabled-partial.txt"
    rows = objects(rel, ["Name", "Enabled", "DefaultInboundAction", "DefaultOutboundAction"])
    rows.append(dict(rows[0], Name="Public"))
    return real(rows, rel, "Public profile completed like the others: the captured command disabled all three")


def compliant_windows11(locale: str) -> WindowsMachine:
    """The same well-configured Windows 11 in French or in English: only localised outputs differ."""
    fr = locale == "fr"
    builtin = "Administrateur" if fr else "Administrator"
    wifi = NETSH + ("fr-FR-win11-wpa2-personnel.txt" if fr else "en-US-win11-wpa2-personal.txt")
    profiles = f"windows/netsh-wlan-show-profiles/{'fr-FR' if fr else 'en-US'}-win11-six-profiles.txt"
    caption = "Microsoft Windows 11 Professionnel" if fr else "Microsoft Windows 11 Pro"
    return WindowsMachine(
        f"windows11-{locale}-conforme",
        "COMPTOIR-1",
        f"Windows 11 25H2 Pro, {'French' if fr else 'English'} display language, well configured, administrator run",
        True,
        {
            "os.currentversion": real(registry_values(WIN11_25H2), WIN11_25H2),
            "os.cim": made(
                [
                    {
                        "Caption": caption,
                        "Version": "10.0.26200",
                        "BuildNumber": "26200",
                        "OSLanguage": 1036 if fr else 1033,
                        "ProductType": 1,
                        "OperatingSystemSKU": 48,
                    }
                ],
                "Win32_OperatingSystem of this build and language",
            ),
            "antivirus.securitycenter": real(
                objects(SC_DEFENDER, item("antivirus.securitycenter")["properties"]), SC_DEFENDER
            ),
            "antivirus.defender": real(defender(DEFENDER_OK), DEFENDER_OK),
            "firewall.profiles": real(firewall("Block"), FIREWALL_FR, "DefaultInboundAction Block set"),
            "bitlocker.volumes": real(objects(BITLOCKER_ON, BITLOCKER_KEEP), BITLOCKER_ON),
            "updates.hotfixes": Rec("ok", hotfixes(["2026-11-12", "2026-10-15"]), f"raw/{HOTFIXES} (IDs; {RECENT})"),
            "updates.policy": absent("no Windows Update policy: Windows' default, automatic updates"),
            "lock.machine_policy": made({"InactivityTimeoutSecs": 600, "EnableLUA": 1}, "lock after 10 minutes"),
            "lock.user_screensaver": real({"ScreenSaveActive": "1"}, USER_DESKTOP, "the three screen saver values"),
            "lock.policy_screensaver": absent("no screen saver policy"),
            "logon.winlogon": made(
                {"AutoAdminLogon": "0", "ScRemoveOption": "1"}, "no automatic logon, card removal locks"
            ),
            "accounts.local_users": real(
                users_fr() if fr else users_en(),
                USERS_FR,
                "" if fr else "built-in names as an English Windows names them",
            ),
            "accounts.administrators": made(
                [{"Name": f"COMPTOIR-1\\{builtin}", "PrincipalSource": "Local", "ObjectClass": "User"}],
                "only the disabled built-in administrator in S-1-5-32-544",
            ),
            "accounts.security_policy": made(
                [
                    {
                        "lines": [
                            "MinimumPasswordLength = 14",
                            "PasswordComplexity = 1",
                            "MaximumPasswordAge = -1",
                            "LockoutBadCount = 5",
                            "LockoutDuration = 15",
                            "ResetLockoutCount = 15",
                        ]
                    }
                ],
                "secedit keys of a hardened policy",
            ),
            "network.smb1": made({"SMB1": 0}, "SMBv1 server off"),
            "network.smb_server": made(
                [{"EnableSMB1Protocol": False, "EnableSMB2Protocol": True}], "SMB server: SMBv1 off, SMBv2 on"
            ),
            "network.smb1_feature": made(
                [{"FeatureName": "SMB1Protocol", "State": "Disabled"}], "SMB1 feature not installed"
            ),
            "network.rdp": made({"fDenyTSConnections": 1}, "Remote Desktop refused"),
            "network.rdp_nla": made({"UserAuthentication": 1}, "NLA required"),
            "network.listeners": made(
                [{"LocalAddress": "127.0.0.1", "LocalPort": 49730, "OwningProcess": 4120, "Process": "KeePass"}],
                "a loopback listener only",
            ),
            "processes": made(
                [
                    {"ProcessName": "explorer", "Id": 5012, "Path": None},
                    {"ProcessName": "KeePass", "Id": 4120, "Path": None},
                ],
                "a short process list",
            ),
            "autorun.machine": made({"NoDriveTypeAutoRun": 255}, "AutoRun off for every drive type"),
            "autorun.user": absent("no per-user AutoRun policy"),
            "removable.usbstor_service": made({"Start": 3}, "USB storage allowed (Windows' default)"),
            "removable.usbstor_history": real(usbstor_keys(USBSTOR), USBSTOR),
            "software.uninstall": made(
                [
                    {
                        "DisplayName": "KeePass Password Safe 2.57",
                        "DisplayVersion": "2.57",
                        "Publisher": "Dominik Reichl",
                    }
                ],
                "KeePass installed",
            ),
            "time.w32time": made(
                {"Type": "NTP", "NtpServer": "time.windows.com,0x9"},
                "NTP client of time.windows.com, as in the w32tm capture",
            ),
            "time.service": made([{"Name": "W32Time", "State": "Running", "StartMode": "Manual"}], "service running"),
            "time.status": w32tm("en-US-ui-fr-region-win-synced-time-windows-com.txt"),
            "wifi.interfaces": text(wifi),
            "wifi.profiles": text(profiles),
        },
    )


def windows10_fr_non_compliant() -> WindowsMachine:
    """A French Windows 10 left as installed years ago: what the audit must catch."""
    return WindowsMachine(
        "windows10-fr-non-conforme",
        "PC-ARTHU",
        "Windows 10 21H2 Pro, French display language, badly configured, administrator run",
        True,
        {
            "os.currentversion": real(registry_values(WIN10_21H2), WIN10_21H2),
            "os.cim": made(
                [
                    {
                        "Caption": "Microsoft Windows 10 Professionnel",
                        "Version": "10.0.19044",
                        "BuildNumber": "19044",
                        "OSLanguage": 1036,
                        "ProductType": 1,
                        "OperatingSystemSKU": 48,
                    }
                ],
                "Win32_OperatingSystem of this build and language",
            ),
            "antivirus.securitycenter": real(
                objects(SC_BITDEFENDER, item("antivirus.securitycenter")["properties"]), SC_BITDEFENDER
            ),
            "antivirus.defender": real(defender(DEFENDER_OFF), DEFENDER_OFF),
            "firewall.profiles": firewall_off(),
            "bitlocker.volumes": real(
                [dict(v, MountPoint="C:", VolumeType="OperatingSystem") for v in objects(BITLOCKER_OFF)],
                BITLOCKER_OFF,
                "the system volume in that state",
            ),
            "updates.hotfixes": real(hotfixes(None), HOTFIXES, "US dates written as yyyy-MM-dd"),
            "updates.policy": made({"NoAutoUpdate": 1}, "automatic updates turned off by policy"),
            "lock.machine_policy": made({"EnableLUA": 1}, "no inactivity limit"),
            "lock.user_screensaver": real({"ScreenSaveActive": "1"}, USER_DESKTOP, "no timeout, not secure"),
            "lock.policy_screensaver": absent("no screen saver policy"),
            "logon.winlogon": made(
                {"AutoAdminLogon": "1", "DefaultUserName": "arthu", "ScRemoveOption": "0"}, "automatic logon of arthu"
            ),
            "accounts.local_users": real(users_fr(), USERS_FR),
            "accounts.administrators": made(
                [
                    {"Name": "PC-ARTHU\\Administrateur", "PrincipalSource": "Local", "ObjectClass": "User"},
                    {"Name": "PC-ARTHU\\arthu", "PrincipalSource": "Local", "ObjectClass": "User"},
                ],
                "the daily account arthu is an administrator",
            ),
            "accounts.security_policy": made(
                [
                    {
                        "lines": [
                            "MinimumPasswordLength = 0",
                            "PasswordComplexity = 0",
                            "MaximumPasswordAge = 42",
                            "LockoutBadCount = 0",
                        ]
                    }
                ],
                "Windows' default local policy",
            ),
            "network.smb1": made({"SMB1": 1}, "SMBv1 server on"),
            "network.smb_server": Rec(
                "error", None, "constructed: Get-SmbServerConfiguration failed", "Server service not started"
            ),
            "network.smb1_feature": made([{"FeatureName": "SMB1Protocol", "State": "Enabled"}], "SMB1 feature on"),
            "network.rdp": made({"fDenyTSConnections": 0}, "Remote Desktop allowed"),
            "network.rdp_nla": made({"UserAuthentication": 0}, "without NLA"),
            "network.listeners": real(
                [
                    dict(r, Process=None)
                    for r in objects(LISTENERS_SERVER, ["LocalAddress", "LocalPort", "OwningProcess"])
                ],
                LISTENERS_SERVER,
            ),
            "processes": made(
                [
                    {"ProcessName": "explorer", "Id": 5012, "Path": None},
                    {"ProcessName": "AnyDesk", "Id": 3312, "Path": None},
                    {"ProcessName": "OneDrive", "Id": 7001, "Path": None},
                ],
                "AnyDesk and OneDrive running",
            ),
            "autorun.machine": absent("no AutoRun policy"),
            "autorun.user": absent("no per-user AutoRun policy"),
            "removable.usbstor_service": made({"Start": 3}, "USB storage allowed (Windows' default)"),
            "removable.usbstor_history": real(usbstor_keys(USBSTOR), USBSTOR),
            "software.uninstall": made(
                [{"DisplayName": "AnyDesk", "DisplayVersion": "9.0.4", "Publisher": "AnyDesk"}], "AnyDesk installed"
            ),
            "time.w32time": made({"Type": "NoSync"}, "time synchronisation turned off"),
            "time.service": made([{"Name": "W32Time", "State": "Running", "StartMode": "Manual"}], "service running"),
            "time.status": w32tm("en-US-server2022-vagrant-local-cmos-unsynced.txt"),
            "wifi.interfaces": text(NETSH + "fr-FR-win11-open-network.txt"),
            "wifi.profiles": text("windows/netsh-wlan-show-profiles/fr-FR-win11-six-profiles.txt"),
        },
    )


def windows10_en_unprivileged() -> WindowsMachine:
    """An English Windows 10 collected by a user without administrator rights."""
    members = objects("windows/get-localgroupmember/en-US-win-offsec-lab-five-local-admins.txt")
    users = [
        {"Name": m["Name"].split("\\")[1], "Enabled": m["Name"].endswith("\\Administrator") is False} for m in members
    ]
    return WindowsMachine(
        "windows10-en-sans-droits-admin",
        "CLIENTWK220",
        "Windows 10 22H2 Enterprise, English, collected without administrator rights",
        False,
        {
            "os.currentversion": real(reg_query_values(WIN10_22H2), WIN10_22H2),
            "os.cim": made(
                [
                    {
                        "Caption": "Microsoft Windows 10 Enterprise",
                        "Version": "10.0.19045",
                        "BuildNumber": "19045",
                        "OSLanguage": 1033,
                        "ProductType": 1,
                        "OperatingSystemSKU": 4,
                    }
                ],
                "Win32_OperatingSystem of this build",
            ),
            "antivirus.securitycenter": real(
                objects(SC_DEFENDER, item("antivirus.securitycenter")["properties"]), SC_DEFENDER
            ),
            "antivirus.defender": real(defender(DEFENDER_RT_OFF), DEFENDER_RT_OFF),
            "firewall.profiles": real(
                firewall("NotConfigured"), FIREWALL_FR, "DefaultInboundAction NotConfigured as in the ko-KR capture"
            ),
            "bitlocker.volumes": denied(),
            "updates.hotfixes": Rec("ok", hotfixes(["2026-10-15", "2026-09-10"]), f"raw/{HOTFIXES} (IDs; {RECENT})"),
            "updates.policy": absent("no Windows Update policy"),
            "lock.machine_policy": made({"EnableLUA": 1}, "no inactivity limit"),
            "lock.user_screensaver": real(
                {
                    "ScreenSaveActive": "1",
                    "ScreenSaverIsSecure": "1",
                    "ScreenSaveTimeOut": "300",
                    "SCRNSAVE.EXE": "C:\\Windows\\system32\\scrnsave.scr",
                },
                "windows/reg-query-control-panel-desktop/it-IT-win-screensavetimeout-300.txt",
                "ScreenSaveTimeOut 300; active, secure and SCRNSAVE.EXE (blank screen saver) constructed",
            ),
            "lock.policy_screensaver": absent("no screen saver policy"),
            "logon.winlogon": made({"AutoAdminLogon": "0"}, "no automatic logon, no card removal action"),
            "accounts.local_users": made(users, "the accounts of the captured group, built-in Administrator disabled"),
            "accounts.administrators": real(
                members, "windows/get-localgroupmember/en-US-win-offsec-lab-five-local-admins.txt"
            ),
            "accounts.security_policy": denied(),
            "network.smb1": made({}, "LanmanServer parameters without an SMB1 value"),
            "network.smb_server": made(
                [{"EnableSMB1Protocol": False, "EnableSMB2Protocol": True}],
                "SMB server of a clean Windows 10 22H2 install: SMBv1 off",
            ),
            "network.smb1_feature": denied(),
            "network.rdp": made({"fDenyTSConnections": 1}, "Remote Desktop refused"),
            "network.rdp_nla": made({"UserAuthentication": 1}, "NLA required"),
            "network.listeners": made([], "nothing listening"),
            "processes": made(
                [
                    {"ProcessName": "explorer", "Id": 5012, "Path": None},
                    {"ProcessName": "TeamViewer_Service", "Id": 2410, "Path": None},
                ],
                "TeamViewer running",
            ),
            "autorun.machine": made({"NoDriveTypeAutoRun": 145}, "Windows' default value (not every drive)"),
            "autorun.user": absent("no per-user AutoRun policy"),
            "removable.usbstor_service": made({"Start": 3}, "USB storage allowed"),
            "removable.usbstor_history": absent("no USB storage device ever connected"),
            "software.uninstall": made(
                [{"DisplayName": "TeamViewer", "DisplayVersion": "15.60", "Publisher": "TeamViewer"}],
                "TeamViewer installed",
            ),
            "time.w32time": made({"Type": "NTP", "NtpServer": "time.windows.com,0x9"}, "NTP client"),
            "time.service": made([{"Name": "W32Time", "State": "Running", "StartMode": "Manual"}], "service running"),
            "time.status": w32tm("en-US-ui-fr-region-win-synced-time-windows-com.txt"),
            "wifi.interfaces": text(NETSH + "en-US-win11-issue14-partial.txt"),
            "wifi.profiles": text("windows/netsh-wlan-show-profiles/en-US-win11-six-profiles.txt"),
        },
    )


def windows_server_2016() -> WindowsMachine:
    """The pharmacy's LGO server: Windows Server 2016, no Security Center, services listening."""
    return WindowsMachine(
        "windows-server2016-en",
        "SERVEUR-LGO",
        "Windows Server 2016 Standard, English, firewall off, old updates, administrator run",
        True,
        {
            "os.currentversion": made(
                {
                    "ProductName": "Windows Server 2016 Standard",
                    "ReleaseId": "1607",
                    "CurrentBuild": "14393",
                    "CurrentBuildNumber": "14393",
                    "UBR": 3269,
                    "EditionID": "ServerStandard",
                    "InstallationType": "Server",
                },
                "registry values of Server 2016 (build 14393, as in the Defender and hotfix captures of that server)",
            ),
            "os.cim": made(
                [
                    {
                        "Caption": "Microsoft Windows Server 2016 Standard",
                        "Version": "10.0.14393",
                        "BuildNumber": "14393",
                        "OSLanguage": 1033,
                        "ProductType": 3,
                        "OperatingSystemSKU": 7,
                    }
                ],
                "Win32_OperatingSystem of a member server",
            ),
            "antivirus.securitycenter": absent("root/SecurityCenter2 does not exist on Windows Server"),
            "antivirus.defender": real(defender(DEFENDER_SERVER), DEFENDER_SERVER),
            "firewall.profiles": firewall_off(),
            "bitlocker.volumes": Rec(
                "error", None, "constructed: BitLocker feature not installed", "Get-BitLockerVolume introuvable"
            ),
            "updates.hotfixes": real(hotfixes(None), HOTFIXES, "US dates written as yyyy-MM-dd"),
            "updates.policy": made({"NoAutoUpdate": 0, "AUOptions": 3}, "download automatically, install by hand"),
            "lock.machine_policy": made({"InactivityTimeoutSecs": 1800}, "lock after 30 minutes"),
            "lock.user_screensaver": absent("no screen saver values"),
            "lock.policy_screensaver": absent("no screen saver policy"),
            "logon.winlogon": made({"AutoAdminLogon": "0"}, "no automatic logon"),
            "accounts.local_users": made(
                [
                    {"Name": "Administrator", "SID": "S-1-5-21-1-2-3-500", "Enabled": True},
                    {"Name": "Guest", "SID": "S-1-5-21-1-2-3-501", "Enabled": False},
                    {"Name": "lgo-service", "SID": "S-1-5-21-1-2-3-1001", "Enabled": True},
                ],
                "the built-in administrator used on the server and a service account",
            ),
            "accounts.administrators": made(
                [
                    {
                        "Name": "SERVEUR-LGO\\Administrator",
                        "SID": "S-1-5-21-1-2-3-500",
                        "PrincipalSource": "Local",
                        "ObjectClass": "User",
                    }
                ],
                "the built-in administrator only",
            ),
            "accounts.security_policy": made(
                [
                    {
                        "lines": [
                            "MinimumPasswordLength = 8",
                            "PasswordComplexity = 1",
                            "MaximumPasswordAge = 42",
                            "LockoutBadCount = 10",
                            "LockoutDuration = 30",
                        ]
                    }
                ],
                "a policy with 8 characters and lockout",
            ),
            "network.smb1": made({}, "LanmanServer parameters without an SMB1 value"),
            "network.smb_server": Rec(
                "error", None, "constructed: Get-SmbServerConfiguration failed on this server", "Invalid class"
            ),
            "network.smb1_feature": Rec(
                "error", None, "constructed: Get-WindowsOptionalFeature failed on this server", "Class not registered"
            ),
            "network.rdp": made({"fDenyTSConnections": 0}, "Remote Desktop allowed"),
            "network.rdp_nla": made({"UserAuthentication": 1}, "NLA required"),
            "network.listeners": real(
                [
                    dict(r, Process=None)
                    for r in objects(LISTENERS_SERVER, ["LocalAddress", "LocalPort", "OwningProcess"])
                ],
                LISTENERS_SERVER,
            ),
            "processes": made([{"ProcessName": "sqlservr", "Id": 1680, "Path": None}], "the LGO database"),
            "autorun.machine": made({"NoDriveTypeAutoRun": 255}, "AutoRun off"),
            "autorun.user": absent("no per-user AutoRun policy"),
            "removable.usbstor_service": made({"Start": 4}, "USB storage blocked"),
            "removable.usbstor_history": absent("no USB storage device ever connected"),
            "software.uninstall": made(
                [
                    {
                        "DisplayName": "Microsoft SQL Server 2019",
                        "DisplayVersion": "15.0",
                        "Publisher": "Microsoft Corporation",
                    }
                ],
                "SQL Server",
            ),
            "time.w32time": made({"Type": "NT5DS"}, "domain time hierarchy"),
            "time.service": made(
                [{"Name": "W32Time", "State": "Running", "StartMode": "Automatic"}], "service running"
            ),
            "time.status": w32tm("en-US-server2022-vagrant-local-cmos-unsynced.txt"),
            "wifi.interfaces": no_wlan(),
            "wifi.profiles": no_wlan(),
        },
    )


def no_wlan() -> Rec:
    return Rec("error", None, "constructed: a server without the wireless LAN service", "netsh wlan indisponible")


def windows11_en_usb_blocked() -> WindowsMachine:
    """An English Windows 11 with a third-party antivirus, USB storage blocked and WiFi details refused."""
    return WindowsMachine(
        "windows11-en-usb-bloque",
        "COMPTOIR-3",
        "Windows 11 25H2 Pro, English, Bitdefender, USB storage blocked, location refused, administrator run",
        True,
        {
            **compliant_windows11("en").items,
            "antivirus.securitycenter": real(
                objects(SC_BITDEFENDER, item("antivirus.securitycenter")["properties"]), SC_BITDEFENDER
            ),
            "antivirus.defender": Rec(
                "error", None, "constructed: Defender cmdlet unavailable beside a third-party antivirus", "0x800106ba"
            ),
            "lock.machine_policy": made({"EnableLUA": 1}, "no inactivity limit"),
            "lock.policy_screensaver": made(
                {
                    "ScreenSaveActive": "1",
                    "ScreenSaverIsSecure": "1",
                    "ScreenSaveTimeOut": "900",
                    "SCRNSAVE.EXE": "scrnsave.scr",
                },
                "screen saver policy: 15 minutes, secure, blank screen saver imposed",
            ),
            "removable.usbstor_service": made({"Start": 4}, "USB storage blocked"),
            "wifi.interfaces": text(NETSH + "en-US-win11-location-denied.txt"),
        },
    )


def reg_query_values(rel: str) -> dict[str, Any]:
    """`reg query` text (name, type, data) as collect.ps1 records the manifest's values."""
    values: dict[str, Any] = {}
    for line in raw(rel).splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in CURRENTVERSION and parts[1].startswith("REG_"):
            data = parts[2] if len(parts) == 3 else ""
            values[parts[0]] = int(data, 16) if parts[1] == "REG_DWORD" else data
    return values


# -- Machines of issue 11: rules that real Windows states used to get wrong -------------------------
DOMAIN_MEMBERS = "windows/get-localgroupmember/en-US-win-domain-cookham-domain-admins-group.txt"
ENTRA_ERROR = "windows/get-localgroupmember/en-US-win10-entra-joined-failed-to-compare.txt"
SAC_CORE = "windows/get-computerinfo/en-US-server-datacenter-1809-sac-core-acor.txt"
SAC_DOCS = "windows/get-itemproperty-currentversion/en-US-server-1809-sac-standard-core-msdocs.txt"
SMB_CONFIG = "windows/get-smbserverconfiguration/en-US-server2016-msdocs-smb1-enabled.txt"
WIN10_1803 = "windows/get-itemproperty-currentversion/en-US-win10-1803-pro-17134-ubr285.txt"
SC_HUORONG = "windows/securitycenter2-antivirusproduct/zh-CN-win10-huorong-266240-defender-393472.txt"
BDE_SUSPENDED = "windows/manage-bde-status/en-US-tr-format-device-encryption-suspended-partial.txt"
UNSYNCED = "en-US-server2022-vagrant-local-cmos-unsynced.txt"


def current_version(rel: str) -> dict[str, Any]:
    """The CurrentVersion values of a Format-List capture (the row that holds CurrentBuild)."""
    rows = objects(rel, CURRENTVERSION, typing=False)
    values = next(r for r in rows if "CurrentBuild" in r)
    if "UBR" in values:
        values["UBR"] = int(values["UBR"])  # a REG_DWORD
    return values


def os_cim(caption: str, build: int, language: int, product_type: int, sku: int, boot: str | None = None) -> Rec:
    row: dict[str, Any] = {
        "Caption": caption,
        "Version": f"10.0.{build}",
        "BuildNumber": str(build),
        "OSLanguage": language,
        "ProductType": product_type,
        "OperatingSystemSKU": sku,
    }
    why = "Win32_OperatingSystem of this build and language"
    if boot is not None:
        row["LastBootUpTime"] = boot
        why += ", LastBootUpTime as PowerShell 5.1's ConvertTo-Json writes a date"
    return made([row], why)


def json_date(when: datetime) -> str:
    return f"/Date({int(when.timestamp() * 1000)})/"


def local_users(hostname: str, *people: str, builtin_enabled: bool = False) -> list[dict[str, Any]]:
    """Get-LocalUser of a PC: the built-in accounts (by RID) and the people's accounts."""
    sid = "S-1-5-21-1004336348-1177238915-682003330"
    rows = [
        {"Name": "Administrator", "SID": f"{sid}-500", "Enabled": builtin_enabled},
        {"Name": "Guest", "SID": f"{sid}-501", "Enabled": False},
        {"Name": "DefaultAccount", "SID": f"{sid}-503", "Enabled": False},
    ]
    rows += [{"Name": name, "SID": f"{sid}-{1001 + i}", "Enabled": True} for i, name in enumerate(people)]
    return rows


def windows11_en_domain() -> WindowsMachine:
    """A Windows 11 joined to a domain: the domain's administrators group is not a person."""
    members = objects(DOMAIN_MEMBERS)
    return WindowsMachine(
        "windows11-en-domaine",
        "COOKHAM24",
        "Windows 11 25H2 Pro joined to a domain (English): Domain Admins group, a domain user and a local user "
        "in Administrators, firewall set by domain policy",
        True,
        {
            **compliant_windows11("en").items,
            "accounts.local_users": made(local_users("COOKHAM24", "Dave"), "local accounts of COOKHAM24"),
            "accounts.administrators": real(members, DOMAIN_MEMBERS),
            "firewall.profiles": made(
                [
                    {"Name": n, "Enabled": "True", "DefaultInboundAction": "Block", "DefaultOutboundAction": "Allow"}
                    for n in ("Domain", "Private", "Public")
                ],
                "ActiveStore: every profile enabled and blocking, as the domain policy sets them",
            ),
            "time.w32time": made({"Type": "NT5DS"}, "time from the domain hierarchy"),
        },
    )


def windows11_fr_entra() -> WindowsMachine:
    """A French Windows 11 joined to Microsoft Entra ID: Get-LocalGroupMember fails, ADSI answers."""
    entra = "S-1-12-1-3370466561-1259047934-2470291862"
    return WindowsMachine(
        "windows11-fr-entra",
        "PC-MARIE",
        "Windows 11 25H2 Pro joined to Microsoft Entra ID (French): Get-LocalGroupMember fails, the group is read "
        "through ADSI (two Entra roles by SID, the user who joined the PC)",
        True,
        {
            **compliant_windows11("fr").items,
            "accounts.local_users": made(
                [
                    *local_users("PC-MARIE"),
                    {"Name": "WDAGUtilityAccount", "SID": "S-1-5-21-1-2-3-504", "Enabled": False},
                ],
                "no personal local account: people sign in with Entra ID",
            ),
            "accounts.administrators": Rec(
                "error", None, f"raw/{ENTRA_ERROR}", "Failed to compare two elements in the array."
            ),
            "accounts.administrators_adsi": made(
                [
                    {
                        "Name": "WinNT://PC-MARIE/Administrateur",
                        "SID": "S-1-5-21-1004336348-1177238915-682003330-500",
                        "Class": "User",
                    },
                    {"Name": f"WinNT://{entra}-1701437291", "SID": f"{entra}-1701437291", "Class": "Group"},
                    {"Name": f"WinNT://{entra}-2876425745", "SID": f"{entra}-2876425745", "Class": "Group"},
                    {"Name": "WinNT://AzureAD/MarieDupont", "SID": f"{entra}-3057851427", "Class": "User"},
                ],
                "ADSI members as issue #15585 describes them: two Entra roles by SID, the user who joined the PC",
            ),
        },
    )


def windows10_en_third_party_antivirus() -> WindowsMachine:
    """Huorong protects; Defender's service is stopped (it steps aside), so its cmdlet fails."""
    return WindowsMachine(
        "windows10-en-antivirus-tiers",
        "CAISSE-2",
        "Windows 10 22H2 Enterprise (English) protected by Huorong: Defender stopped, Security Center reports Huorong",
        True,
        {
            **windows10_en_unprivileged().items,
            "antivirus.securitycenter": real(
                objects(SC_HUORONG, item("antivirus.securitycenter")["properties"], listing=True), SC_HUORONG
            ),
            "antivirus.defender": Rec(
                "error",
                None,
                "constructed: WinDefend stopped (same capture), so Get-MpComputerStatus fails",
                "0x800106ba",
            ),
            "bitlocker.volumes": real(objects(BITLOCKER_ON, BITLOCKER_KEEP), BITLOCKER_ON),
            "accounts.security_policy": made(
                [{"lines": ["MinimumPasswordLength = 12", "MaximumPasswordAge = -1", "LockoutBadCount = 10"]}],
                "secedit keys: 12 characters, lockout after 10 (LockoutDuration not exported)",
            ),
            "network.smb1_feature": made([{"FeatureName": "SMB1Protocol", "State": "Disabled"}], "SMB1 off"),
        },
    )


def sac_core_values() -> dict[str, Any]:
    info = objects(SAC_CORE, listing=True)[0]
    return {
        "ProductName": info["WindowsProductName"],
        "ReleaseId": str(info["WindowsVersion"]),
        "CurrentBuild": str(info["WindowsBuildLabEx"]).split(".")[0],
        "EditionID": info["WindowsEditionId"],
        "InstallationType": info["WindowsInstallationType"],
    }


def windows_server_sac_core() -> WindowsMachine:
    """A Semi-Annual Channel server: support ended in 2020, and it never installed an update."""
    base = windows_server_2016().items
    return WindowsMachine(
        "windows-server1809-sac-core",
        "SRV-CORE",
        "Windows Server Datacenter, version 1809 (Semi-Annual Channel), Server Core, English: out of support, "
        "no update ever installed",
        True,
        {
            **base,
            "os.currentversion": real(
                sac_core_values(), SAC_CORE, "Get-ComputerInfo Windows* fields as registry values"
            ),
            "os.cim": os_cim("Microsoft Windows Server Datacenter", 17763, 1033, 3, 145),
            "accounts.local_users": made(
                local_users("SRV-CORE", "Brice", builtin_enabled=True), "Administrator and Brice"
            ),
            "accounts.administrators": real(objects(SAC_CORE), SAC_CORE),
            "updates.hotfixes": made([], "Get-HotFix lists nothing: no update ever installed"),
            "network.smb_server": made(
                [{"EnableSMB1Protocol": False, "EnableSMB2Protocol": True}], "SMBv1 off (not installed on 1809)"
            ),
        },
    )


def windows_server_2019_core() -> WindowsMachine:
    """Server Core of the long-term channel: a server, not a Windows 11 client, and still supported."""
    docs = current_version(SAC_DOCS)
    values = dict(
        docs, ProductName="Windows Server 2019 Standard", ReleaseId="1809", EditionID="ServerStandardCor", UBR=107
    )
    return WindowsMachine(
        "windows-server2019-core",
        "SRV-LGO",
        "Windows Server 2019 Standard, Server Core (long-term channel), English: the LGO server, only the built-in "
        "administrator",
        True,
        {
            **windows_server_2016().items,
            "os.currentversion": real(
                values,
                SAC_DOCS,
                "InstallationType and build as published; ProductName, EditionID and UBR of the LTSC example of the "
                "same page (Windows Server 2019 Standard, OsHardwareAbstractionLayer 10.0.17763.107)",
            ),
            "os.cim": os_cim("Microsoft Windows Server 2019 Standard", 17763, 1033, 3, 13),
            "accounts.local_users": made(
                local_users("SRV-LGO", builtin_enabled=True), "only the built-in administrator"
            ),
            "accounts.administrators": made(
                [
                    {
                        "Name": "SRV-LGO\\Administrator",
                        "SID": "S-1-5-21-1004336348-1177238915-682003330-500",
                        "PrincipalSource": "Local",
                        "ObjectClass": "User",
                    }
                ],
                "the built-in administrator only",
            ),
            "updates.hotfixes": Rec("ok", hotfixes(["2026-11-12", "2026-10-15"]), f"raw/{HOTFIXES} (IDs; {RECENT})"),
            "updates.policy": made({"AUOptions": 4}, "download and install on a schedule"),
            "firewall.profiles": real(firewall("Block"), FIREWALL_FR, "DefaultInboundAction Block set"),
            "network.smb_server": made([{"EnableSMB1Protocol": False, "EnableSMB2Protocol": True}], "SMBv1 off"),
            "time.status": w32tm("en-US-ui-fr-region-win-synced-time-windows-com.txt"),
        },
    )


def windows_server_2016_smb1() -> WindowsMachine:
    """Windows Server 2016 without the SMB1 registry value: SMBv1 is on, as the server itself says."""
    return WindowsMachine(
        "windows-server2016-smb1",
        "SERVEUR-FICHIERS",
        "Windows Server 2016 Standard (English) without the SMB1 registry value: Get-SmbServerConfiguration says "
        "SMBv1 is on",
        True,
        {
            **windows_server_2016().items,
            "network.smb_server": real(
                objects(SMB_CONFIG, ["EnableSMB1Protocol", "EnableSMB2Protocol"], listing=True), SMB_CONFIG
            ),
            "network.smb1_feature": made([{"FeatureName": "SMB1Protocol", "State": "Enabled"}], "SMB1 feature on"),
            "network.rdp": made({"fDenyTSConnections": 1}, "Remote Desktop refused"),
            "network.listeners": made([], "nothing listening beyond loopback"),
            "firewall.profiles": real(firewall("Block"), FIREWALL_FR, "DefaultInboundAction Block set"),
        },
    )


def windows10_en_1803() -> WindowsMachine:
    """Windows 10 1803, left alone since 2019: out of support, updates downloaded but never installed."""
    return WindowsMachine(
        "windows10-en-1803",
        "POSTE-VIEUX",
        "Windows 10 Pro 1803 (build 17134.285, English): out of support, Windows Update set to download only",
        True,
        {
            **windows10_fr_non_compliant().items,
            "os.currentversion": real(current_version(WIN10_1803), WIN10_1803),
            "os.cim": os_cim("Microsoft Windows 10 Pro", 17134, 1033, 1, 48),
            "updates.policy": made({"NoAutoUpdate": 0, "AUOptions": 3}, "download automatically, install by hand"),
            "wifi.interfaces": text(NETSH + "en-US-win11-wpa2-personal.txt"),
            "wifi.profiles": text("windows/netsh-wlan-show-profiles/en-US-win11-six-profiles.txt"),
            "accounts.local_users": real(users_en(), USERS_FR, "built-in names as an English Windows names them"),
            "logon.winlogon": made(
                {"AutoAdminLogon": "1", "AutoLogonSID": "S-1-5-21-1004336348-1177238915-682003330-1001"},
                "automatic logon set by its SID only",
            ),
        },
    )


def windows11_fr_realtime_off() -> WindowsMachine:
    """Defender running with real-time protection turned off: the measure fails."""
    return WindowsMachine(
        "windows11-fr-defender-temps-reel",
        "COMPTOIR-4",
        "Windows 11 25H2 Pro (French): Microsoft Defender with real-time protection off",
        True,
        {
            **compliant_windows11("fr").items,
            "antivirus.defender": real(defender(DEFENDER_RT_OFF), DEFENDER_RT_OFF),
        },
    )


def windows11_en_unsynced_clock() -> WindowsMachine:
    """A clock that never synchronised, on a PC up for three days: synchronisation does not work."""
    return WindowsMachine(
        "windows11-en-horloge",
        "COMPTOIR-5",
        "Windows 11 25H2 Pro (English): w32tm on the local CMOS clock (leap indicator 3), up for three days",
        True,
        {
            **compliant_windows11("en").items,
            "os.cim": os_cim("Microsoft Windows 11 Pro", 26200, 1033, 1, 48, json_date(WHEN - timedelta(days=3))),
            "time.status": w32tm(UNSYNCED),
        },
    )


def windows11_fr_bitlocker_suspended() -> WindowsMachine:
    """BitLocker encrypted but its protection off: the key is in clear, the disk is not protected."""
    bde = "the manage-bde fields (Used Space Only Encrypted 100,0 %, Protection Off) as Get-BitLockerVolume names them"
    return WindowsMachine(
        "windows11-fr-bitlocker-suspendu",
        "COMPTOIR-6",
        "Windows 11 25H2 Pro (French): BitLocker protection suspended on C: (encrypted, protection off)",
        True,
        {
            **compliant_windows11("fr").items,
            "bitlocker.volumes": real(
                [
                    {
                        "MountPoint": "C:",
                        "VolumeType": "OperatingSystem",
                        "ProtectionStatus": "Off",
                        "VolumeStatus": "FullyEncrypted",
                        "EncryptionPercentage": 100,
                    }
                ],
                BDE_SUSPENDED,
                bde,
            ),
        },
    )


WINDOWS = [
    compliant_windows11("fr"),
    compliant_windows11("en"),
    windows10_fr_non_compliant(),
    windows10_en_unprivileged(),
    windows_server_2016(),
    windows11_en_usb_blocked(),
    windows11_en_domain(),
    windows11_fr_entra(),
    windows10_en_third_party_antivirus(),
    windows_server_sac_core(),
    windows_server_2019_core(),
    windows_server_2016_smb1(),
    windows10_en_1803(),
    windows11_fr_realtime_off(),
    windows11_en_unsynced_clock(),
    windows11_fr_bitlocker_suspended(),
]


# -- macOS machines ---------------------------------------------------------------------------------
@dataclass
class MacMachine:
    name: str
    hostname: str
    description: str
    outputs: dict[tuple[str, ...], tuple[str, str, str]]  # argv -> (stdout, stderr, source)


def after(rel: str, marker: str) -> str:
    """The output printed after the (last) line holding `marker` (the author's prompt and command)."""
    lines = raw(rel).splitlines(keepends=True)
    at = max((i for i, line in enumerate(lines) if marker in line), default=-1)
    block = "".join(lines[at + 1 :])
    return block.split("\n\n$ ", 1)[0].split("\n$ ", 1)[0].rstrip("\n") + "\n"


def out(rel: str, marker: str | None = None) -> tuple[str, str, str]:
    rel = f"macos/{rel}"
    return (after(rel, marker) if marker else raw(rel), "", f"raw/{rel}")


def err(rel: str, line_with: str) -> tuple[str, str, str]:
    """sysadminctl writes to stderr; one line of a capture holding several runs."""
    rel = f"macos/{rel}"
    line = next(x for x in raw(rel).splitlines() if line_with in x)
    return ("", line + "\n", f"raw/{rel}")


SW = ("sw_vers",)
FW = (SOCKETFILTERFW, "--getglobalstate")
FDE = ("fdesetup", "status")
SU = ("softwareupdate", "-l")
AUTO = ("defaults", "read", "/Library/Preferences/com.apple.SoftwareUpdate", "AutomaticallyInstallMacOSUpdates")
AIR = ("system_profiler", "SPAirPortDataType", "-json")
LOCK = ("sysadminctl", "-screenLock", "status")
ADMINS = ("dscl", ".", "-read", "/Groups/admin", "GroupMembership")
PWPOLICY = ("pwpolicy", "-getaccountpolicies")
SPCTL = ("spctl", "--status")
NTP = ("systemsetup", "-getusingnetworktime")
PWPOLICY_RAW = "pwpolicy-getaccountpolicies/en-US-macos-mdm-minlength7-plus-default-fde-UNVERIFIED.txt"

MACS = [
    MacMachine(
        "macosx10.14-mojave",
        "imac-reserve",
        "Mac OS X 10.14.6 Mojave: out of support, four updates waiting in the pre-Catalina format, FileVault off",
        {
            SW: out("sw_vers/en-US-macosx10.14.6-18G84.txt", "$ sw_vers"),
            FW: out("socketfilterfw/en-US-macos-disabled-observed.txt", "--getglobalstate"),
            FDE: out("fdesetup-status/en-US-macos-mac-mini-off.txt", "fdesetup status"),
            SU: out("softwareupdate-l/en-US-macos10.14.6-mojave-four-updates-old-format.txt"),
            LOCK: err("sysadminctl-screenlock-status/en-US-macos27.0-immediate.txt", "screenLock delay"),
            ADMINS: out("dscl-read-groups-admin/en-US-macos-root-plus-daily-user.txt", "dscl . -read"),
            SPCTL: out("spctl-status/en-US-macos26.5.2-gatekeeper-enabled.txt", "spctl --status"),
        },
    ),
    MacMachine(
        "macos15-filevault-en-cours",
        "mac-ordonnances",
        "macOS 15.7.4 Sequoia: FileVault turned on but the disk not converted yet (Encryption in progress: Pending)",
        {
            SW: out("sw_vers/en-US-macos15.7.4-24G517-zsh-session.txt", "% sw_vers"),
            FW: out("socketfilterfw/en-US-macos26.5.2-enabled-stealth-on-after.txt", "--getglobalstate"),
            FDE: out("fdesetup-status/en-US-macos-on-encryption-pending-jamf-ea.txt"),
            SU: out("softwareupdate-l/it-IT-user-macos-no-new-software-zsh.txt", "softwareupdate --list"),
            AUTO: out(
                "defaults-read-softwareupdate/en-US-macos26.5.2-auto-install-on.txt", "AutomaticallyInstallMacOSUpdates"
            ),
            LOCK: err("sysadminctl-screenlock-status/en-US-macos27.0-immediate.txt", "screenLock delay"),
            ADMINS: out("dscl-read-groups-admin/en-US-macos-m4-air-with-mbsetupuser.txt", "dscl . -read"),
            SPCTL: out("spctl-status/en-US-macos26.5.2-gatekeeper-enabled.txt", "spctl --status"),
            NTP: out("systemsetup-getusingnetworktime/en-US-macos-stig-check-network-time-on.txt"),
        },
    ),
    MacMachine(
        "macos14-sonoma-fr",
        "mac-dos",
        "macOS 14.0 Sonoma of a French-speaking user: no longer supported, firewall off, no screen lock",
        {
            SW: out("sw_vers/en-US-macos14.0-23A344.txt", "$ sw_vers"),
            FW: out("socketfilterfw/en-US-macos-recent-disabled-stealth-off-new-wording.txt", "--getglobalstate"),
            FDE: out("fdesetup-status/en-US-macos-mac-mini-off.txt", "fdesetup status"),
            SU: out("softwareupdate-l/en-US-macos-no-new-software-bash-prompt.txt", "softwareupdate -l"),
            LOCK: err("sysadminctl-screenlock-status/en-US-macos26.6.2-delay-5s-then-off.txt", "screenLock is off"),
            ADMINS: out("dscl-read-groups-admin/fr-FR-user-macos-ynov-tp.txt", "dscl . -read"),
            PWPOLICY: out(PWPOLICY_RAW),
        },
    ),
    MacMachine(
        "macos26-tahoe",
        "mac-comptoir",
        "macOS 26.3 Tahoe: firewall and FileVault on, updates pending, Gatekeeper on, network time on",
        {
            SW: out("sw_vers/en-US-macos26.3-25D125-captured-by-script.txt"),
            FW: out("socketfilterfw/en-US-macos26.5.2-enabled-stealth-on-after.txt", "--getglobalstate"),
            FDE: out("fdesetup-status/en-US-macos-on-with-diskutil-apfs.txt", "$ fdesetup status"),
            SU: out("softwareupdate-l/en-US-macos26-tahoe-two-updates-restart.txt"),
            AUTO: out(
                "defaults-read-softwareupdate/en-US-macos26.5.2-auto-install-on.txt", "AutomaticallyInstallMacOSUpdates"
            ),
            AIR: out("system_profiler-spairportdatatype-json/en-US-macos15.5-wpa2-personal-connected.txt"),
            LOCK: err("sysadminctl-screenlock-status/en-US-macos27.0-immediate.txt", "screenLock delay"),
            ADMINS: out("dscl-read-groups-admin/en-US-macos-m4-air-with-mbsetupuser.txt", "dscl . -read"),
            SPCTL: out("spctl-status/en-US-macos26.5.2-gatekeeper-enabled.txt", "spctl --status"),
            NTP: out("systemsetup-getusingnetworktime/en-US-macos-stig-check-network-time-on.txt"),
        },
    ),
]


def mac_snapshot(machine: MacMachine) -> snapshot.Snapshot:
    observations = [
        Observation(
            kind="command",
            target=list(argv),
            status=ObsStatus.ok,
            exit_code=0,
            output=stdout or None,
            stderr=stderr or None,
            duration_ms=12.0,
            extra={"fixture": source},
        )
        for argv, (stdout, stderr, source) in sorted(machine.outputs.items())
    ]
    return snapshot.Snapshot(
        str(uuid.uuid5(NAMESPACE, machine.name)),
        "macos",
        "live",
        WHEN,
        {"hostname": machine.hostname, "machine_id_sha256": None},
        {"user": "fixture", "privileged": True},
        observations,
        {},
    )


def index() -> str:
    """README of the folder: what each snapshot is."""
    lines = [
        "# Fixture snapshots (generated)",
        "",
        "Built by `python tests/snapshot_fixtures.py` from the real outputs of `tests/fixtures/raw`; do not",
        "edit by hand. Windows files are sealed envelopes, as collect.ps1 writes them; macOS files are",
        "ordinary snapshots, as `officine collect` writes them. Each observation's `extra.fixture` names",
        "its source. Expected verdicts: `tests/test_fixture_snapshots.py`.",
        "",
        "| file | machine |",
        "|---|---|",
    ]
    lines += [f"| {m.name}.json | {m.description} |" for m in [*WINDOWS, *MACS]]
    return "\n".join(lines) + "\n"


def render() -> dict[str, str]:
    """File name -> content of every fixture snapshot."""
    files = {f"{m.name}.json": json.dumps(envelope(windows_body(m)), indent=1) + "\n" for m in WINDOWS}
    files.update({f"{m.name}.json": mac_snapshot(m).dumps() + "\n" for m in MACS})
    return files


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    files = render()
    for stale in OUT.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, content in files.items():
        (OUT / name).write_text(content, encoding="utf-8")
    (OUT / "README.md").write_text(index(), encoding="utf-8")
    print(f"{len(files)} instantanés écrits dans {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
