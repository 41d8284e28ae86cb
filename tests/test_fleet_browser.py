"""The console in Chromium, with the server in its own process on a real PostgreSQL and a real
SMTP server on loopback: the provider signs in for the first time, sets where alerts go,
creates a pharmacy and a token; an agent enrols with it and reports; a failing measure shows in
"which pharmacies have this problem"; the alert e-mail arrives; a pharmacist's account sees its
pharmacy only; the audit log lists what was done."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from fleet_helpers import envelope_of, fixture_document, new_database, variant
from fleet_server import FleetServer, free_port
from officine.fleet.models import FindingRow
from officine.fleet.tenancy import Fleet
from officine.services import accounts
from pgserver import pg_bin, throwaway_postgres
from test_fleet_agents import inbox, judged, officine, wait_for
from test_fleet_alerts import Mailbox
from test_web_browser import ARGS, CHROMIUM, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(300)]
ADMIN_PASSWORD = "Officine-Console-Parc-2026"
PHARMACIST_PASSWORD = "Mortier-Pilon-Tisane-77"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser: Browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", bypass_csp=True)
        yield context.new_page()
        context.close()
        browser.close()


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name=name, exact=True).click()


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url + "connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_console_walk(page: Page, postgres: str, tmp_path: Path) -> None:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    db = new_database(postgres)
    fleet = Fleet(db)
    code = accounts.ensure_setup_code(fleet.home)  # the server shows this one in its terminal
    os.environ["OFFICINE_FLEET_ALERT_DELAY_S"] = "0.5"
    relay = ["--smtp-hote", "127.0.0.1", "--smtp-port", str(smtp.port), "--smtp-securite", "aucune"]
    server = FleetServer(db, tmp_path / "serveur", extra=relay)
    try:
        server.start()
    finally:
        del os.environ["OFFICINE_FLEET_ALERT_DELAY_S"]
    url = server.url
    try:
        # First run: the provider's organisation and administrator.
        page.goto(url)
        expect(page).to_have_url(re.compile("/installation$"))
        page.get_by_label("Code d'installation").fill(str(code))
        page.get_by_label("Nom de l'organisation").fill("InfoPharma Bretagne")
        page.get_by_label("Identifiant").fill("admin")
        page.get_by_label("Mot de passe", exact=True).fill(ADMIN_PASSWORD)
        page.get_by_label("Confirmez le mot de passe").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Créer l'organisation et le compte").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Les pharmacies du parc")
        assert (found := axe_violations(page)) == [], [[n["html"] for n in v["nodes"]] for v in found]
        # Where alerts go.
        menu(page, "Paramètres")
        page.get_by_label("Adresses qui reçoivent les alertes par courriel").fill("astreinte@infopharma.example")
        page.get_by_role("button", name="Enregistrer").click()
        # Two pharmacies; a token for the first.
        for name, city in (("Pharmacie du Port", "Brest"), ("Pharmacie des Halles", "Quimper")):
            menu(page, "Pharmacies")
            page.get_by_role("link", name="Ajouter une pharmacie").click()
            page.get_by_label("Nom de la pharmacie").fill(name)
            page.get_by_label("Ville").fill(city)
            page.get_by_role("button", name="Créer la pharmacie").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        other_url = page.url
        menu(page, "Pharmacies")
        page.get_by_role("link", name="Pharmacie du Port").click()
        port_url = page.url
        page.get_by_role("button", name="Créer un jeton d'inscription").click()
        token = page.locator("#jeton").inner_text()
        assert (found := axe_violations(page)) == [], [[n["html"] for n in v["nodes"]] for v in found]
        # The workstation enrols and reports.
        home = tmp_path / "poste"
        done = officine(home, "agent", "inscrire", url, "--jeton", token, "--poste", "poste-comptoir")
        assert done.returncode == 0, done.stderr
        document = variant(fixture_document("windows10-fr-non-conforme"), hostname="poste-comptoir", machine="pc")
        snap = tmp_path / "instantane.json"
        snap.write_text(json.dumps(document), encoding="utf-8")
        sent = officine(home, "agent", "envoyer", "--instantane", str(snap))
        assert sent.returncode == 0, sent.stderr
        pharmacy_id = int(port_url.rstrip("/").rsplit("/", 1)[1])
        assert len(inbox(fleet, pharmacy_id)) == 1
        wait_for(lambda: judged(fleet, pharmacy_id))
        with fleet.session() as session:
            failing = session.scalar(
                select(FindingRow.measure_id)
                .where(FindingRow.pharmacy_id == pharmacy_id, FindingRow.verdict == "fail")
                .order_by(FindingRow.measure_id)
                .limit(1)
            )
        assert failing is not None
        menu(page, "Pharmacies")
        row = page.locator("#pharmacies tr", has_text="Pharmacie du Port")
        assert row.locator(".score-cell").inner_text().strip().isdigit()
        # Which pharmacies have this problem.
        menu(page, "Problèmes")
        page.get_by_label("Mesure", exact=True).select_option(failing)
        page.get_by_role("button", name="Chercher").click()
        table = page.locator("#problemes")
        expect(table).to_contain_text("Pharmacie du Port")
        expect(table).to_contain_text("poste-comptoir")
        expect(table).not_to_contain_text("Pharmacie des Halles")
        assert (found := axe_violations(page)) == [], [[n["html"] for n in v["nodes"]] for v in found]
        # The alert e-mail.
        mail = wait_for(lambda: mailbox.messages, timeout=120)
        assert "Pharmacie du Port" in mail[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
        # The alerts, acknowledged one by one in the console.
        menu(page, "Alertes")
        expect(page.locator("#alertes")).to_contain_text("Mesure critique non conforme")
        assert axe_violations(page) == []
        opened = page.get_by_role("button", name=re.compile("^Acquitter")).count()
        assert opened >= 1
        page.get_by_role("button", name=re.compile("^Acquitter")).first.click()
        expect(page.get_by_role("button", name=re.compile("^Acquitter"))).to_have_count(opened - 1)
        page.get_by_role("link", name="Voir aussi les alertes acquittées").click()
        expect(page.locator("#alertes")).to_contain_text("acquittée par admin")
        # A workstation without Python: the PowerShell collector's envelope uploaded in the console.
        page.goto(other_url)
        envelope = tmp_path / "collecte-windows.json"
        halles = variant(fixture_document("windows11-fr-conforme"), hostname="poste-halles", machine="halles")
        envelope.write_bytes(envelope_of(halles))
        page.get_by_label(re.compile("collecteur PowerShell")).set_input_files(str(envelope))
        page.get_by_role("button", name="Importer").click()
        halles_id = int(re.search(r"/pharmacies/([0-9]+)", other_url).group(1))  # type: ignore[union-attr]
        assert inbox(fleet, halles_id) == [(halles["snapshot_id"], None)]
        wait_for(lambda: judged(fleet, halles_id))
        page.reload()
        expect(page.locator("#score .value")).to_have_text(re.compile(r"^[0-9]+$"))
        expect(page.locator("#postes")).to_contain_text("poste-halles")
        # A pharmacist of the first pharmacy.
        menu(page, "Personnes")
        page.get_by_label("Identifiant").fill("titulaire-port")
        page.get_by_label("Nom", exact=True).fill("Anne Le Goff")
        page.get_by_label("Rôle").select_option("pharmacien")
        page.get_by_label("Pharmacie (pour un pharmacien)").select_option(label="Pharmacie du Port")
        page.get_by_role("button", name="Créer le compte").click()
        temporary = page.locator("#temporary .secret").inner_text()
        # A second workstation, then its agent revoked in the console: its sending is refused.
        menu(page, "Pharmacies")
        page.get_by_role("link", name="Pharmacie du Port").click()
        page.get_by_role("button", name="Créer un jeton d'inscription").click()
        second = tmp_path / "poste-2"
        enrol = officine(second, "agent", "inscrire", url, "--jeton", page.locator("#jeton").inner_text())
        assert enrol.returncode == 0, enrol.stderr
        page.reload()
        page.get_by_role("button", name="Révoquer l'agent de " + socket.gethostname()).click()
        expect(page.locator("#agents")).to_contain_text("révoqué par admin")
        refused = officine(second, "agent", "envoyer", "--instantane", str(snap))
        assert refused.returncode == 3 and "révoqué" in refused.stderr
        menu(page, "Journal")
        for action in ("Pharmacie du Port", "titulaire-port", "jeton d'inscription créé", "agent révoqué"):
            expect(page.locator("main")).to_contain_text(action)
        page.get_by_role("button", name="Se déconnecter").click()
        sign_in(page, url, "titulaire-port", temporary)
        page.get_by_label("Mot de passe provisoire reçu").fill(temporary)
        page.get_by_label("Nouveau mot de passe", exact=True).fill(PHARMACIST_PASSWORD)
        page.get_by_label("Confirmez le nouveau mot de passe").fill(PHARMACIST_PASSWORD)
        page.get_by_role("button", name="Enregistrer mon mot de passe").click()
        menu(page, "Ma pharmacie")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Pharmacie du Port")
        response = page.goto(other_url)
        assert response is not None and response.status == 404
        expect(page.locator("body")).not_to_contain_text("Pharmacie des Halles")
        page.goto(url + "problemes?mesure=" + failing)
        expect(page.locator("body")).not_to_contain_text("Pharmacie des Halles")
    finally:
        banner = " ".join(server.stop().split())
        smtp.stop()
        fleet.engine.dispose()
    assert f"Code d'installation : {code}" in banner  # what the first-run page asked for
