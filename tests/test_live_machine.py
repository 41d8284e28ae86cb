"""The audit of the machine running the tests: every automated Linux measure gets a verdict,
and the verdicts agree with the machine's state as read independently here."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from officine.catalogue.model import Verdict
from officine.evaluate import MeasureResult
from officine.services.audit import run_audit


@pytest.fixture(scope="module")
def live() -> dict[str, MeasureResult]:
    result = run_audit(save=False)
    return {m.measure.id: m for m in result.assessment.measures}


def _linux_automatic(results: dict[str, MeasureResult]) -> list[MeasureResult]:
    return [r for r in results.values() if r.measure.verification != "question" and "linux" in r.measure.platforms]


def test_every_automated_linux_measure_has_a_reasoned_verdict(live: dict[str, MeasureResult]) -> None:
    for r in _linux_automatic(live):
        machine = [e for e in r.evidence if e.source == "machine"]
        assert machine, r.measure.id
        for e in machine:
            assert e.text and "{" not in e.text and e.text != e.reason, (r.measure.id, e.text)
            if e.verdict is Verdict.unknown:
                assert e.reason in {
                    "fact_unknown",
                    "users_undetermined",
                    "unknown_release",
                    "signatures_unknown",
                    "state_unverified",
                    "accounts_unreadable",
                    "autologin_unknown",
                    "usb_unknown",
                    "key_unknown",
                    "negotiation_unknown",
                    "no_plan",  # backups cannot be verified without a plan: said as such
                } or e.reason.endswith("unknown"), e


def _login_defs_max_days() -> int:
    text = Path("/etc/login.defs").read_text(encoding="utf-8")
    m = re.search(r"^\s*PASS_MAX_DAYS\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else 99999


def test_password_expiry_matches_login_defs(live: dict[str, MeasureResult]) -> None:
    days = _login_defs_max_days()
    expected = Verdict.passed if days >= 365 or days <= 0 else Verdict.warn
    assert live["MDP-06"].verdict is expected
    assert str(days) in live["MDP-06"].evidence[0].text


def test_os_support_names_this_os(live: dict[str, MeasureResult]) -> None:
    pretty = re.search(r'^PRETTY_NAME="?([^"\n]+)', Path("/etc/os-release").read_text(encoding="utf-8"), re.M)
    assert pretty is not None
    assert pretty.group(1) in live["MAJ-01"].evidence[0].text


def _installed(package: str) -> bool:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False)
    return proc.stdout.endswith("installed") and "not-installed" not in proc.stdout


def test_antivirus_verdict_matches_installed_packages(live: dict[str, MeasureResult]) -> None:
    if not any(_installed(p) for p in ("clamav", "clamav-daemon", "mdatp")):
        assert live["POS-01"].verdict is Verdict.fail
        assert "Aucun antivirus" in live["POS-01"].evidence[0].text
    else:
        assert live["POS-01"].verdict is not Verdict.passed or shutil.which("clamdscan")


def test_ssh_not_applicable_only_without_server(live: dict[str, MeasureResult]) -> None:
    assert (live["POS-06"].verdict is Verdict.not_applicable) == (not _installed("openssh-server"))


def test_firewall_verdict_matches_live_ruleset(live: dict[str, MeasureResult]) -> None:
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nftables absent")
    proc = subprocess.run([nft, "list", "ruleset"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        assert live["POS-02"].verdict in (Verdict.unknown, Verdict.passed, Verdict.fail)
        return
    blocks = re.search(r"hook input .*policy drop", proc.stdout) is not None
    if not blocks:
        assert live["POS-02"].verdict is Verdict.fail


def test_listeners_reported_match_proc(live: dict[str, MeasureResult]) -> None:
    evidence = live["POS-05"].evidence[0]
    exposed = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(path).read_text(encoding="utf-8").splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr = local.rsplit(":", 1)[0]
            loopback = addr in ("0100007F", "00000000000000000000000001000000") or addr.endswith("0100007F")
            if state == "0A" and not loopback:
                exposed.append(int(local.rsplit(":", 1)[1], 16))
    if not exposed:
        assert evidence.reason in ("nothing_exposed", "remote_tool_installed", "remote_tool_running")
    else:
        assert evidence.reason in ("risky_exposed", "exposed_services", "remote_tool_running")
        for port in exposed:
            assert f"{port}/tcp" in evidence.text or evidence.reason == "remote_tool_running"
