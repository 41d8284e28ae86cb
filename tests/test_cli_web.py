"""`officine serve` and `officine demo` as a person runs them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from helpers import officine, stderr_until
from web_helpers import csrf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_refuses_the_network_without_tls(tmp_path: Path) -> None:
    proc = officine(
        "serve",
        "--hote",
        "0.0.0.0",
        "--port",
        str(free_port()),
        env={"OFFICINE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
    )
    assert proc.returncode == 2
    assert "HTTPS" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_serves_a_dashboard_with_this_machine_audited(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "officine", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "200"},
    )
    try:
        output = stderr_until(proc, "Tableau de bord")
        assert f"http://127.0.0.1:{port}/" in output, output
        password = re.search(r"mot de passe : (\S+)", output)
        assert password, output
        import httpx

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(50):
                try:
                    page = client.get("/connexion")
                    break
                except httpx.ConnectError:
                    time.sleep(0.2)
            # Secure cookies are kept by browsers on 127.0.0.1; httpx needs them copied by hand.
            token = csrf(page.text)
            cookie = page.headers["set-cookie"].split(";", 1)[0]
            r = client.post(
                "/connexion",
                data={"csrf": token, "username": "demo", "password": password.group(1)},
                headers={"Cookie": cookie},
            )
            assert r.status_code == 303
            session = r.headers["set-cookie"].split(";", 1)[0]
            home = client.get("/", headers={"Cookie": session})
            assert "Pharmacie de démonstration" in home.text and 'class="tile' in home.text
        # The demo keeps to its own folder.
        assert any(p.name.startswith("officine-demo-") for p in tmp_path.iterdir())
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_serve_on_a_busy_port_says_so_in_french(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = officine("serve", "--port", str(port), env={"OFFICINE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert proc.returncode == 2
    assert "déjà utilisé" in proc.stderr and "Traceback" not in proc.stderr
