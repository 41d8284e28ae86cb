"""Tenant isolation on every route of the fleet's app: people of provider P (every role) and the
pharmacist of pharmacy A1 ask every route with the identifiers of provider Q's pharmacy B (and,
for the pharmacist, of A2) in the URL and in the form; nothing of B (or A2) comes back, nothing
of it changes. Agents of one pharmacy cannot write into another.

The world is built once for the module (a real PostgreSQL server, the app in process)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fleet_helpers import (
    PASSWORD,
    Agent,
    enrolment_token,
    fixture_document,
    new_database,
    person,
    provider,
    run_jobs,
    variant,
)
from officine.fleet import directory, ingest
from officine.fleet.models import (
    AgentEventRow,
    AgentRow,
    AlertRow,
    ConsoleLogRow,
    EnrolmentTokenRow,
    FleetPharmacyRow,
    InboxRow,
    MembershipRow,
    OrganisationRow,
    RefusalRow,
)
from officine.fleet.tenancy import Fleet
from officine.fleet.web.app import create_fleet_app
from pgserver import pg_bin, throwaway_postgres

pytestmark = pytest.mark.postgres
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SECRET_B = "Pharmacie Secrète de Quimper"
HOST_B = "poste-b-confidentiel"
SECRET_A2 = "Pharmacie Voisine Discrète"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        yield url


@dataclass
class World:
    fleet: Fleet
    app: Any
    a1: int
    a2: int
    b: int
    b_agent_row: int
    b_token_row: int
    b_alert: int
    a2_alert: int
    agent_a1: Agent
    agent_b: Agent
    b_tenant: str


@pytest.fixture(scope="module")
def world(server: str) -> World:
    fleet = Fleet(new_database(server))
    p_org, p_admin = provider(fleet, "InfoPharma P")
    _, q_admin = provider(fleet, "Réseau Q")
    a1 = directory.create_pharmacy(fleet, p_admin, "Pharmacie A1", "Lyon")
    a2 = directory.create_pharmacy(fleet, p_admin, SECRET_A2, "Lyon")
    b = directory.create_pharmacy(fleet, q_admin, SECRET_B, "Quimper")
    for username, role in (("p-tech", "technicien"), ("p-lecture", "lecture")):
        person(fleet, username, role, p_org)
    person(fleet, "pharmacien-a1", "pharmacien", p_org, a1)
    agent_a1 = Agent(fleet, enrolment_token(fleet, p_admin, a1), "poste-a1")
    agent_a2 = Agent(fleet, enrolment_token(fleet, p_admin, a2), "poste-a2-discret")
    agent_b = Agent(fleet, enrolment_token(fleet, q_admin, b), HOST_B)
    enrolment_token(fleet, q_admin, b)  # one still valid
    failing = fixture_document("windows10-fr-non-conforme")
    for agent, host in ((agent_a1, "poste-a1"), (agent_a2, "poste-a2-discret"), (agent_b, HOST_B)):
        now = datetime.now(UTC).isoformat()
        alarm = {"at": now, "type": "alarm", "hostname": host, "paths": ["/srv/lgo/x"]}
        body = agent.body(
            variant(failing, hostname=host, machine=host),
            [{"kind": "sentinel", "key": "1", "at": now, "data": alarm}],
        )
        ingest.receive(fleet, agent.headers(body), body, "127.0.0.1")
    run_jobs(fleet)
    with fleet.session() as session:
        b_agent_row = session.scalar(select(AgentRow.id).where(AgentRow.pharmacy_id == b))
        b_token_row = session.scalar(
            select(EnrolmentTokenRow.id).where(EnrolmentTokenRow.pharmacy_id == b, EnrolmentTokenRow.used_at.is_(None))
        )
        b_alert = session.scalar(select(AlertRow.id).where(AlertRow.pharmacy_id == b))
        a2_alert = session.scalar(select(AlertRow.id).where(AlertRow.pharmacy_id == a2))
        b_tenant = session.scalar(select(FleetPharmacyRow.tenant).where(FleetPharmacyRow.id == b))
    assert b_agent_row and b_token_row and b_alert and a2_alert and b_tenant
    app = create_fleet_app(fleet, allowed_hosts=["testserver"], worker=False)
    return World(fleet, app, a1, a2, b, b_agent_row, b_token_row, b_alert, a2_alert, agent_a1, agent_b, b_tenant)


def signed_in(world: World, username: str) -> TestClient:
    client = TestClient(world.app, base_url="https://testserver", raise_server_exceptions=True)
    page = client.get("/connexion").text
    r = client.post(
        "/connexion",
        data={"csrf": CSRF.search(page).group(1), "username": username, "password": PASSWORD},  # type: ignore[union-attr]
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


def b_state(world: World) -> dict[str, Any]:
    """Everything of Q and B a foreign request could change."""
    with world.fleet.session() as session:
        q = select(FleetPharmacyRow.organisation_id).where(FleetPharmacyRow.id == world.b).scalar_subquery()
        return {
            "agents": session.execute(
                select(AgentRow.id, AgentRow.revoked_at).where(AgentRow.pharmacy_id == world.b)
            ).all(),
            "tokens": session.execute(
                select(EnrolmentTokenRow.id, EnrolmentTokenRow.withdrawn_at, EnrolmentTokenRow.used_at).where(
                    EnrolmentTokenRow.pharmacy_id.in_([world.b, world.a2])
                )
            ).all(),
            "alerts": session.execute(
                select(AlertRow.id, AlertRow.acknowledged_at).where(AlertRow.pharmacy_id.in_([world.b, world.a2]))
            ).all(),
            "pharmacies": session.scalar(
                select(func.count()).select_from(FleetPharmacyRow).where(FleetPharmacyRow.organisation_id == q)
            ),
            "members": session.scalar(
                select(func.count()).select_from(MembershipRow).where(MembershipRow.organisation_id == q)
            ),
            "log": session.scalar(
                select(func.count()).select_from(ConsoleLogRow).where(ConsoleLogRow.organisation_id == q)
            ),
            "inbox": session.scalar(
                select(func.count()).select_from(InboxRow).where(InboxRow.pharmacy_id.in_([world.b, world.a2]))
            ),
            "events": session.scalar(
                select(func.count()).select_from(AgentEventRow).where(AgentEventRow.pharmacy_id == world.b)
            ),
            "settings": session.execute(
                select(OrganisationRow.alert_emails, OrganisationRow.webhook_url).where(OrganisationRow.id == q)
            ).all(),
        }


# Every route of the app, and what it is about. A new route fails this test until it is listed
# here, with the foreign identifiers it takes.
ROUTES = {
    ("GET", "/"),
    ("GET", "/problemes"),
    ("GET", "/alertes"),
    ("POST", "/alertes/{alert_id}/acquitter"),
    ("GET", "/journal"),
    ("GET", "/parametres"),
    ("POST", "/parametres"),
    ("GET", "/personnes"),
    ("POST", "/personnes"),
    ("GET", "/pharmacies/nouvelle"),
    ("POST", "/pharmacies"),
    ("GET", "/pharmacies/{pharmacy_id}"),
    ("POST", "/pharmacies/{pharmacy_id}/jetons"),
    ("POST", "/jetons/{token_id}/retirer"),
    ("POST", "/agents/{agent_id}/revoquer"),
    ("POST", "/pharmacies/{pharmacy_id}/importer"),
    ("GET", "/installation"),
    ("POST", "/installation"),
    ("GET", "/connexion"),
    ("POST", "/connexion"),
    ("POST", "/deconnexion"),
    ("GET", "/compte"),
    ("POST", "/compte"),
    ("POST", "/api/v1/inscription"),
    ("POST", "/api/v1/messages"),
}


def app_routes(routes: list[Any]) -> set[tuple[str, str]]:
    """(method, path) of every route, routers included by the app walked through."""
    found = set()
    for route in routes:
        if isinstance(route, APIRoute):
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            found |= {(m, path) for m in route.methods}
        elif hasattr(route, "original_router"):
            found |= app_routes(route.original_router.routes)
    return found


def test_every_route_is_listed(world: World) -> None:
    assert app_routes(world.app.routes) == ROUTES


def foreign_ids(world: World, username: str) -> dict[str, list[int]]:
    """The identifiers this person must get nothing of: B's (another provider), and for the
    pharmacist of A1 also A2's (the same provider's other pharmacy)."""
    ids = {
        "pharmacy_id": [world.b],
        "agent_id": [world.b_agent_row],
        "token_id": [world.b_token_row],
        "alert_id": [world.b_alert],
    }
    if username == "pharmacien-a1":
        ids["pharmacy_id"].append(world.a2)
        ids["alert_id"].append(world.a2_alert)
    return ids


@pytest.mark.parametrize("username", ["admin-infopharmap", "p-tech", "p-lecture", "pharmacien-a1"])
def test_foreign_identifiers_get_nothing_on_every_route(world: World, username: str) -> None:
    before = b_state(world)
    client = signed_in(world, username)
    token = CSRF.search(client.get("/compte").text).group(1)  # type: ignore[union-attr]
    ids = foreign_ids(world, username)
    secrets = [SECRET_B, HOST_B, world.b_tenant, world.agent_b.id]
    if username == "pharmacien-a1":
        secrets += [SECRET_A2, "poste-a2-discret"]
    seen = 0
    for method, path in sorted(ROUTES):
        if path in ("/deconnexion", "/compte", "/connexion", "/installation"):
            continue  # one's own session: no identifier of anybody else
        names = re.findall(r"\{(\w+)\}", path)
        combos = [dict(zip(names, values, strict=True)) for values in _product([ids[n] for n in names])]
        for params in combos:
            url = path.format(**params)
            form = {
                "csrf": token,
                "pharmacy": str(ids["pharmacy_id"][-1]),
                "name": "Intrus",
                "username": f"intrus-{seen}",
                "role": "pharmacien",
                "emails": "intrus@example.org",
                "webhook": "",
                "mesure": "MAJ-01",
            }
            if method == "GET":
                r = client.get(
                    url, params={"mesure": "MAJ-01", "pharmacy": ids["pharmacy_id"][-1]}, follow_redirects=True
                )
            elif path.endswith("/importer"):
                files = {"snapshot": ("x.json", b"{}", "application/json")}
                r = client.post(url, data=form, files=files, follow_redirects=False)
            else:
                r = client.post(url, data=form, follow_redirects=False)
            seen += 1
            body = r.text
            for secret in secrets:
                assert secret not in body, f"{username} {method} {url} showed {secret!r}"
            if names:
                assert r.status_code in (403, 404), f"{username} {method} {url}: {r.status_code}"
    assert seen >= len(ROUTES) - 7  # every route but one's own session ones
    assert b_state(world) == before  # nothing of B (nor of A2) changed


def _product(lists: list[list[int]]) -> list[tuple[int, ...]]:
    combos: list[tuple[int, ...]] = [()]
    for values in lists:
        combos = [(*c, v) for c in combos for v in values]
    return combos


def test_pharmacist_sees_only_their_pharmacy(world: World) -> None:
    client = signed_in(world, "pharmacien-a1")
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/pharmacies/{world.a1}"
    page = client.get(f"/pharmacies/{world.a1}").text
    assert "Pharmacie A1" in page and "poste-a1" in page
    assert SECRET_A2 not in page and "Créer un jeton" not in page and "Révoquer" not in page
    for url in ("/problemes?mesure=MAJ-01", "/alertes", "/journal", "/parametres", "/personnes"):
        r = client.get(url, follow_redirects=True)
        assert SECRET_A2 not in r.text and "poste-a2-discret" not in r.text, url
        assert f"/pharmacies/{world.a1}" in str(r.url) or r.status_code in (403, 404), url


def test_provider_sees_its_own_pharmacies_only(world: World) -> None:
    client = signed_in(world, "admin-infopharmap")
    table = client.get("/").text
    assert "Pharmacie A1" in table and SECRET_A2 in table and SECRET_B not in table
    problems = client.get("/problemes", params={"mesure": "MAJ-01"}).text
    assert "poste-a1" in problems and "poste-a2-discret" in problems and HOST_B not in problems
    q_client = signed_in(world, "admin-rseauq")
    q_table = q_client.get("/").text
    assert SECRET_B in q_table and "Pharmacie A1" not in q_table


def test_an_agent_cannot_write_into_another_pharmacy(world: World) -> None:
    """Wrong tenant, another agent's id, another workstation's snapshot: refused and logged."""
    fleet, agent = world.fleet, world.agent_a1
    doc = variant(fixture_document("windows11-fr-conforme"), hostname="poste-a1", machine="poste-a1")
    body = agent.body(doc)
    with pytest.raises(ingest.Refused) as wrong_tenant:
        ingest.receive(fleet, agent.headers(body, tenant=world.b_tenant), body, "127.0.0.1")
    assert wrong_tenant.value.code == "autre_pharmacie"
    impostor = agent.headers(body)
    impostor["x-officine-agent"] = world.agent_b.id  # claims to be B's agent, signs with its own key
    with pytest.raises(ingest.Refused) as resigned:
        ingest.receive(fleet, impostor, body, "127.0.0.1")
    assert resigned.value.code == "signature"
    other_host = agent.body(variant(doc, hostname=HOST_B, machine=HOST_B))
    with pytest.raises(ingest.Refused) as other:
        ingest.receive(fleet, agent.headers(other_host), other_host, "127.0.0.1")
    assert other.value.code == "autre_poste"
    with fleet.session() as session:
        assert session.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.pharmacy_id == world.b)) == 1
        reasons = set(session.scalars(select(RefusalRow.reason)))
    assert {"autre_pharmacie", "signature", "autre_poste"} <= reasons
