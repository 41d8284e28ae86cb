"""The dashboard in a real browser: Debian's chromium driven by Playwright (no browser download),
against the real server on loopback. axe-core (npm registry) checks accessibility."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pypdf import PdfReader

from conftest import RootTree
from officine.services.accounts import MAX_FAILURES
from web_helpers import PASSWORD, Server, setup_code, snapshot_file

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "e2e/node_modules/axe-core/axe.min.js"
SHOTS = Path(__file__).parent.parent / "docs/screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with Server(tmp_path / "officine.db") as s:
        yield s


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR", accept_downloads=True)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    """Screenshots for the documentation, refreshed with OFFICINE_SCREENSHOTS=1."""
    if os.environ.get("OFFICINE_SCREENSHOTS"):
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=name != "pratique")


def first_run(page: Page, server: Server, pharmacy: str = "Pharmacie des Tilleuls") -> None:
    page.goto(server.url)
    expect(page).to_have_url(re.compile("/installation$"))
    page.get_by_label("Code d'installation").fill(setup_code(server.db) or "")
    page.get_by_label("Identifiant").fill("marie")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("status")).to_contain_text("Bienvenue")
    page.get_by_label("Nom de la pharmacie").fill(pharmacy)
    page.get_by_label("Adresse").fill("2 rue du Marché, 69000 Lyon")
    page.locator("#prestataire-name").fill("InfoPharma")
    page.locator("#prestataire-phone").fill("04 00 00 00 01")
    page.locator("#team-0-name").fill("Marie Curie")
    page.locator("#team-0-role").select_option("titulaire")
    page.locator("#folder-0-path").fill("/srv/lgo")
    shot(page, "premier-demarrage")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page).to_have_url(re.compile("/postes"))


def menu(page: Page, name: str) -> Any:
    return page.get_by_role("navigation", name="Menu principal").get_by_role("link", name=name, exact=True)


def score(page: Page) -> int:
    return int(page.locator("#score .value").inner_text())


def tile_counts(page: Page, practice: str) -> str:
    return page.locator(f'[data-practice="{practice}"] .tile-counts').inner_text()


def answer(page: Page, practice: str, question: str, value: str) -> None:
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/")[2] + f"/pratique/{practice}")
    form = page.locator(f'form.question:has(input[name="question"][value="{question}"])')
    form.locator(f'input[value="{value}"]').check()
    form.get_by_role("button", name="Enregistrer la réponse").click()
    expect(page.get_by_role("status")).to_contain_text("Réponse enregistrée")


def test_first_run_audit_answers_and_report(page: Page, server: Server) -> None:
    first_run(page, server, "Pharmacie de l'Étoile")
    page.get_by_role("button", name="Auditer ce poste maintenant").click()
    expect(page.locator("#audit-done")).to_be_visible(timeout=120_000)
    page.get_by_role("link", name="Voir le bilan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pharmacie de l'Étoile")
    before = score(page)
    sav_before = tile_counts(page, "SAV")
    assert "à renseigner" in sav_before
    shot(page, "accueil")

    answer(page, "SAV", "SAV-03.q1", "moins_6_mois")
    answer(page, "SAV", "SAV-02.q1", "oui")
    section = page.locator("#SAV-03")
    expect(section.locator(".meta .badge").first).to_have_text("conforme")
    expect(section).to_contain_text("Répondu par marie")
    page.locator("#SAV-03").scroll_into_view_if_needed()
    shot(page, "pratique")

    menu(page, "Accueil").click()
    after = score(page)
    assert after > before
    sav_after = tile_counts(page, "SAV")
    assert sav_after != sav_before and "2 conforme" in sav_after

    menu(page, "Bilan").click()
    expect(page.locator("#report-score")).to_have_text(f"{after} / 100")
    shot(page, "bilan")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le PDF").click()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(download.value.path()).read_bytes())).pages)
    assert "Pharmacie de l'Étoile" in text
    assert f"Note globale : {after} / 100" in text

    menu(page, "Historique").click()
    expect(page.locator("#changes")).to_contain_text("SAV-02")
    shot(page, "historique")


def test_import_tampered_file_wrong_password_and_lock_out(
    page: Page, server: Server, tree: RootTree, tmp_path: Path
) -> None:
    tree.debian()
    good = snapshot_file(tree.path, tmp_path / "comptoir-1.json")
    tampered = tmp_path / "falsifie.json"
    tampered.write_bytes(good.read_bytes().replace(b"comptoir-1", b"comptoir-X", 1))
    first_run(page, server)

    page.get_by_label("Fichier d'instantané").set_input_files(str(tampered))
    page.get_by_role("button", name="Importer et analyser").click()
    expect(page.get_by_role("alert")).to_contain_text("a été modifié ou abîmé depuis la collecte")
    expect(page.locator("table.list")).to_have_count(0)

    page.get_by_label("Fichier d'instantané").set_input_files(str(good))
    page.get_by_role("button", name="Importer et analyser").click()
    expect(page.get_by_role("status")).to_contain_text("Instantané importé")
    expect(page.locator("table.list")).to_contain_text("comptoir-1")
    shot(page, "postes")

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile("/connexion"))
    for _ in range(MAX_FAILURES):
        page.get_by_label("Identifiant").fill("marie")
        page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("alert")).to_contain_text("incorrect")
    page.get_by_label("Identifiant").fill("marie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("connexion bloquée")
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile("/connexion"))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violation_on_the_main_pages(
    browser: Browser, server: Server, tree: RootTree, tmp_path: Path
) -> None:
    tree.debian()
    good = snapshot_file(tree.path, tmp_path / "comptoir-1.json")
    # axe is injected as a script: the page's own CSP (no inline script) is bypassed for the test only.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    # The checker itself must see a real violation, or a silent failure would pass every page.
    page.set_content('<html lang="fr"><body><main><img src="x.png"></main></body></html>')
    assert "image-alt" in {v["id"] for v in axe_violations(page)}
    first_run(page, server)
    page.get_by_label("Fichier d'instantané").set_input_files(str(good))
    page.get_by_role("button", name="Importer et analyser").click()
    answer(page, "SAV", "SAV-03.q1", "moins_6_mois")
    found = {}
    for path in (
        "/",
        "/pratique/SAV",
        "/pratique/MDP",
        "/postes",
        "/historique",
        "/bilan",
        "/parametres",
        "/incident",
        "/compte",
    ):
        page.goto(server.url + path)
        found[path] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in axe_violations(page)]
    for width in (768, 390):  # tablet and phone widths
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(server.url + "/")
        found[f"/ at {width}px"] = [(v["id"], v["impact"]) for v in axe_violations(page)]
        overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"horizontal scrolling at {width}px"
    context.close()
    assert all(not v for v in found.values()), found


def test_keyboard_alone_reaches_the_practices(page: Page, server: Server) -> None:
    first_run(page, server)
    page.goto(server.url + "/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Aller au contenu")
    page.keyboard.press("Enter")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent").strip() == "Auditer ce poste maintenant":
            break
    else:
        pytest.fail("the audit button is not reachable with the keyboard")
