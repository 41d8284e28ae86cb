"""The agent and the server on two machines: two network namespaces joined by a veth pair. The
server listens on 192.0.2.2 with TLS (it refuses to without a certificate), the workstation at
192.0.2.1 enrols and sends with the server's certificate as its authority; an agent that does
not trust the certificate sends nothing and keeps its queue. PostgreSQL is reached through its
Unix socket (the database is not on the network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import needs_root
from fleet_helpers import enrolment_token, fixture_document, new_database, provider, variant
from fleet_server import FleetServer
from officine.fleet import directory
from officine.fleet.tenancy import Fleet
from pgserver import pg_bin, socket_url, throwaway_postgres
from test_fleet_agents import inbox

pytestmark = [needs_root, pytest.mark.postgres, pytest.mark.timeout(300)]
PORT = 8443
WAIT = f"""
import socket, time
for _ in range(600):
    try:
        socket.create_connection(("192.0.2.2", {PORT}), timeout=0.5).close()
        break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit(1)
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        yield url


def make_certificate(cert: Path, key: Path) -> None:
    """A self-signed certificate for the server's name and address (its own authority)."""
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=parc.test"]
    openssl += ["-addext", "subjectAltName=DNS:parc.test,IP:192.0.2.2", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(openssl, check=True, capture_output=True)


def in_namespace(namespace: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OFFICINE_CONFIG_DIR": str(home / "config"), "OFFICINE_DATA_DIR": str(home / "data")}
    return subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )


def test_an_agent_on_another_machine_enrols_and_sends_over_tls(
    postgres: str, netns: str, peer: str, tmp_path: Path
) -> None:
    cert, key = tmp_path / "parc.pem", tmp_path / "parc.key"
    other_cert, other_key = tmp_path / "autre.pem", tmp_path / "autre.key"
    make_certificate(cert, key)
    db = new_database(postgres)
    fleet = Fleet(db)
    _, admin = provider(fleet, "InfoPharma Sud")
    pharmacy = directory.create_pharmacy(fleet, admin, "Pharmacie des Arènes", "Nîmes")
    name = db.rsplit("/", 1)[1]
    prefix = ["ip", "netns", "exec", peer]
    clear = FleetServer(socket_url(postgres, name), tmp_path / "serveur", PORT, prefix=prefix, host="192.0.2.2")
    clear.start()
    assert clear.proc is not None
    clear.proc.wait(120)
    assert clear.proc.returncode == 2  # beyond loopback without a certificate: refused
    tls = ["--certificat", str(cert), "--cle", str(key)]
    server = FleetServer(
        socket_url(postgres, name), tmp_path / "serveur", PORT, extra=tls, prefix=prefix, host="192.0.2.2"
    )
    server.start()
    try:
        assert in_namespace(netns, tmp_path, "-c", WAIT).returncode == 0
        url = f"https://192.0.2.2:{PORT}/"
        home = tmp_path / "poste"
        token = enrolment_token(fleet, admin, pharmacy)
        untrusting = in_namespace(
            netns, tmp_path / "mefiant", "-m", "officine", "agent", "inscrire", url, "--jeton", token
        )
        assert untrusting.returncode == 2 and "certificat du serveur" in untrusting.stderr  # not trusted
        enrol = ["-m", "officine", "agent", "inscrire", url, "--jeton", token, "--autorite", str(cert)]
        done = in_namespace(netns, home, *enrol, "--poste", "poste-arenes")
        assert done.returncode == 0, done.stderr
        document = variant(fixture_document("windows11-fr-conforme"), hostname="poste-arenes", machine="poste-arenes")
        snap = tmp_path / "instantane.json"

        snap.write_text(json.dumps(document), encoding="utf-8")
        sent = in_namespace(netns, home, "-m", "officine", "agent", "envoyer", "--instantane", str(snap))
        assert sent.returncode == 0, sent.stderr
        assert inbox(fleet, pharmacy) == [(document["snapshot_id"], 1)]
        banner = " ".join(server.stop().split())
        # The server comes back with another certificate (not from the authority the agent knows):
        # nothing is sent to it, the snapshot waits, and the agent says why.
        make_certificate(other_cert, other_key)
        other = ["--certificat", str(other_cert), "--cle", str(other_key)]
        server = FleetServer(
            socket_url(postgres, name), tmp_path / "serveur", PORT, extra=other, prefix=prefix, host="192.0.2.2"
        )
        server.start()
        assert in_namespace(netns, tmp_path, "-c", WAIT).returncode == 0
        again = variant(document, hostname="poste-arenes", machine="poste-arenes")
        snap.write_text(json.dumps(again), encoding="utf-8")
        sent = in_namespace(netns, home, "-m", "officine", "agent", "envoyer", "--instantane", str(snap))
        assert sent.returncode == 3 and "certificat du serveur" in sent.stderr
        assert inbox(fleet, pharmacy) == [(document["snapshot_id"], 1)]
    finally:
        server.stop()
        fleet.engine.dispose()
    assert f"Console du parc : https://192.0.2.2:{PORT}/" in banner
    assert "accessibles depuis le réseau" in banner and "192.0.2.2" in banner
