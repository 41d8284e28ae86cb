"""Agents over real HTTP: `officine fleet serve` in its own process on a real PostgreSQL, the
agent's own commands (`officine agent inscrire`, `envoyer`) in theirs. Enrol with a one-time
token, send, appear in the console; the server down, stopped in the middle of a queue, or its
answer lost: every queued snapshot arrives once, in the order it was queued. Each refusal of
the API (replay, tampering, wrong tenant, unknown or revoked agent, oversized or malformed body)
answered over HTTP and recorded."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import func, select

from fleet_helpers import PASSWORD, Agent, enrolment_token, fixture_document, new_database, provider, variant
from fleet_server import FleetServer, LossyRelay, free_port
from officine.agent import config as agent_config
from officine.agent import send
from officine.agent.outbox import Outbox
from officine.errors import UserError
from officine.fleet import agents as fleet_agents
from officine.fleet import directory
from officine.fleet.message import MAX_MESSAGE_BYTES
from officine.fleet.models import (
    AgentEventRow,
    AgentRow,
    EnrolmentTokenRow,
    FleetPharmacyRow,
    InboxRow,
    PharmacyStatusRow,
    RefusalRow,
)
from officine.fleet.tenancy import Fleet
from officine.services import accounts
from officine.store import Store
from pgserver import pg_bin, throwaway_postgres

T = TypeVar("T")
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]
FAILING = "windows10-fr-non-conforme"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        yield url


@dataclass
class Site:
    fleet: Fleet
    db: str
    server: FleetServer
    pharmacy: int
    token: str
    admin: directory.Access


@pytest.fixture
def site(postgres: str, tmp_path: Path) -> Iterator[Site]:
    db = new_database(postgres)
    fleet = Fleet(db)
    _, admin = provider(fleet, "InfoPharma Ouest")
    pharmacy = directory.create_pharmacy(fleet, admin, "Pharmacie du Port", "Brest")
    server = FleetServer(db, tmp_path / "serveur").start()
    try:
        yield Site(fleet, db, server, pharmacy, enrolment_token(fleet, admin, pharmacy), admin)
    finally:
        server.stop()
        fleet.engine.dispose()


def agent_env(home: Path) -> dict[str, str]:
    return {**os.environ, "OFFICINE_CONFIG_DIR": str(home / "config"), "OFFICINE_DATA_DIR": str(home / "data")}


def officine(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "officine", *args],
        env=agent_env(home),
        capture_output=True,
        check=False,
        text=True,
        timeout=240,
    )


def snapshot_file(folder: Path, name: str, hostname: str = "poste-comptoir") -> tuple[Path, str]:
    document = variant(fixture_document(FAILING), hostname=hostname, machine=hostname)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path, str(document["snapshot_id"])


def inbox(fleet: Fleet, pharmacy: int) -> list[tuple[str, int | None]]:
    with fleet.session() as session:
        return [
            (r.snapshot_id, r.sequence)
            for r in session.execute(
                select(InboxRow.snapshot_id, InboxRow.sequence)
                .where(InboxRow.pharmacy_id == pharmacy)
                .order_by(InboxRow.id)
            )
        ]


def judged(fleet: Fleet, pharmacy: int) -> PharmacyStatusRow | None:
    with fleet.session() as session:
        status = session.get(PharmacyStatusRow, pharmacy)
        return status if status is not None and status.audit_id is not None else None


def wait_for(probe: Callable[[], T | None], timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("not seen in time")


@contextlib.contextmanager
def in_agent(home: Path) -> Iterator[None]:
    """This process acting as the agent of `home` (for the fault cases driven step by step)."""
    old = {k: os.environ.get(k) for k in ("OFFICINE_CONFIG_DIR", "OFFICINE_DATA_DIR")}
    os.environ.update({k: v for k, v in agent_env(home).items() if k in old})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_enrol_send_and_appear_in_the_console(site: Site, tmp_path: Path) -> None:
    home = tmp_path / "poste"
    done = officine(home, "agent", "inscrire", site.server.url, "--jeton", site.token, "--poste", "poste-comptoir")
    assert done.returncode == 0, done.stderr
    assert "Pharmacie du Port" in done.stdout
    key_file = home / "config/agent/agent.key"
    assert key_file.stat().st_mode & 0o077 == 0  # the private key is the owner's only
    again = officine(home / "autre", "agent", "inscrire", site.server.url, "--jeton", site.token)
    assert again.returncode == 2 and "déjà utilisé" in again.stderr and "Traceback" not in again.stderr

    snap, snapshot_id = snapshot_file(tmp_path, "premier")
    sent = officine(home, "agent", "envoyer", "--instantane", str(snap))
    assert sent.returncode == 0, sent.stderr
    assert inbox(site.fleet, site.pharmacy) == [(snapshot_id, 1)]
    status = wait_for(lambda: judged(site.fleet, site.pharmacy))  # the server's own worker judges it
    assert status.score is not None and status.failing > 0 and status.last_contact_at is not None
    console = httpx.Client(base_url=site.server.url, follow_redirects=False)
    assert console.get("/").status_code == 303  # the console asks for a sign-in first
    banner = " ".join(site.server.stop().split())
    assert f"Console du parc : {site.server.url}" in banner and "Code d'installation" not in banner  # accounts exist
    assert "n'écoute que ce serveur" in banner
    site.server.start()

    # Revoked in the console: the next snapshot waits on the workstation; enrolled again with a
    # new token, the same queue goes, and nothing before it is counted twice.
    with site.fleet.session() as session:
        agent_id = session.scalar(select(InboxRow.agent_id).where(InboxRow.pharmacy_id == site.pharmacy))
    assert agent_id is not None
    fleet_agents.revoke(site.fleet, site.admin, agent_id)
    snap, second_id = snapshot_file(tmp_path, "second")
    refused = officine(home, "agent", "envoyer", "--instantane", str(snap))
    assert refused.returncode == 3 and "révoqué" in refused.stderr and "1 message(s) en attente" in refused.stderr
    new_token = enrolment_token(site.fleet, site.admin, site.pharmacy)
    assert officine(home, "agent", "inscrire", site.server.url, "--jeton", new_token).returncode == 0
    # The queued one goes; this machine, observed for real, is another workstation than the one
    # this agent first spoke for (a copied disk): refused, kept, and sent once enrolled on its own.
    again = officine(home, "agent", "envoyer")
    assert again.returncode == 3 and "autre poste" in again.stderr
    assert len(inbox(site.fleet, site.pharmacy)) == 2
    own_token = enrolment_token(site.fleet, site.admin, site.pharmacy)
    assert officine(home, "agent", "inscrire", site.server.url, "--jeton", own_token).returncode == 0
    assert officine(home, "agent", "envoyer", "--sans-instantane").returncode == 0
    received = inbox(site.fleet, site.pharmacy)
    assert received[:2] == [(snapshot_id, 1), (second_id, 2)] and len(received) == 3 and received[2][1] == 3
    with site.fleet.session() as session:
        hostnames = list(session.scalars(select(InboxRow.hostname).order_by(InboxRow.id)))
    assert hostnames[2] == socket.gethostname()


def test_nothing_lost_nothing_twice_when_the_server_is_down_killed_or_its_answer_lost(
    site: Site, tmp_path: Path
) -> None:
    home = tmp_path / "poste"
    relay = LossyRelay(site.server.port)
    try:
        url = f"http://127.0.0.1:{relay.port}/"
        assert (
            officine(home, "agent", "inscrire", url, "--jeton", site.token, "--poste", "poste-comptoir").returncode == 0
        )
        expected: list[str] = []
        # 1. The server is down: each `envoyer` keeps its snapshot in the queue and says so.
        site.server.stop()
        for n in range(3):
            snap, snapshot_id = snapshot_file(tmp_path, f"hors-ligne-{n}")
            expected.append(snapshot_id)
            done = officine(home, "agent", "envoyer", "--instantane", str(snap))
            assert done.returncode == 3, done.stderr
            assert "injoignable" in done.stderr and f"{n + 1} message(s) en attente" in done.stderr
        # 2. Back up, but the answer to the first message is lost on the way back.
        site.server.start()
        relay.lose_answers = 1
        with in_agent(home):
            config, key = agent_config.load()
            outbox = Outbox()
            first = send.flush(outbox, config, key)
            assert first.sent == 0 and first.left == 3 and first.problem
            assert inbox(site.fleet, site.pharmacy) == [(expected[0], 1)]  # the server has it
            # 3. Many more queued, and the server killed in the middle of sending them.
            for n in range(12):
                snap, snapshot_id = snapshot_file(tmp_path, f"file-{n}")
                expected.append(snapshot_id)
                send.queue(outbox, Store(), send.load_snapshot_file(snap))
            killer = threading.Thread(target=_kill_after, args=(site, 6))
            killer.start()
            middle = send.flush(outbox, config, key)
            killer.join()
            assert middle.problem is not None and middle.left > 0
            site.server.start()
            last = send.flush(outbox, config, key)
        assert last.problem is None and last.left == 0 and outbox.pending() == []
        assert last.already + middle.already >= 1  # the message whose answer was lost, told "already"
    finally:
        relay.close()
    received = inbox(site.fleet, site.pharmacy)
    assert [s for s, _ in received] == expected  # once each, in the order queued
    assert [q for _, q in received] == list(range(1, len(expected) + 1))


def _kill_after(site: Site, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(inbox(site.fleet, site.pharmacy)) < count:
        time.sleep(0.02)
    site.server.kill()


def test_every_refusal_over_http_is_answered_and_recorded(site: Site) -> None:
    agent = Agent(site.fleet, site.token, "poste-comptoir")
    api = httpx.Client(base_url=site.server.url, timeout=60)
    document = variant(fixture_document(FAILING), hostname="poste-comptoir", machine="poste-comptoir")
    body = agent.body(document)
    headers = agent.headers(body)

    def post(content: bytes, sent_headers: dict[str, str]) -> httpx.Response:
        return api.post("/api/v1/messages", content=content, headers=sent_headers)

    first = post(body, headers)
    assert first.status_code == 200 and first.json()["instantane"] == document["snapshot_id"]
    assert post(body, headers).json()["code"] == "rejeu"  # the same nonce again
    tampered = body.replace(b"poste-comptoir", b"poste-comptoiR", 1)
    assert post(tampered, agent.headers(body)).json()["code"] == "signature"  # body changed after signing
    other = directory.create_pharmacy(site.fleet, site.admin, "Pharmacie Voisine", "Brest")
    with site.fleet.session() as session:
        other_tenant = session.scalar(select(FleetPharmacyRow.tenant).where(FleetPharmacyRow.id == other))
    fresh = agent.body(None, [])
    assert post(fresh, agent.headers(fresh, tenant=other_tenant)).json()["code"] == "autre_pharmacie"
    stranger = Agent.__new__(Agent)
    stranger.key, stranger.id, stranger.tenant, stranger.sequence = agent.key, "ag_" + "x" * 24, agent.tenant, 0
    assert post(fresh, stranger.headers(fresh)).json()["code"] == "agent_inconnu"
    old = agent.headers(fresh, now=time.time() - 3600)
    assert post(fresh, old).json()["code"] == "horloge"
    far = agent.headers(fresh, now=999_999_999_999)  # year 33658: beyond what a date can hold
    assert post(fresh, far).json()["code"] == "horloge"
    malformed = b'{"format": "officine-cyber/message-agent", "version": 1}'
    assert post(malformed, agent.headers(malformed)).status_code == 400
    at = "2026-11-29T10:00:00+00:00"
    poison = agent.body(
        None, [{"kind": "sentinel", "key": "n", "at": at, "data": {"at": at, "type": "a\x00", "hostname": "p"}}]
    )
    assert post(poison, agent.headers(poison)).json()["code"] == "message_illisible"  # a row PostgreSQL cannot hold
    huge = b" " * (MAX_MESSAGE_BYTES + 1)
    assert post(huge, agent.headers(b"")).status_code == 413
    assert post(b"{}", {"content-type": "application/json"}).json()["code"] == "entetes"
    with site.fleet.session() as session:
        agent_row = session.scalar(select(AgentEventRow.agent_id).limit(1)) or session.scalar(
            select(InboxRow.agent_id).where(InboxRow.pharmacy_id == site.pharmacy)
        )
    assert agent_row is not None
    fleet_agents.revoke(site.fleet, site.admin, agent_row)
    late = agent.body(None, [])
    assert post(late, agent.headers(late)).json()["code"] == "agent_revoque"
    with site.fleet.session() as session:
        reasons = set(session.scalars(select(RefusalRow.reason)))
        assert session.scalar(select(func.count()).select_from(InboxRow)) == 1  # only the first
    assert {"rejeu", "signature", "autre_pharmacie", "agent_inconnu", "horloge", "message_illisible"} <= reasons
    assert {"entetes", "agent_revoque"} <= reasons


def test_an_unreachable_or_missing_database_is_said_in_french(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OFFICINE_FLEET_DATABASE_URL"}
    missing = subprocess.run(
        [sys.executable, "-m", "officine", "fleet", "serve"],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "base PostgreSQL du parc" in missing.stderr
    port = free_port()  # nothing listens there
    down = subprocess.run(
        [
            sys.executable,
            "-m",
            "officine",
            "fleet",
            "serve",
            "--db",
            f"postgresql+psycopg://officine@127.0.0.1:{port}/parc",
        ],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert down.returncode == 2 and "inaccessible" in down.stderr and "Traceback" not in down.stderr
    sqlite = subprocess.run(
        [sys.executable, "-m", "officine", "fleet", "serve", "--db", f"sqlite:///{tmp_path / 'x.db'}"],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert sqlite.returncode == 2 and "PostgreSQL" in sqlite.stderr
    open_network = subprocess.run(
        [
            sys.executable,
            "-m",
            "officine",
            "fleet",
            "serve",
            "--db",
            "postgresql+psycopg://x@127.0.0.1/p",
            "--hote",
            "0.0.0.0",
        ],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert open_network.returncode == 2 and "HTTPS" in open_network.stderr


def test_the_agent_refuses_clear_http_to_another_machine(tmp_path: Path) -> None:
    done = officine(tmp_path, "agent", "inscrire", "http://192.0.2.7/", "--jeton", "abcd")
    assert done.returncode == 2 and "https" in done.stderr
    not_enrolled = officine(tmp_path, "agent", "envoyer", "--sans-instantane")
    assert not_enrolled.returncode == 2 and "pas inscrit" in not_enrolled.stderr


def test_expired_withdrawn_or_unknown_tokens_enrol_nothing(site: Site, tmp_path: Path) -> None:
    expired = enrolment_token(site.fleet, site.admin, site.pharmacy)
    withdrawn = enrolment_token(site.fleet, site.admin, site.pharmacy)
    with site.fleet.transaction() as session:
        rows = session.scalars(select(EnrolmentTokenRow).order_by(EnrolmentTokenRow.id)).all()
        rows[1].expires_at = datetime.now(UTC) - timedelta(seconds=1)
        withdrawn_id = rows[2].id
    fleet_agents.withdraw_token(site.fleet, site.admin, withdrawn_id)
    done = officine(tmp_path / "a", "agent", "inscrire", site.server.url, "--jeton", expired)
    assert done.returncode == 2 and "expiré" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "a/config/agent/agent.json").exists()
    with in_agent(tmp_path / "b"):
        for token in (withdrawn, "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ"):
            with pytest.raises(UserError, match="Inscription refusée"):
                send.enrol(site.server.url, token)
    with site.fleet.session() as session:
        assert session.scalar(select(func.count()).select_from(AgentRow)) == 0
        reasons = sorted(session.scalars(select(RefusalRow.reason)))
    assert reasons == ["jeton_inconnu", "jeton_perime", "jeton_perime"]


def test_a_server_whose_database_went_away_loses_nothing(tmp_path: Path) -> None:
    """The console's database stops while the server runs: the agent is told the server could
    not take the message (503, in French), keeps it, and the server did not crash."""
    with throwaway_postgres() as own:
        db = new_database(own)
        fleet = Fleet(db)
        _, admin = provider(fleet, "InfoPharma Centre")
        pharmacy = directory.create_pharmacy(fleet, admin, "Pharmacie du Lac", "Annecy")
        token = enrolment_token(fleet, admin, pharmacy)
        fleet.engine.dispose()
        server = FleetServer(db, tmp_path / "serveur").start()
        home = tmp_path / "poste"
        assert officine(home, "agent", "inscrire", server.url, "--jeton", token).returncode == 0
    try:  # PostgreSQL is stopped now
        snap, _ = snapshot_file(tmp_path, "sans-base")
        done = officine(home, "agent", "envoyer", "--instantane", str(snap))
        assert done.returncode == 3, done.stderr
        said = " ".join(done.stderr.split())
        assert "n'a pas pu prendre l'envoi" in said and "base de données ne répond pas" in said
        assert "1 message(s) en attente" in said
        assert server.proc is not None and server.proc.poll() is None  # still serving
    finally:
        server.stop()


def test_a_forgotten_console_password_is_replaced_on_the_server(site: Site) -> None:
    username = site.admin.user.username
    new = "Phare-Granit-Goemon-Crepe-29"
    done = subprocess.run(
        [sys.executable, "-m", "officine", "fleet", "reset-password", username, "--db", site.db],
        input=new + "\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert accounts.sign_in(site.fleet.home, username, new, "127.0.0.1")
    with pytest.raises(UserError):
        accounts.sign_in(site.fleet.home, username, PASSWORD, "127.0.0.1")
    unknown = subprocess.run(
        [sys.executable, "-m", "officine", "fleet", "reset-password", "personne", "--db", site.db],
        input=new + "\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert unknown.returncode == 2 and username in unknown.stderr  # names the accounts that exist
