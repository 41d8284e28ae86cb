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
    assert verdict(results, "MAJ-01") == "fail" and "macOS 14.0" in evidence(results, "MAJ-01")
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
