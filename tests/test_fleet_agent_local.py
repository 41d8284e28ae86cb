"""The agent's pieces that need no server: the outbox (order, numbering that survives an empty
queue, a refused message put aside and never deleted), the systemd units (checked by
systemd-analyze), the Windows task, and the agent's configuration files (owner-only, damaged)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backup_fixtures import mount_tmpfs, needs_root, unmount_all
from officine.agent import config as agent_config
from officine.agent import install, send
from officine.agent.outbox import Outbox
from officine.errors import UserError


def test_outbox_keeps_order_and_numbers_and_puts_aside_without_deleting(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "file")
    first = box.put(lambda n: {"sequence": n, "x": "a"})
    second = box.put(lambda n: {"sequence": n, "x": "b"})
    assert box.pending() == [first, second]
    box.done(first)
    aside = box.set_aside(second, "message_illisible: test")
    assert (
        box.pending() == [] and aside.exists() and "message_illisible" in aside.with_suffix(".raison.txt").read_text()
    )
    third = box.put(lambda n: {"sequence": n})
    assert third.stem == f"{3:012d}"  # numbering goes on after an empty queue: the server sees growing numbers
    assert oct(third.stat().st_mode & 0o777) == oct(0o600)


def test_systemd_units_verify_and_windows_task_is_printed(tmp_path: Path) -> None:
    units = install.units(60, install.command_line("/opt/officine/bin/python"), {"OFFICINE_DATA_DIR": "/var/lib/o c"})
    written = install.install_systemd(units, tmp_path, activate=False)
    assert [p.name for p in written] == ["officine-agent.service", "officine-agent.timer"]
    timer = written[1].read_text()
    assert "OnUnitActiveSec=60min" in timer and "Persistent=true" in timer
    service = written[0].read_text()
    assert "ExecStart=/opt/officine/bin/python -m officine agent envoyer" in service
    assert "Environment='OFFICINE_DATA_DIR=/var/lib/o c'" in service
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        # The service's program must exist for systemd-analyze: point it at this Python.
        real = install.units(60, install.command_line(sys.executable), {})
        folder = tmp_path / "verifie"
        paths = install.install_systemd(real, folder, activate=False)
        done = subprocess.run(
            [analyze, "verify", *map(str, paths)], capture_output=True, text=True, check=False, timeout=60
        )
        problems = [line for line in done.stderr.splitlines() if "officine-agent" in line]
        assert problems == [], done.stderr
    task = install.windows_task(30)
    assert "Register-ScheduledTask" in task and "-Minutes 30" in task and "agent envoyer" in task


def test_agent_files_are_private_and_damage_is_said(tmp_path: Path) -> None:
    key = agent_config.new_key()
    config = agent_config.AgentConfig("https://parc.exemple.fr/", "ag_" + "a" * 24, "0" * 24, "Pharmacie")
    agent_config.save(config, key)
    folder = agent_config.agent_dir()
    assert (folder / "agent.key").stat().st_mode & 0o077 == 0
    loaded, _ = agent_config.load()
    assert loaded == config
    (folder / "agent.json").write_text("{pas du json", encoding="utf-8")
    with pytest.raises(UserError, match="abîmée"):
        agent_config.load()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://parc.exemple.fr", True),
        ("http://127.0.0.1:8431/", True),
        ("http://[::1]:8431", True),
        ("http://parc.exemple.fr/", False),
        ("ftp://parc.exemple.fr/", False),
        ("parc.exemple.fr", False),
    ],
)
def test_only_https_or_this_machine(url: str, ok: bool) -> None:
    if ok:
        assert agent_config.check_url(url).endswith("/")
    else:
        with pytest.raises(UserError):
            agent_config.check_url(url)


def test_installer_refuses_before_enrolment(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "officine", "agent", "installer", "--unite-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
        timeout=120,
    )
    assert done.returncode == 2 and "pas inscrit" in done.stderr
    assert list(tmp_path.iterdir()) == []


@needs_root
def test_a_full_disk_keeps_the_queue_as_it_was(tmp_path: Path) -> None:
    point = tmp_path / "petit"
    mount_tmpfs(point, "64k")
    try:
        box = Outbox(point / "file")
        first = box.put(lambda n: {"sequence": n, "x": "a"})
        with pytest.raises(UserError, match="Libérez de la place"):
            box.put(lambda n: {"sequence": n, "x": "b" * 200_000})
        assert box.pending() == [first]  # what waited is intact, no half-written message
        assert [p.name for p in (point / "file").iterdir() if p.name.endswith(".tmp")] == []
        assert json.loads(first.read_text()) == {"sequence": 1, "x": "a"}
    finally:
        unmount_all([point])


class _NotAFleet(BaseHTTPRequestHandler):
    """Another program on the address: answers 200 with a web page to everything."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        body = b"<html><body>Bienvenue</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_that_is_not_the_fleet_enrols_nothing_and_takes_nothing() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAFleet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with pytest.raises(UserError, match="serveur du parc officine-cyber"):
            send.enrol(url, "ABCD")
        assert not (agent_config.agent_dir() / "agent.json").exists()
        key = agent_config.new_key()
        config = agent_config.AgentConfig(url, "ag_" + "a" * 24, "0" * 24, "Pharmacie")
        box = Outbox()
        box.put(lambda n: {"sequence": n})
        result = send.flush(box, config, key)
        assert result.sent == 0 and result.left == 1 and result.problem and "HTTP 200" in result.problem
    finally:
        server.shutdown()
