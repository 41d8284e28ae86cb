"""What a workstation recorded (backup runs, a failed drill, a sentinel alarm, an incident
opened) travels with the agent once, even when its cursor is lost; the server turns it into
alerts, sent together in one e-mail through a real SMTP server on loopback (aiosmtpd) and one
webhook call signed with HMAC; sending the same events again sends nothing new; an alert
acknowledged in the console is closed."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from fleet_helpers import enrolment_token, new_database, provider
from fleet_server import FleetServer, free_port
from officine.agent import config as agent_config
from officine.agent import send
from officine.agent.events import cursor_path
from officine.agent.outbox import Outbox
from officine.backup.records import BackupRecords, RunRecord, VerificationRecord
from officine.fleet import alerts, directory
from officine.fleet.models import AgentEventRow, AlertRow, OrganisationRow, PharmacyStatusRow
from officine.fleet.notify import ENV_SECRET_FILE, WEBHOOK_SIGNATURE, webhook_key
from officine.fleet.tenancy import Fleet
from officine.incident.runbook import open_incident
from officine.sentinel.records import EventLog
from officine.store import Store
from pgserver import pg_bin, throwaway_postgres
from test_fleet_agents import in_agent, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        yield url


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Hook.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_events_travel_once_and_alerts_arrive_grouped_by_mail_and_webhook(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    Hook.received = []
    db = new_database(postgres)
    fleet = Fleet(db)
    org, admin = provider(fleet, "InfoPharma Est")
    pharmacy = directory.create_pharmacy(fleet, admin, "Pharmacie de la Gare", "Metz")
    with fleet.transaction() as session:
        row = session.get_one(OrganisationRow, org)
        row.alert_emails = ["astreinte@infopharma.example"]
        row.webhook_url = f"http://127.0.0.1:{hook.server_address[1]}/alertes"
    server_home = tmp_path / "serveur"
    os.environ["OFFICINE_FLEET_ALERT_DELAY_S"] = "0.5"  # inherited by the server process only
    server = FleetServer(
        db,
        server_home,
        # Two server processes: both take jobs from the queue, and still one e-mail, one webhook call.
        extra=[
            "--smtp-hote",
            "127.0.0.1",
            "--smtp-port",
            str(smtp.port),
            "--smtp-securite",
            "aucune",
            "--processus",
            "2",
        ],
    )
    try:
        server.start()
    finally:
        del os.environ["OFFICINE_FLEET_ALERT_DELAY_S"]
    try:
        assert server.proc is not None
        workers = wait_for(lambda: _children(server.proc.pid) if len(_children(server.proc.pid)) >= 2 else None)
        assert len(workers) >= 2
        home = tmp_path / "poste"
        with in_agent(home):
            send.enrol(server.url, enrolment_token(fleet, admin, pharmacy), hostname="poste-comptoir")
            config, key = agent_config.load()
            store = Store()
            records = BackupRecords(store)
            end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
            records.add_run(RunRecord("usb", end - timedelta(minutes=5), end, "success", snapshot_id="abc123"))
            records.add_verification(
                VerificationRecord("usb", end, "failed", message="3 fichiers différents après restauration.")
            )
            EventLog(None, store).write("alarm", paths=["/srv/lgo/a.docx", "/srv/lgo/b.docx"])
            open_incident("Titulaire", "Écran de rançon sur le poste du comptoir")
            outbox = Outbox()
            assert send.queue(outbox, store, None) is not None
            assert send.flush(outbox, config, key).left == 0
            assert send.queue(outbox, store, None) is None  # nothing new since: nothing queued
            # The cursor lost (a restored workstation): everything again, and one new run.
            records.add_run(RunRecord("usb", end, end + timedelta(minutes=5), "success", snapshot_id="def456"))
            cursor_path().unlink()
            send.queue(outbox, store, None)
            result = send.flush(outbox, config, key)
            assert result.left == 0 and result.problem is None
        with fleet.session() as session:
            kinds = sorted(session.scalars(select(AgentEventRow.kind).where(AgentEventRow.pharmacy_id == pharmacy)))
        assert kinds == ["backup_run", "backup_run", "incident", "journal", "sentinel", "verification"]

        mail = wait_for(lambda: mailbox.messages, timeout=120)
        status = wait_for(lambda: _status(fleet, pharmacy), timeout=60)
        assert status.drill_failed and status.sentinel_alarms == 1
        assert status.last_backup_at == end + timedelta(minutes=5)
        assert len(mail) == 1  # one e-mail for all of them
        text = mail[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert mail[0]["To"] == "astreinte@infopharma.example"
        for expected in ("Pharmacie de la Gare", "a échoué", "sentinelle", "Écran de rançon"):
            assert expected in text, expected
        hooks = wait_for(lambda: Hook.received, timeout=60)
        headers, body = hooks[0]
        monkeypatch.setenv(ENV_SECRET_FILE, str(server_home / "config/parc-webhook.key"))  # the server's secret
        signature = hmac.new(webhook_key(org).encode(), body, hashlib.sha256).hexdigest()
        assert headers[WEBHOOK_SIGNATURE.lower()] == f"sha256={signature}"
        sent = json.loads(body)
        assert {a["type"] for a in sent["alertes"]} >= {"exercice_echoue", "sentinelle", "incident"}
        # Acknowledged in the console: closed, and nothing is sent again for it.
        for alert_id in [a["id"] for a in sent["alertes"]]:
            alerts.acknowledge(fleet, admin, alert_id)
        with fleet.session() as session:
            left = session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.acknowledged_at.is_(None)))
        assert left == 0
        assert len(mailbox.messages) == 1 and len(Hook.received) == 1
    finally:
        server.stop()
        smtp.stop()
        hook.shutdown()
        fleet.engine.dispose()


def _status(fleet: Fleet, pharmacy: int) -> PharmacyStatusRow | None:
    with fleet.session() as session:
        status = session.get(PharmacyStatusRow, pharmacy)
        return status if status is not None and status.sentinel_alarms and status.last_backup_at else None


def _children(pid: int) -> list[str]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return found.stdout.split()
