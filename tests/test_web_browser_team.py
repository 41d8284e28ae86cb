"""In Chromium: a web page that rebinds its name to 127.0.0.1 cannot claim the dashboard; a
colleague's account from creation to deactivation; axe-core on the account and team pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from officine.store import Store
from officine.store.models import AnswerRow, UserRow
from test_web_browser import ARGS, CHROMIUM, axe_violations, browser, first_run, menu, page, server
from web_helpers import PASSWORD, Server

pytestmark = pytest.mark.browser
__all__ = ["browser", "page", "server"]  # fixtures used by name below
PAUL = "Verveine-Mortier-Gelule-38"


def users(db: Path) -> list[str]:
    with Session(Store(f"sqlite:///{db}").engine) as session:
        return list(session.scalars(select(UserRow.username)))


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url + "/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile("/connexion"))


@pytest.fixture
def rebinding_browser() -> Iterator[Browser]:
    """Chromium whose resolver sends rebind.test to 127.0.0.1: what a DNS rebinding attack
    achieves with a short-lived DNS answer, without any traffic leaving the machine."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, "--host-resolver-rules=MAP rebind.test 127.0.0.1"])
        yield b
        b.close()


def test_a_rebound_name_cannot_claim_the_dashboard(rebinding_browser: Browser, server: Server) -> None:
    context = rebinding_browser.new_context(locale="fr-FR", bypass_csp=True)
    attacker = context.new_page()
    response = attacker.goto(f"http://rebind.test:{server.port}/installation")
    assert response is not None and response.status == 421
    expect(attacker.get_by_role("heading", level=1)).to_have_text("Adresse non reconnue")
    assert axe_violations(attacker) == []
    assert attacker.locator("form").count() == 0  # no first-run form, no token to steal
    # Even a form crafted by the page, posted to its own (rebound) origin, is refused.
    attacker.set_content(
        f'<form method="post" action="http://rebind.test:{server.port}/installation">'
        '<input name="username" value="intrus"><input name="password" value="x">'
        '<button type="submit">go</button></form>'
    )
    attacker.get_by_role("button", name="go").click()
    expect(attacker.get_by_role("heading", level=1)).to_have_text("Adresse non reconnue")
    context.close()
    assert users(server.db) == []


def test_a_colleague_account_from_creation_to_deactivation(page: Page, server: Server) -> None:
    first_run(page, server)
    page.get_by_role("link", name="Équipe").click()
    page.get_by_label("Nom et prénom").fill("Paul Martin")
    page.get_by_label("Identifiant").fill("paul")
    page.get_by_label(re.compile("^Équipe")).check()
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("status").first).to_contain_text("Compte créé")
    temporary = page.locator(".secret").inner_text()
    expect(page.locator("table.list")).to_contain_text("mot de passe provisoire")
    sign_out(page)

    sign_in(page, server.url, "paul", temporary)
    expect(page).to_have_url(re.compile("/compte"))
    expect(page.get_by_role("heading", name="Choisir votre mot de passe")).to_be_visible()
    page.get_by_label("Mot de passe provisoire reçu").fill(temporary)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(PAUL)
    page.get_by_label("Confirmez le nouveau mot de passe").fill(PAUL)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("bienvenue")
    expect(page.get_by_role("link", name="Équipe")).to_have_count(0)

    page.goto(server.url + "/pratique/SAV")
    form = page.locator('form.question:has(input[name="question"][value="SAV-03.q1"])')
    form.locator('input[value="moins_6_mois"]').check()
    form.get_by_role("button", name="Enregistrer la réponse").click()
    expect(page.locator("#SAV-03")).to_contain_text("Répondu par paul")
    page.goto(server.url + "/equipe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Action réservée")
    menu(page, "Accueil").click()
    sign_out(page)

    sign_in(page, server.url, "marie", PASSWORD)
    page.goto(server.url + "/equipe")
    page.get_by_role("button", name="Désactiver le compte paul").click()
    expect(page.get_by_role("status")).to_contain_text("Compte désactivé")
    expect(page.locator("tr.disabled")).to_contain_text("paul")
    sign_out(page)
    sign_in(page, server.url, "paul", PAUL)
    expect(page.get_by_role("alert")).to_contain_text("désactivé")
    with Session(Store(f"sqlite:///{server.db}").engine) as session:
        assert session.scalar(select(func.count()).select_from(AnswerRow).where(AnswerRow.answered_by == "paul")) == 1


def test_no_serious_accessibility_violation_on_the_account_pages(browser: Browser, server: Server) -> None:
    found: dict[str, list[object]] = {}

    def check(page: Page, name: str) -> None:
        found[name] = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in axe_violations(page)]

    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + "/installation")
    check(page, "installation")
    first_run(page, server)
    page.goto(server.url + "/equipe")
    page.get_by_label("Nom et prénom").fill("Léa Dupont")
    page.get_by_label("Identifiant").fill("lea")
    page.get_by_role("button", name="Créer le compte").click()
    temporary = page.locator(".secret").inner_text()
    check(page, "équipe, mot de passe provisoire affiché")
    page.get_by_role("button", name="Désactiver le compte lea").click()
    check(page, "équipe, compte désactivé")
    page.goto(server.url + "/compte")
    check(page, "mon compte")
    page.goto(server.url + "/equipe/2/desactiver")  # a form address opened as a page
    check(page, "erreur 405")
    page.goto(server.url + "/equipe")
    page.get_by_role("button", name="Réactiver le compte lea").click()
    sign_out(page)
    sign_in(page, server.url, "lea", "faux-mot-de-passe")
    check(page, "connexion refusée")
    context.close()
    # As the colleague, on a phone: choosing a password, then a page the role does not allow.
    context = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True)
    page = context.new_page()
    sign_in(page, server.url, "lea", temporary)
    check(page, "choisir son mot de passe (téléphone)")
    page.get_by_label("Mot de passe provisoire reçu").fill(temporary)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(PAUL)
    page.get_by_label("Confirmez le nouveau mot de passe").fill(PAUL)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.goto(server.url + "/equipe")
    check(page, "action réservée (téléphone)")
    overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    context.close()
    assert not overflow, "horizontal scrolling at 390px"
    assert all(not v for v in found.values()), found
