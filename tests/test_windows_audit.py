"""Windows audits from real published outputs (tests/fixtures/raw, each file cites its source),
turned into the observations collect.ps1 records, then judged like any snapshot."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import snapshot_fixtures as fixtures
from helpers import audit_files, evidence, verdict, windows_envelope
from officine.collectors.windows.script import manifest, target
from officine.parsers import ParseError
from officine.parsers.windows import (
    decode_product_state,
    parse_format_list,
    parse_format_table,
    parse_json_objects,
    parse_netsh_interfaces,
    parse_w32tm_status,
    usb_storage_devices,
    wifi_security,
)
from snapshot_fixtures import item

RAW = Path(__file__).parent / "fixtures/raw/windows"
WHEN = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def raw(rel: str) -> str:
    return fixtures.raw(f"windows/{rel}")


def objects(rel: str, keep: list[str] | None = None) -> list[dict[str, Any]]:
    return fixtures.objects(f"windows/{rel}", keep, typing=False)


def machine(tmp_path: Path, name: str, recorded: dict[str, Any]) -> Path:
    """A snapshot as collect.ps1 writes it: every manifest item, `missing` unless given here."""
    observations = []
    for spec in manifest()["observations"]:
        obs: dict[str, Any] = {"kind": spec["kind"], "target": target(spec), "duration_ms": 3.0}
        value = recorded.get(spec["id"])
        if value is None:
            obs.update(status="missing", detail="absent de cette capture")
        elif spec["kind"] == "command":
            obs.update(status="ok", output=value, exit_code=0)
        else:
            obs.update(status="ok", output=json.dumps(value, ensure_ascii=False))
        observations.append(obs)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(windows_envelope(observations, name, WHEN.isoformat())), encoding="utf-8")
    return path


WIN10_21H2_PRO = objects(
    "get-itemproperty-currentversion/en-US-win10-21h2-pro-19044-ubr3086.txt", item("os.currentversion")["values"]
)
DEFENDER_RT_OFF = objects("get-mpcomputerstatus/en-US-server2016-htb-realtime-off.txt")
DEFENDER_RT_ON = objects("get-mpcomputerstatus/en-US-server2016-htb-realtime-on.txt")


def _wifi(rel: str) -> str:
    return raw(rel)


def test_windows_10_21h2_pro_in_english(tmp_path: Path) -> None:
    path = machine(
        tmp_path,
        "COMPTOIR-1",
        {
            "os.currentversion": WIN10_21H2_PRO[0],
            "antivirus.defender": DEFENDER_RT_OFF,
            "wifi.interfaces": _wifi("netsh-wlan-show-interfaces/en-US-win11-wpa2-personal.txt"),
        },
    )
    results = audit_files(path, today=WHEN)
    assert verdict(results, "MAJ-01") == "fail"
    assert "Windows 10 21H2 (build 19044.3086, Professional)" in evidence(results, "MAJ-01")
    assert "depuis le 13/06/2023" in evidence(results, "MAJ-01")
    assert verdict(results, "POS-01") == "warn"  # Defender on, signatures 1 day old, real-time off
    assert "Microsoft Defender" in evidence(results, "POS-01") and "en continu" in evidence(results, "POS-01")
    assert verdict(results, "WIFI-01") == "pass"
    assert "SSID-1" in evidence(results, "WIFI-01")
    assert verdict(results, "POS-02") == "unknown"  # not captured: never guessed


def test_windows_server_2016_with_defender_and_no_security_center(tmp_path: Path) -> None:
    server = dict(
        WIN10_21H2_PRO[0],
        CurrentBuild="14393",
        CurrentBuildNumber="14393",
        InstallationType="Server",
        EditionID="ServerStandard",
        DisplayVersion="",
        ReleaseId="1607",
        UBR="6897",
    )
    path = machine(tmp_path, "SERVEUR-LGO", {"os.currentversion": server, "antivirus.defender": DEFENDER_RT_ON})
    results = audit_files(path, today=WHEN)
    # Extended support ends 2027-01-12: still patched, but less than six months left.
    assert verdict(results, "MAJ-01") == "warn" and "après le 12/01/2027" in evidence(results, "MAJ-01")
    assert verdict(results, "POS-01") == "pass"


@pytest.mark.parametrize(
    "rel, expected",
    [
        ("securitycenter2-antivirusproduct/en-US-win10-defender-only-397568.txt", "pass"),
        ("securitycenter2-antivirusproduct/en-US-win10-bitdefender-266240-defender-393472.txt", "pass"),
    ],
)
def test_security_center_products_when_defender_cmdlet_is_absent(tmp_path: Path, rel: str, expected: str) -> None:
    rows = objects(rel, item("antivirus.securitycenter")["properties"])
    path = machine(tmp_path, "COMPTOIR-2", {"os.currentversion": WIN10_21H2_PRO[0], "antivirus.securitycenter": rows})
    assert verdict(audit_files(path, today=WHEN), "POS-01") == expected


def test_nothing_observed_about_antivirus_is_unknown(tmp_path: Path) -> None:
    path = machine(tmp_path, "COMPTOIR-3", {"os.currentversion": WIN10_21H2_PRO[0]})
    assert verdict(audit_files(path, today=WHEN), "POS-01") == "unknown"


def test_firewall_profiles_table_without_inbound_action_is_unknown(tmp_path: Path) -> None:
    rows = objects("get-netfirewallprofile/fr-FR-win-ft-name-enabled.txt")
    assert [r["Name"] for r in rows] == ["Domain", "Private", "Public"]
    path = machine(tmp_path, "COMPTOIR-4", {"firewall.profiles": rows})
    assert verdict(audit_files(path, today=WHEN), "POS-02") == "unknown"
    complete = [dict(r, DefaultInboundAction="NotConfigured") for r in rows]
    path = machine(tmp_path, "COMPTOIR-5", {"firewall.profiles": complete})
    assert verdict(audit_files(path, today=WHEN), "POS-02") == "pass"
    open_public = [dict(r, DefaultInboundAction="Allow" if r["Name"] == "Public" else "Block") for r in rows]
    path = machine(tmp_path, "COMPTOIR-6", {"firewall.profiles": open_public})
    assert verdict(audit_files(path, today=WHEN), "POS-02") == "fail"


def test_french_and_english_wifi_in_the_same_state_give_the_same_verdicts(tmp_path: Path) -> None:
    fr = machine(
        tmp_path,
        "PC-FR",
        {
            "os.currentversion": WIN10_21H2_PRO[0],
            "wifi.interfaces": _wifi("netsh-wlan-show-interfaces/fr-FR-win11-wpa2-personnel.txt"),
        },
    )
    en = machine(
        tmp_path,
        "PC-EN",
        {
            "os.currentversion": WIN10_21H2_PRO[0],
            "wifi.interfaces": _wifi("netsh-wlan-show-interfaces/en-US-win11-wpa2-personal.txt"),
        },
    )
    a, b = audit_files(fr, today=WHEN), audit_files(en, today=WHEN)
    assert {k: v.verdict for k, v in a.items()} == {k: v.verdict for k, v in b.items()}
    assert verdict(a, "WIFI-01") == "pass"


def test_french_open_network_fails_and_location_refusal_is_unknown(tmp_path: Path) -> None:
    path = machine(
        tmp_path, "PC-OUVERT", {"wifi.interfaces": _wifi("netsh-wlan-show-interfaces/fr-FR-win11-open-network.txt")}
    )
    results = audit_files(path, today=WHEN)
    assert verdict(results, "WIFI-01") == "fail" and "sans aucun chiffrement" in evidence(results, "WIFI-01")
    path = machine(
        tmp_path, "PC-LOC", {"wifi.interfaces": _wifi("netsh-wlan-show-interfaces/en-US-win11-location-denied.txt")}
    )
    results = audit_files(path, today=WHEN)
    assert verdict(results, "WIFI-01") == "unknown" and "localisation" in evidence(results, "WIFI-01")
    assert "root" not in evidence(results, "WIFI-01")  # rights are not the problem here


def test_netsh_samples_parse_in_every_locale() -> None:
    for rel in sorted((RAW / "netsh-wlan-show-interfaces").glob("*.txt")):
        text = rel.read_text(encoding="utf-8").split("# ---\n", 1)[1]
        try:
            interfaces = parse_netsh_interfaces(text)
        except ParseError:
            assert "location" in text.lower()
            continue
        connected = [i for i in interfaces if i.get("auth")]
        for i in connected:
            assert wifi_security(i)["key_mgmt"] in ("wpa-psk", "sae", "wpa-eap", "none"), rel.name


def test_product_state_bits() -> None:
    assert decode_product_state(397568) == {"enabled": True, "up_to_date": True}  # Defender on, current
    assert decode_product_state(393472) == {"enabled": False, "up_to_date": True}  # Defender off (third party on)
    assert decode_product_state(266240) == {"enabled": True, "up_to_date": True}
    assert decode_product_state(262160) == {"enabled": False, "up_to_date": False}


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_windows_text_parsers_never_crash(text: str) -> None:
    parse_format_list(text)
    parse_format_table(text)
    try:
        for i in parse_netsh_interfaces(text):
            with contextlib.suppress(ParseError):
                wifi_security(i)
    except ParseError:
        pass
    with contextlib.suppress(ParseError):
        parse_json_objects(text)


LOCAL_USERS_FR = objects("get-localuser/fr-FR-win10-1909-home-administrateur-invite.txt")


def test_french_local_users_and_admin_group(tmp_path: Path) -> None:
    """Real French Get-LocalUser output; the Administrators members are in the shape collect.ps1
    records (constructed here: no published French capture of that group was found)."""
    members = [{"Name": "PC-ARTHU\\arthu", "PrincipalSource": "Local", "ObjectClass": "User"}]
    path = machine(tmp_path, "PC-ARTHU", {"accounts.local_users": LOCAL_USERS_FR, "accounts.administrators": members})
    results = audit_files(path, today=WHEN)
    # arthu is an administrator, the two SQL service accounts are not: a warning naming them.
    assert verdict(results, "ACC-02") == "warn"
    assert "arthu" in evidence(results, "ACC-02") and "SQLEXPRESS01" in evidence(results, "ACC-02")
    assert "Administrateur" not in evidence(results, "ACC-02")  # disabled built-in account


def test_screen_lock_from_user_screensaver_and_machine_policy(tmp_path: Path) -> None:
    ten_minutes = {"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "600"}
    path = machine(tmp_path, "PC-1", {"lock.user_screensaver": ten_minutes})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "VER-01") == "pass" and "10 min" in evidence(results, "VER-01")
    not_secure = dict(ten_minutes, ScreenSaverIsSecure="0")
    path = machine(tmp_path, "PC-2", {"lock.user_screensaver": not_secure})
    assert verdict(audit_files(path, today=WHEN), "VER-01") == "fail"
    path = machine(
        tmp_path, "PC-3", {"lock.user_screensaver": not_secure, "lock.machine_policy": {"InactivityTimeoutSecs": 1200}}
    )
    assert verdict(audit_files(path, today=WHEN), "VER-01") == "warn"  # 20 minutes


def test_password_policy_from_secedit_keys(tmp_path: Path) -> None:
    lines = ["MinimumPasswordLength = 8", "PasswordComplexity = 1", "MaximumPasswordAge = 42", "LockoutBadCount = 0"]
    path = machine(tmp_path, "PC-4", {"accounts.security_policy": [{"lines": lines}]})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "MDP-01") == "fail" and verdict(results, "MDP-02") == "fail"
    assert verdict(results, "MDP-06") == "warn" and "42 jours" in evidence(results, "MDP-06")
    path = machine(
        tmp_path,
        "PC-5",
        {
            "accounts.security_policy": [
                {
                    "lines": [
                        "MinimumPasswordLength = 14",
                        "MaximumPasswordAge = -1",
                        "LockoutBadCount = 5",
                        "LockoutDuration = 15",
                    ]
                }
            ]
        },
    )
    results = audit_files(path, today=WHEN)
    assert [verdict(results, m) for m in ("MDP-01", "MDP-02", "MDP-06")] == ["pass", "pass", "pass"]


def test_autologin_smartcard_usb_autorun_bitlocker(tmp_path: Path) -> None:
    path = machine(
        tmp_path,
        "PC-6",
        {
            "logon.winlogon": {"AutoAdminLogon": "1", "DefaultUserName": "comptoir", "ScRemoveOption": "1"},
            "removable.usbstor_service": {"Start": 4},
            "autorun.machine": {"NoDriveTypeAutoRun": 255},
            "bitlocker.volumes": [
                {"MountPoint": "C:", "VolumeType": "OperatingSystem", "ProtectionStatus": "Off"},
                {"MountPoint": "E:", "VolumeType": "Removable", "ProtectionStatus": "Off"},
            ],
        },
    )
    results = audit_files(path, today=WHEN)
    assert verdict(results, "ACC-01") == "fail" and "comptoir" in evidence(results, "ACC-01")
    assert verdict(results, "VER-02") == "needs_answer" and "elle se verrouille" in evidence(results, "VER-02")
    assert verdict(results, "AMO-01") == "pass" and verdict(results, "POS-04") == "pass"
    assert verdict(results, "POS-03") == "fail" and "C:" in evidence(results, "POS-03")


def test_smb_listening_behind_a_blocking_firewall_is_a_warning(tmp_path: Path) -> None:
    listeners = [
        {"LocalAddress": "0.0.0.0", "LocalPort": 445, "Process": "System"},
        {"LocalAddress": "127.0.0.1", "LocalPort": 5939, "Process": "TeamViewer_Service"},
    ]
    blocking = [
        {"Name": n, "Enabled": "True", "DefaultInboundAction": "Block"} for n in ("Domain", "Private", "Public")
    ]
    path = machine(
        tmp_path,
        "PC-7",
        {
            "network.listeners": listeners,
            "firewall.profiles": blocking,
            "processes": [{"ProcessName": "TeamViewer_Service"}, {"ProcessName": "explorer"}],
        },
    )
    results = audit_files(path, today=WHEN)
    assert verdict(results, "POS-05") == "needs_answer"  # warn, pending the provider's answer
    assert "SMB" in evidence(results, "POS-05")
    path = machine(tmp_path, "PC-8", {"network.listeners": listeners})
    assert verdict(audit_files(path, today=WHEN), "POS-05") == "fail"


def test_windows_updates_from_hotfix_dates_and_policy(tmp_path: Path) -> None:
    """Dates as collect.ps1 records them (ISO); the IDs come from the real Get-HotFix capture."""
    hotfixes = [
        dict(r, InstalledOn=None)
        for r in objects(
            "get-hotfix/" + next(p.name for p in (RAW / "get-hotfix").glob("*.txt")), ["HotFixID", "Description"]
        )
    ]
    recent = [dict(hotfixes[0], InstalledOn="2026-11-12"), dict(hotfixes[1], InstalledOn="2026-10-15")]
    path = machine(tmp_path, "PC-9", {"updates.hotfixes": recent})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "MAJ-02") == "pass" and "installée le 12/11/2026" in evidence(results, "MAJ-02")
    path = machine(tmp_path, "PC-10", {"updates.hotfixes": recent, "updates.policy": {"NoAutoUpdate": 1}})
    assert verdict(audit_files(path, today=WHEN), "MAJ-02") == "warn"
    old = [dict(hotfixes[0], InstalledOn="2026-08-11")]
    path = machine(tmp_path, "PC-11", {"updates.hotfixes": old})
    assert verdict(audit_files(path, today=WHEN), "MAJ-02") == "fail"
    path = machine(tmp_path, "PC-12", {})
    assert verdict(audit_files(path, today=WHEN), "MAJ-02") == "unknown"


def test_smb1_and_rdp_without_nla_fail(tmp_path: Path) -> None:
    path = machine(tmp_path, "PC-13", {"network.smb1": {"SMB1": 1}})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "POS-05") == "fail" and "SMBv1" in evidence(results, "POS-05")
    path = machine(
        tmp_path, "PC-14", {"network.rdp": {"fDenyTSConnections": 0}, "network.rdp_nla": {"UserAuthentication": 0}}
    )
    results = audit_files(path, today=WHEN)
    assert verdict(results, "POS-05") == "fail" and "NLA" in evidence(results, "POS-05")
    path = machine(
        tmp_path,
        "PC-15",
        {
            "network.rdp": {"fDenyTSConnections": 0},
            "network.rdp_nla": {"UserAuthentication": 1},
            "network.listeners": [],
            "processes": [{"ProcessName": "explorer"}],
        },
    )
    assert verdict(audit_files(path, today=WHEN), "POS-05") == "needs_answer"


W32TM = sorted(p.name for p in (RAW / "w32tm-query-status").glob("*.txt"))


def test_w32tm_status_from_real_outputs() -> None:
    synced = parse_w32tm_status(raw("w32tm-query-status/en-US-ui-fr-region-win-synced-time-windows-com.txt"))
    assert synced == {"synchronized": True, "source": "time.windows.com,0x9", "leap": 0}
    unsynced = parse_w32tm_status(raw("w32tm-query-status/en-US-server2022-vagrant-local-cmos-unsynced.txt"))
    assert unsynced["synchronized"] is False and unsynced["source"] == "Local CMOS Clock"


def test_time_sync_never_passes_without_an_observation(tmp_path: Path) -> None:
    # Only the registry says NTP: the service may be disabled, so nothing is concluded.
    path = machine(tmp_path, "PC-T0", {"time.w32time": {"Type": "NTP"}})
    assert verdict(audit_files(path, today=WHEN), "POS-07") == "unknown"
    # NTP and a service allowed to start (Windows starts it on demand): synchronisation is configured.
    service = [{"Name": "W32Time", "State": "Stopped", "StartMode": "Manual"}]
    path = machine(tmp_path, "PC-T1", {"time.w32time": {"Type": "NTP"}, "time.service": service})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "POS-07") == "pass" and "W32Time (NTP)" in evidence(results, "POS-07")
    path = machine(tmp_path, "PC-T2", {"time.w32time": {"Type": "NTP"}, "time.service": [{"StartMode": "Disabled"}]})
    assert verdict(audit_files(path, today=WHEN), "POS-07") == "fail"
    path = machine(tmp_path, "PC-T3", {"time.status": "Indicateur de saut : 0\nSource : time.windows.com\n"})
    assert verdict(audit_files(path, today=WHEN), "POS-07") == "unknown"  # unknown labels, nothing else
    path = machine(tmp_path, "PC-T4", {})
    assert verdict(audit_files(path, today=WHEN), "POS-07") == "unknown"


USB_ROWS = [
    {"key": "HKLM\\SYSTEM\\CurrentControlSet\\Enum\\USBSTOR\\Disk&Ven_General&Prod_UDisk&Rev_5.00", "value": None},
    {
        "key": "HKLM\\SYSTEM\\CurrentControlSet\\Enum\\USBSTOR\\Disk&Ven_General&Prod_UDisk&Rev_5.00\\7&f810be1&0&_&0",
        "value": "General UDisk USB Device",
    },
]


def test_usb_devices_from_usbstor_keys() -> None:
    """Key names as in a real SYSTEM hive (forensic write-up, search id 15623526777); Windows made up the
    instance ID (second character '&'), so the device has no serial number."""
    assert usb_storage_devices(USB_ROWS) == [
        {
            "id": "Disk&Ven_General&Prod_UDisk&Rev_5.00\\7&f810be1&0&_&0",
            "serial": None,
            "name": "General UDisk USB Device",
        }
    ]


def test_usb_history_unreadable_is_unknown_and_truncated_json_never_passes(tmp_path: Path) -> None:
    path = machine(tmp_path, "PC-U1", {"removable.usbstor_history": USB_ROWS})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "AMO-01") == "needs_answer" and "General UDisk USB Device" in evidence(results, "AMO-01")
    envelope = json.loads(path.read_text(encoding="utf-8"))
    body = json.loads(base64.b64decode(envelope["payload"]))
    for obs in body["observations"]:
        if str(obs["target"]).endswith("Enum\\USBSTOR"):
            obs["output"] = obs["output"][:30]  # cut in the middle of the JSON
    payload = json.dumps(body).encode()
    envelope.update(payload=base64.b64encode(payload).decode(), sha256=hashlib.sha256(payload).hexdigest())
    path.write_text(json.dumps(envelope), encoding="utf-8")
    results = audit_files(path, today=WHEN)
    assert verdict(results, "AMO-01") == "needs_answer" and "n'a pas pu être vérifié" in evidence(results, "AMO-01")


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "key": st.text() | st.sampled_from([r["key"] for r in USB_ROWS] + ["HKLM\\X\\ENUM\\USBSTOR\\\\"]),
                "value": st.none() | st.text(max_size=5) | st.integers(),
            }
        ),
        max_size=5,
    ),
    st.text(),
)
@settings(max_examples=300, deadline=None)
def test_usb_and_w32tm_parsers_never_crash(rows: list[dict[str, Any]], text: str) -> None:
    for device in usb_storage_devices(rows):
        assert device["id"] and device["name"]
    with contextlib.suppress(ParseError):
        parse_w32tm_status(text)
    for truncated in (text, raw("w32tm-query-status/" + W32TM[0])[: len(text)]):
        with contextlib.suppress(ParseError):
            assert parse_w32tm_status(truncated)["synchronized"] in (True, False)
