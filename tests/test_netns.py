"""Network facts proven in network namespaces the tests create (never the host's own network)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import listening, needs_root
from helpers import audit_files, evidence, verdict

pytestmark = needs_root

NFT_DROP = """
table inet officine_test {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
  }
}
"""
NFT_OPEN = """
table inet officine_test {
  chain input { type filter hook input priority 0; policy accept; }
}
"""


def in_ns(ns: str, *cmd: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *cmd],
        capture_output=True,
        text=True,  # type: ignore[call-overload, no-any-return]
        timeout=120,
        check=False,
        **kw,
    )


def collect_in(ns: str, out: Path) -> Path:
    proc = in_ns(ns, sys.executable, "-m", "officine", "collect", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def listener(netns: str) -> Iterator[str]:
    """An FTP-port listener bound to every address of the namespace."""
    with listening(netns, "0.0.0.0", 21):
        yield netns


def test_risky_listener_beyond_loopback_fails(listener: str, tmp_path: Path) -> None:
    results = audit_files(collect_in(listener, tmp_path / "s.json"))
    assert verdict(results, "POS-05") == "fail"
    assert "FTP 21/tcp sur 0.0.0.0" in evidence(results, "POS-05")


def test_loopback_only_listener_is_not_exposed(netns: str, tmp_path: Path) -> None:
    with listening(netns, "127.0.0.1", 5432):
        results = audit_files(collect_in(netns, tmp_path / "s.json"))
    assert verdict(results, "POS-05") in ("needs_answer", "pass")
    assert "PostgreSQL" not in evidence(results, "POS-05")


def test_firewall_drop_policy_passes_then_open_fails(netns: str, tmp_path: Path) -> None:
    rules = tmp_path / "drop.nft"
    rules.write_text(NFT_DROP, encoding="utf-8")
    assert in_ns(netns, "nft", "-f", str(rules)).returncode == 0
    results = audit_files(collect_in(netns, tmp_path / "a.json"))
    assert verdict(results, "POS-02") == "pass", evidence(results, "POS-02")
    assert "règles actives" in evidence(results, "POS-02")

    assert in_ns(netns, "nft", "flush", "ruleset").returncode == 0
    rules.write_text(NFT_OPEN, encoding="utf-8")
    assert in_ns(netns, "nft", "-f", str(rules)).returncode == 0
    results = audit_files(collect_in(netns, tmp_path / "b.json"))
    assert verdict(results, "POS-02") == "fail"

    assert in_ns(netns, "nft", "flush", "ruleset").returncode == 0
    results = audit_files(collect_in(netns, tmp_path / "c.json"))
    assert verdict(results, "POS-02") == "fail"
    assert "Aucun pare-feu" in evidence(results, "POS-02")


def test_drop_policy_really_blocks_in_the_namespace(netns: str, peer: str, tmp_path: Path) -> None:
    """The fact we judge is the one the kernel applies: a connection from the peer is dropped."""
    probe = [
        sys.executable,
        "-c",
        "import socket\ns=socket.socket()\ns.settimeout(1.5)\nprint(s.connect_ex(('192.0.2.1', 8080)))",
    ]
    with listening(netns, "0.0.0.0", 8080):
        assert in_ns(peer, *probe).stdout.strip() == "0"
        rules = tmp_path / "drop.nft"
        rules.write_text(NFT_DROP, encoding="utf-8")
        assert in_ns(netns, "nft", "-f", str(rules)).returncode == 0
        assert in_ns(peer, *probe).stdout.strip() != "0"
