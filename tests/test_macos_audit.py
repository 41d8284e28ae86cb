"""macOS audits from real published outputs (tests/fixtures/raw/macos, each file cites its source)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import snapshot_fixtures as fixtures
from helpers import audit_files, evidence, verdict
from officine import snapshot
from officine.collectors.macos.accounts import IDLE_TIME
from officine.collectors.macos.system import SOCKETFILTERFW
from officine.host.base import Observation, ObsStatus
from officine.parsers import ParseError
from officine.parsers.macos import (
    parse_airport_json,
    parse_defaults_int,
    parse_filevault,
    parse_firewall_state,
    parse_group_membership,
    parse_network_time,
    parse_pwpolicy,
    parse_screenlock,
    parse_softwareupdate,
    parse_spctl,
    parse_sw_vers,
    parse_user_ids,
)

RAW = Path(__file__).parent / "fixtures/raw/macos"
WHEN = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AUTO = ["defaults", "read", "/Library/Preferences/com.apple.SoftwareUpdate", "AutomaticallyInstallMacOSUpdates"]


def raw(rel: str) -> str:
    return fixtures.raw(f"macos/{rel}")


def command_output(rel: str, command: str) -> str:
    return fixtures.command_output(f"macos/{rel}", command)


def mac(tmp_path: Path, name: str, outputs: dict[tuple[str, ...], str]) -> Path:
    observations = [
        Observation(kind="command", target=list(argv), status=ObsStatus.ok, exit_code=0, output=out)
        for argv, out in outputs.items()
    ]
    snap = snapshot.Snapshot(
        str(uuid.uuid4()), "macos", "live", WHEN, {"hostname": name}, {"privileged": True}, observations, {}
    )
    path = tmp_path / f"{name}.json"
    snapshot.save(snap, path)
    return path


def test_sonoma_with_firewall_off_and_filevault_on(tmp_path: Path) -> None:
    path = mac(
        tmp_path,
        "mac-dos",
        {
            ("sw_vers",): command_output("sw_vers/en-US-macos14.0-23A344.txt", "sw_vers"),
            (SOCKETFILTERFW, "--getglobalstate"): command_output(
                "socketfilterfw/en-US-macos-recent-disabled-stealth-off-new-wording.txt",
                SOCKETFILTERFW + " --getglobalstate",
            ),
            ("fdesetup", "status"): command_output("fdesetup-status/en-US-macos-on-with-diskutil-apfs.txt", "fdesetup"),
        },
    )
    results = audit_files(path, today=WHEN)
    # macOS 27 shipped in September 2026: Sonoma (14) no longer gets security updates.
    assert verdict(results, "MAJ-01") == "fail" and "macOS Sonoma 14.0" in evidence(results, "MAJ-01")
    assert verdict(results, "POS-02") == "fail"
    assert verdict(results, "POS-03") == "pass" and "FileVault" in evidence(results, "POS-03")


def test_tahoe_with_firewall_on_updates_pending_and_wpa2(tmp_path: Path) -> None:
    path = mac(
        tmp_path,
        "mac-comptoir",
        {
            ("sw_vers",): command_output("sw_vers/en-US-macos26.3-25D125-captured-by-script.txt", "sw_vers"),
            (SOCKETFILTERFW, "--getglobalstate"): command_output(
                "socketfilterfw/en-US-macos-enabled-stealth-disabled-blockall-off.txt",
                SOCKETFILTERFW + " --getglobalstate",
            ),
            ("fdesetup", "status"): command_output("fdesetup-status/en-US-macos-mac-mini-off.txt", "fdesetup"),
            ("softwareupdate", "-l"): raw("softwareupdate-l/en-US-macos26-tahoe-two-updates-restart.txt"),
            tuple(AUTO): "1\n",
            ("system_profiler", "SPAirPortDataType", "-json"): raw(
                "system_profiler-spairportdatatype-json/en-US-macos15.5-wpa2-personal-connected.txt"
            ),
        },
    )
    results = audit_files(path, today=WHEN)
    assert verdict(results, "MAJ-01") == "pass"
    assert verdict(results, "POS-02") == "pass"
    assert verdict(results, "POS-03") == "fail"
    assert verdict(results, "MAJ-02") == "warn" and "macOS Tahoe 26.5" in evidence(results, "MAJ-02")
    assert verdict(results, "WIFI-01") == "pass"


@pytest.mark.parametrize("rel", sorted(p.relative_to(RAW).as_posix() for p in (RAW / "socketfilterfw").glob("*.txt")))
def test_every_firewall_capture_parses(rel: str) -> None:
    out = command_output(rel, SOCKETFILTERFW + " --getglobalstate")
    if "State" in out or "Firewall is" in out:
        assert parse_firewall_state(out) in (True, False)


def test_no_new_software_means_nothing_pending() -> None:
    assert parse_softwareupdate(raw("softwareupdate-l/en-US-macos-no-new-software-bash-prompt.txt")) == []
    assert parse_softwareupdate(raw("softwareupdate-l/it-IT-user-macos-no-new-software-zsh.txt")) == []


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_macos_parsers_never_crash(text: str) -> None:
    for parser in (parse_sw_vers, parse_firewall_state, parse_filevault, parse_softwareupdate, parse_airport_json):
        with contextlib.suppress(ParseError):
            parser(text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "SPAirPortDataType",
                        "spairport_airport_interfaces",
                        "spairport_status_information",
                        "spairport_current_network_information",
                        "spairport_security_mode",
                        "_name",
                    ]
                ),
                c,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
@settings(max_examples=300, deadline=None)
def test_airport_json_of_any_shape_never_crashes(data: object) -> None:
    import json

    with contextlib.suppress(ParseError):
        parse_airport_json(json.dumps(data))


SCREENLOCK = sorted(p.relative_to(RAW).as_posix() for p in (RAW / "sysadminctl-screenlock-status").glob("*.txt"))
DSCL = sorted(p.relative_to(RAW).as_posix() for p in (RAW / "dscl-read-groups-admin").glob("*.txt"))
PWPOLICY_RAW = "pwpolicy-getaccountpolicies/en-US-macos-mdm-minlength7-plus-default-fde-UNVERIFIED.txt"


def test_screen_lock_states_from_real_sysadminctl_lines() -> None:
    lines = [line for rel in SCREENLOCK for line in raw(rel).splitlines() if "sysadminctl[" in line]
    parsed = {}
    for line in lines:
        try:
            parsed[line.split("] ", 1)[1]] = parse_screenlock(line)
        except ParseError:
            parsed[line.split("] ", 1)[1]] = "illisible"
    assert parsed == {
        "screenLock delay is immediate": 0,
        "screenLock delay is 5 seconds": 5,
        "screenLock is off": None,
        "Unknown state for screenLock (0)": "illisible",
    }


@pytest.mark.parametrize("rel", DSCL)
def test_admin_group_members_in_every_capture(rel: str) -> None:
    members = parse_group_membership(raw(rel).splitlines()[-1])
    assert members[0] == "root" and len(members) >= 2


def test_password_policy_plist() -> None:
    policy = parse_pwpolicy(raw(PWPOLICY_RAW))
    assert policy == {"min_length": 7, "max_failed": 10, "expires_days": None}
    assert parse_pwpolicy("No global account policies have been set.\n")["min_length"] == 0
    with pytest.raises(ParseError, match="administrateur"):
        parse_pwpolicy("Getting global account policies\n")  # what a user without admin rights gets
    assert parse_spctl(raw("spctl-status/en-US-macos26.5.2-gatekeeper-enabled.txt")) is True
    assert parse_network_time(raw("systemsetup-getusingnetworktime/en-US-macos-stig-check-network-time-on.txt"))


def test_screen_saver_delay_plus_password_delay_decides_the_lock(tmp_path: Path) -> None:
    lock = ("sysadminctl", "-screenLock", "status")
    line = next(x for x in raw(SCREENLOCK[1]).splitlines() if "5 seconds" in x) + "\n"
    observations = [
        Observation(kind="command", target=list(lock), status=ObsStatus.ok, exit_code=0, output="", stderr=line),
        Observation(
            kind="command", target=list(IDLE_TIME), status=ObsStatus.ok, exit_code=0, output="600\n"
        ),  # defaults prints the bare integer
    ]
    snap = snapshot.Snapshot(
        str(uuid.uuid4()), "macos", "live", WHEN, {"hostname": "m"}, {"privileged": True}, observations, {}
    )
    path = tmp_path / "m.json"
    snapshot.save(snap, path)
    results = audit_files(path, today=WHEN)
    assert verdict(results, "VER-01") == "pass" and "10 min 5 s" in evidence(results, "VER-01")


def _truncations(text: str) -> list[str]:
    return [text[:i] for i in range(0, len(text), max(1, len(text) // 40))]


@pytest.mark.parametrize(
    "parser, rel",
    [
        (parse_pwpolicy, PWPOLICY_RAW),
        (parse_spctl, "spctl-status/en-US-macos26.5.2-gatekeeper-enabled.txt"),
        (parse_group_membership, DSCL[0]),
        (parse_screenlock, SCREENLOCK[1]),
        (parse_network_time, "systemsetup-getusingnetworktime/en-US-macos-stig-check-network-time-on.txt"),
    ],
)
def test_truncated_real_outputs_parse_or_say_why(parser: Any, rel: str) -> None:
    for text in _truncations(raw(rel)):
        with contextlib.suppress(ParseError):
            parser(text)


@given(st.text() | st.sampled_from(["Network Time: Aan", "assessments activées", "GroupMembership:", "<?xml <plist>"]))
@settings(max_examples=300, deadline=None)
def test_new_macos_parsers_never_crash(text: str) -> None:
    for parser in (
        parse_screenlock,
        parse_group_membership,
        parse_user_ids,
        parse_pwpolicy,
        parse_spctl,
        parse_network_time,
        parse_defaults_int,
    ):
        with contextlib.suppress(ParseError):
            parser(text)


# -- Issue 11: macOS rules -----------------------------------------------------------------------------
from officine.parsers.macos import parse_filevault_state  # noqa: E402

MOJAVE_UPDATES = "softwareupdate-l/en-US-macos10.14.6-mojave-four-updates-old-format.txt"


def test_pre_catalina_softwareupdate_lists_its_updates() -> None:
    updates = parse_softwareupdate(raw(MOJAVE_UPDATES))
    assert [u["label"] for u in updates] == [
        "Safari14.0.1MojaveAuto-14.0.1",
        "Security Update 2020-005-10.14.6",
        "Safari14.0MojaveAuto-10.14.6",
        "Command Line Tools (macOS Mojave version 10.14) for Xcode-10.3",
    ]
    assert [u["restart"] for u in updates] == [False, True, True, False]
    assert all(u["recommended"] for u in updates)


def test_an_update_list_that_is_not_understood_is_never_empty() -> None:
    for text in (
        "Software Update Tool\n\nFinding available software\nSoftware Update found the following new or updated software:\n"
        "   ~ something in a shape never seen\n",
        "Software Update Tool\n\nFinding available software\n",
        "",
    ):
        with pytest.raises(ParseError):
            parse_softwareupdate(text)


def test_pending_updates_in_the_old_format_are_not_nothing_pending(tmp_path: Path) -> None:
    sw = "ProductName:\tMac OS X\nProductVersion:\t10.14.6\nBuildVersion:\t18G84\n"
    path = mac(tmp_path, "mac-old", {("sw_vers",): sw, ("softwareupdate", "-l"): raw(MOJAVE_UPDATES)})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "MAJ-02") == "warn" and "4 mises à jour" in evidence(results, "MAJ-02")
    assert "Aucune mise à jour" not in evidence(results, "MAJ-02")
    # A Mac OS X 10.x is out of support, whatever the minor version.
    assert verdict(results, "MAJ-01") == "fail" and "Mac OS X Mojave 10.14.6" in evidence(results, "MAJ-01")
    older = sw.replace("10.14.6", "10.9.5").replace("18G84", "13F1911")
    path = mac(tmp_path, "mac-older", {("sw_vers",): older})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "MAJ-01") == "fail" and "au plus tard depuis le 12/11/2020" in evidence(results, "MAJ-01")


def test_maintained_macos_has_no_made_up_end_date(tmp_path: Path) -> None:
    sw = "ProductName:\tmacOS\nProductVersion:\t26.3\nBuildVersion:\t25D125\n"
    results = audit_files(mac(tmp_path, "mac-new", {("sw_vers",): sw}), today=WHEN)
    assert verdict(results, "MAJ-01") == "pass"
    assert "9999" not in evidence(results, "MAJ-01") and "31/12" not in evidence(results, "MAJ-01")


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("FileVault is On.\nEncryption in progress: Pending\n", "in_progress"),
        ("FileVault is On.\nEncryption in progress: Percent completed = 45.00\n", "in_progress"),
        ("FileVault is On.\n", "on"),
        ("FileVault is Off.\n", "off"),
        ("FileVault is Off.\nDeferred enablement appears to be active for user 'marie'.\n", "off"),
    ],
)
def test_filevault_states(text: str, state: str) -> None:
    assert parse_filevault_state(text) == state


def test_gatekeeper_off_is_not_described_as_xprotect_broken(tmp_path: Path) -> None:
    path = mac(tmp_path, "mac-gk", {("spctl", "--status"): "assessments disabled\n"})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "POS-01") == "fail"
    assert "Gatekeeper est désactivé" in evidence(results, "POS-01") and "XProtect" not in evidence(results, "POS-01")


def test_hidden_wifi_name_is_not_shown_as_redacted(tmp_path: Path) -> None:
    import json

    data = {
        "SPAirPortDataType": [
            {
                "spairport_airport_interfaces": [
                    {
                        "_name": "en0",
                        "spairport_status_information": "spairport_status_connected",
                        "spairport_current_network_information": {
                            "_name": "<redacted>",
                            "spairport_security_mode": "spairport_security_mode_wpa2_personal",
                        },
                    }
                ]
            }
        ]
    }
    path = mac(tmp_path, "mac-wifi", {("system_profiler", "SPAirPortDataType", "-json"): json.dumps(data)})
    results = audit_files(path, today=WHEN)
    assert verdict(results, "WIFI-01") == "pass"
    assert "<redacted>" not in evidence(results, "WIFI-01") and "nom masqué" in evidence(results, "WIFI-01")


def test_password_policy_refused_without_rights_is_a_refusal(tmp_path: Path) -> None:
    observations = [
        Observation(
            kind="command",
            target=["pwpolicy", "-getaccountpolicies"],
            status=ObsStatus.ok,
            exit_code=1,
            output="Getting global account policies\n",
        ),
        Observation(
            kind="command",
            target=["systemsetup", "-getusingnetworktime"],
            status=ObsStatus.ok,
            exit_code=0,
            output="You need administrator access to run this tool... exiting!\n",
        ),
    ]
    for privileged, cause in ((False, "permission_denied"), (True, "parse_error")):
        snap = snapshot.Snapshot(
            str(uuid.uuid4()), "macos", "live", WHEN, {"hostname": "m"}, {"privileged": privileged}, observations, {}
        )
        path = tmp_path / f"m-{privileged}.json"
        snapshot.save(snap, path)
        result = audit_files(path, today=WHEN)["MDP-01"]
        assert result.verdict.value == "unknown"
        assert next(e.values for e in result.evidence if e.source == "machine")["cause"] == cause
        if not privileged:
            assert "n'a pas pu être comprise" not in " ".join(e.text for e in result.evidence)
        time = audit_files(path, today=WHEN)["POS-07"]
        assert next(e.values for e in time.evidence if e.source == "machine")["cause"] == cause


def test_lockout_without_a_delay_never_says_question_mark(tmp_path: Path) -> None:
    results = audit_files(mac(tmp_path, "mac-pw", {("pwpolicy", "-getaccountpolicies"): raw(PWPOLICY_RAW)}), today=WHEN)
    assert "?" not in evidence(results, "MDP-02")


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_new_macos_state_parsers_never_crash(text: str) -> None:
    with contextlib.suppress(ParseError):
        assert parse_filevault_state(text) in ("on", "off", "in_progress")
    with contextlib.suppress(ParseError):
        assert parse_softwareupdate(text) or "No new software available" in text  # never an empty guess
