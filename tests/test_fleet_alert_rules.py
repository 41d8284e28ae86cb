"""Alerts on a bad day, in process on a real PostgreSQL and a real SMTP server on loopback: the
same critical failure in many pharmacies is one e-mail; the same failure sent again is no new
alert; a relay that is down is tried again later without calling the webhook twice; a workstation
silent for more than 48 hours (and only then, and not when revoked) raises one alert."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from fleet_helpers import Agent, enrolment_token, fixture_document, new_database, provider, run_jobs, variant
from fleet_server import free_port
from officine.fleet import agents, alerts, directory, ingest, notify
from officine.fleet.models import AgentRow, AlertRow, NotificationRow, OrganisationRow
from officine.fleet.tenancy import Fleet
from pgserver import pg_bin, throwaway_postgres
from test_fleet_alerts import Hook, Mailbox

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]
PHARMACIES = 6


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alertes"
    server.shutdown()


def send(fleet: Fleet, agent: Agent, host: str, events: list[dict[str, Any]] | None = None) -> None:
    document = variant(fixture_document("windows10-fr-non-conforme"), hostname=host, machine=host)
    body = agent.body(document, events)
    ingest.receive(fleet, agent.headers(body), body, "127.0.0.1")


def test_many_pharmacies_one_email_and_no_second_for_the_same_failure(
    postgres: str, smtp: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, port = smtp
    monkeypatch.setenv("OFFICINE_FLEET_ALERT_DELAY_S", "0")
    monkeypatch.setenv(notify.ENV_RELAY, f'{{"host": "127.0.0.1", "port": {port}, "security": "aucune"}}')
    fleet = Fleet(new_database(postgres))
    org, admin = provider(fleet, "Groupement Sud")
    with fleet.transaction() as session:
        session.get_one(OrganisationRow, org).alert_emails = ["astreinte@groupement.example"]
    pairs = []
    for n in range(PHARMACIES):
        pharmacy = directory.create_pharmacy(fleet, admin, f"Pharmacie numéro {n}", "Nîmes")
        pairs.append((Agent(fleet, enrolment_token(fleet, admin, pharmacy), f"poste-{n}"), f"poste-{n}"))
    for agent, host in pairs:
        send(fleet, agent, host)
    run_jobs(fleet)
    with fleet.session() as session:
        opened = session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.kind == "mesure_critique"))
        pharmacies = session.scalar(select(func.count(func.distinct(AlertRow.pharmacy_id))))
    assert pharmacies == PHARMACIES and opened is not None and opened >= PHARMACIES
    assert len(mailbox.messages) == 1  # every alert of the organisation in one message
    text = mailbox.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert all(f"Pharmacie numéro {n}" in text for n in range(PHARMACIES))
    # The same failures collected again: no new alert, no new e-mail.
    for agent, host in pairs:
        send(fleet, agent, host)
    run_jobs(fleet)
    with fleet.session() as session:
        again = session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.kind == "mesure_critique"))
    assert again == opened and len(mailbox.messages) == 1


def test_a_relay_down_is_tried_again_without_repeating_the_webhook(
    postgres: str, smtp: tuple[Mailbox, int], hook: str
) -> None:
    mailbox, port = smtp
    fleet = Fleet(new_database(postgres))
    org, admin = provider(fleet, "InfoPharma Nord")
    pharmacy = directory.create_pharmacy(fleet, admin, "Pharmacie du Beffroi", "Lille")
    with fleet.transaction() as session:
        row = session.get_one(OrganisationRow, org)
        row.alert_emails, row.webhook_url = ["astreinte@infopharma.example"], hook
        alerts.raise_alert(session, org, pharmacy, "incident", "inc-1", "Incident déclaré : test", datetime.now(UTC))
    down = notify.Relay("127.0.0.1", free_port(), "aucune")  # nothing listens there
    with pytest.raises(RuntimeError, match="courriel"):
        notify.notify(fleet, org, down)
    assert len(Hook.received) == 1 and mailbox.messages == []
    assert notify.notify(fleet, org, notify.Relay("127.0.0.1", port, "aucune")) == 1
    assert len(Hook.received) == 1 and len(mailbox.messages) == 1  # the webhook was not called twice
    assert notify.notify(fleet, org, notify.Relay("127.0.0.1", port, "aucune")) == 0
    with fleet.session() as session:
        failed = session.scalar(
            select(func.count()).select_from(NotificationRow).where(NotificationRow.error.is_not(None))
        )
    assert failed == 1  # the failure is kept


def test_silent_workstations_raise_one_alert_after_48_hours_only(postgres: str) -> None:
    fleet = Fleet(new_database(postgres))
    _, admin = provider(fleet, "InfoPharma Est")
    pharmacy = directory.create_pharmacy(fleet, admin, "Pharmacie de la Place", "Nancy")
    quiet = Agent(fleet, enrolment_token(fleet, admin, pharmacy), "poste-muet")
    recent = Agent(fleet, enrolment_token(fleet, admin, pharmacy), "poste-recent")
    revoked = Agent(fleet, enrolment_token(fleet, admin, pharmacy), "poste-revoque")
    now = datetime.now(UTC)
    with fleet.transaction() as session:
        for agent, hours in ((quiet, 49), (recent, 47), (revoked, 100)):
            session.execute(
                update(AgentRow)
                .where(AgentRow.public_id == agent.id)
                .values(last_contact_at=now - timedelta(hours=hours))
            )
        revoked_id = session.scalar(select(AgentRow.id).where(AgentRow.public_id == revoked.id))
    assert revoked_id is not None
    agents.revoke(fleet, admin, revoked_id)
    assert alerts.silent_agents(fleet, now) == 1
    assert alerts.silent_agents(fleet, now + timedelta(minutes=15)) == 0  # the same, counted again
    with fleet.session() as session:
        rows = session.execute(select(AlertRow.kind, AlertRow.text, AlertRow.occurrences)).all()
    assert len(rows) == 1 and rows[0].kind == "agent_muet" and "poste-muet" in rows[0].text
    assert rows[0].occurrences == 2
