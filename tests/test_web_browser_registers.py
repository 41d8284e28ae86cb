"""In Chromium: the pharmacist reviews the pre-filled processing register, records a destroyed
disk and a lost CPS card (a refused field keeps what was typed); a provider answers the
questionnaire through its one-time link, which then no longer works; the signed PDF verifies;
a PDF with one changed byte, a signature by another key and an expired link are each refused in
French. axe-core finds no serious violation on the register pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from officine.registers import questionnaire, signing
from officine.store import Store
from officine.store.models import QuestionnaireRequestRow
from test_web_browser import axe_violations, browser, first_run, menu, server
from web_helpers import Server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # fixtures used by name below
KEY_PASSWORD = "Cle-du-prestataire-2026"
T = TypeVar("T")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page where axe-core can be injected (the dashboard's CSP forbids inline scripts)."""
    context = browser.new_context(locale="fr-FR", accept_downloads=True, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_review_register_record_a_disk_and_a_lost_card(page: Page, server: Server) -> None:
    first_run(page, server)
    menu(page, "Registres").click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Registre des traitements").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registre des traitements")
    expect(page.locator("table.register")).to_contain_text("Dossier pharmaceutique (DP)")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Ouvrir l'entrée n° 2").click()
    expect(page.locator("main")).to_contain_text("Jamais relu")
    page.get_by_label("Durée de conservation").fill("Gérée par l'hébergeur du DP (décret n° 2015-225).")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_role("status").first).to_contain_text("Modification enregistrée")
    expect(page.locator("main")).to_contain_text("Relu le")
    expect(page.locator(".history")).to_contain_text("proposé par officine-cyber")

    page.goto(server.url + "/registres/destructions")
    form = page.locator("#ajouter")
    form.get_by_label("Identifiant du support").fill("WD-WCC4E1234567")
    form.get_by_label("Type de support").select_option("disque_dur")
    form.get_by_label("Ce qu'il contenait").fill("Base du logiciel d'officine 2015-2024")
    form.get_by_label("Méthode").select_option("destruction_physique")
    form.get_by_label("Réalisée par").fill("Jean Martin (InfoPharma)")
    form.locator("#new-date").fill((date.today() + timedelta(days=5)).isoformat())
    form.get_by_role("button", name="Enregistrer").click()
    # Refused in French, the field marked, everything typed still there.
    expect(page.locator(".field-error").first).to_contain_text("futur")
    expect(page.locator("#ajouter").get_by_label("Identifiant du support")).to_have_value("WD-WCC4E1234567")
    page.locator("#new-date").fill(date.today().isoformat())
    page.locator("#ajouter").get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").first).to_contain_text("Entrée enregistrée")
    expect(page.locator("table.register")).to_contain_text("WD-WCC4E1234567")

    page.goto(server.url + "/registres/cartes")
    form = page.locator("#ajouter")
    form.get_by_label("Titulaire de la carte").fill("Paul Martin")
    form.locator("#new-type").select_option("cps")
    form.get_by_label("État").select_option("perdue")
    form.get_by_label("Date de la perte ou du vol").fill((date.today() - timedelta(days=1)).isoformat())
    form.get_by_label("Opposition faite le").fill(date.today().isoformat())
    form.get_by_label("Déclarée à").fill("Assurance maladie, par téléphone")
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("table.register")).to_contain_text("Perdue")
    assert axe_violations(page) == []
    # The verdict reads the register, naming the entry.
    page.goto(server.url + "/pratique/CPS")
    expect(page.locator("main")).to_contain_text("Carte n° 1 « Paul Martin » : perdue le")
    page.goto(server.url + "/pratique/DES")
    expect(page.locator("main")).to_contain_text("Destruction n° 1 « WD-WCC4E1234567 »")


def add_provider(page: Page, server: Server) -> None:
    page.goto(server.url + "/registres/prestataires")
    form = page.locator("#ajouter")
    form.get_by_label("Nom du prestataire").fill("InfoPharma")
    form.get_by_label("Service rendu").fill("Maintenance des postes")
    form.get_by_label("Clause de sous-traitance (article 28 du RGPD) signée").check()
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("table.register")).to_contain_text("InfoPharma")


def ask_link(page: Page, server: Server) -> str:
    page.goto(server.url + "/registres/prestataires/1")
    page.get_by_role("button", name="Demander le questionnaire").click()
    link = page.locator("#lien").inner_text()
    assert link.startswith(server.url + "/questionnaire/")
    return link


def answer_all(provider: Page) -> None:
    for item in questionnaire.items():
        values = [c["value"] for c in item["choices"]]
        value = "sans_objet" if "sans_objet" in values else values[0]
        provider.locator(f'input[name="{item["id"]}"][value="{value}"]').check()


def test_provider_answers_through_the_one_time_link(
    browser: Browser, page: Page, server: Server, tmp_path: Path
) -> None:
    first_run(page, server)
    add_provider(page, server)
    link = ask_link(page, server)

    context = browser.new_context(locale="fr-FR", accept_downloads=True, bypass_csp=True)  # the provider: no account
    provider = context.new_page()
    provider.goto(link)
    expect(provider.get_by_role("heading", level=1)).to_have_text("Questionnaire de sécurité du prestataire")
    assert axe_violations(provider) == []
    certificate = provider.locator("#creer-certificat")
    certificate.get_by_label("Votre nom").fill("Jean Martin")
    certificate.get_by_label("Votre société").fill("InfoPharma")
    certificate.get_by_label(re.compile("Mot de passe du certificat")).fill(KEY_PASSWORD)
    with provider.expect_download() as download:
        certificate.get_by_role("button", name="Créer et télécharger mon certificat").click()
    p12 = tmp_path / "certificat.p12"
    download.value.save_as(p12)
    answer_all(provider)
    provider.locator("#reponses").get_by_label("Votre certificat et sa clé (fichier .p12 ou .pfx)").set_input_files(p12)
    provider.locator("#reponses").get_by_label("Mot de passe du certificat").fill(KEY_PASSWORD)
    provider.get_by_role("button", name="Signer et envoyer mes réponses").click()
    expect(provider.locator("#signe")).to_contain_text("Jean Martin")
    expect(provider.locator("main")).to_contain_text("auto-signé")
    provider.goto(link)  # spent
    expect(provider.locator("main")).to_contain_text("ne sert qu'une fois")
    context.close()

    page.goto(server.url + "/questionnaires")
    expect(page.locator("table")).to_contain_text("InfoPharma")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Télécharger")).click()
    signed = tmp_path / "signe.pdf"
    download.value.save_as(signed)
    pdf = signed.read_bytes()
    assert "Jean Martin" in off_loop(signing.verify_pdf, pdf).signer  # the signed PDF verifies

    # A PDF with one changed byte, then one signed by another key: each refused in French.
    changed = tmp_path / "change.pdf"
    data = bytearray(pdf)
    data[len(data) // 3] ^= 0x01
    changed.write_bytes(bytes(data))
    page.get_by_label("Le PDF signé renvoyé par le prestataire").set_input_files(changed)
    page.get_by_role("button", name="Vérifier et importer").click()
    expect(page.get_by_role("alert")).to_contain_text("Le PDF est refusé")

    store = Store(f"sqlite:///{server.db}")
    req = questionnaire.request(store, 1, "titulaire")
    other = signing.load_identity(signing.create_identity("Jean Martin", "InfoPharma", "", KEY_PASSWORD), KEY_PASSWORD)
    forged = tmp_path / "autre-cle.pdf"
    form = questionnaire.form_document(store, req, "Pharmacie")
    forged.write_bytes(off_loop(questionnaire.sign, form, answers(), other))
    page.get_by_label("Le PDF signé renvoyé par le prestataire").set_input_files(forged)
    page.get_by_role("button", name="Vérifier et importer").click()
    expect(page.get_by_role("alert")).to_contain_text("signé par une autre clé")


def off_loop(func: Callable[..., T], *args: Any) -> T:
    """pyHanko runs its own asyncio loop: not inside the one Playwright's sync API keeps running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(func, *args).result()


def answers() -> dict[str, dict[str, str]]:
    found = {}
    for item in questionnaire.items():
        values = [c["value"] for c in item["choices"]]
        found[item["id"]] = {"reponse": "sans_objet" if "sans_objet" in values else values[0]}
    return found


def test_an_expired_link_is_refused(browser: Browser, page: Page, server: Server) -> None:
    first_run(page, server)
    add_provider(page, server)
    link = ask_link(page, server)
    with Session(Store(f"sqlite:///{server.db}").engine) as session, session.begin():
        session.execute(update(QuestionnaireRequestRow).values(expires_at=datetime.now(UTC) - timedelta(hours=1)))
    context = browser.new_context(locale="fr-FR")
    provider = context.new_page()
    provider.goto(link)
    expect(provider.locator("main")).to_contain_text("Ce lien a expiré")
    assert provider.locator("#reponses").count() == 0
    context.close()
