"""Walks in a real browser (Debian's chromium driven by Playwright) through the pages for each
part of the product: a workstation's page and retiring it, the backups with a real restic plan
(a backup and a restore drill started from the page), the incident journal begun on the page
and continued on the command line, and the reverse. axe-core checks every one of these pages."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import RootTree
from helpers import officine
from test_web_browser import ARGS, CHROMIUM, Server, axe_violations, first_run, menu, shot
from web_helpers import snapshot_file

pytestmark = pytest.mark.browser


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
    # axe is injected as a script: the page's own CSP (no inline script) is bypassed for the test only.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR", bypass_csp=True, accept_downloads=True
    )
    yield context.new_page()
    context.close()


def accessible(page: Page) -> None:
    found = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in axe_violations(page)]
    assert not found, f"{page.url}: {found}"


def import_snapshot(page: Page, path: Path) -> None:
    menu(page, "Postes").click()
    page.get_by_label("Fichier d'instantané").set_input_files(str(path))
    page.get_by_role("button", name="Importer et analyser").click()
    expect(page.get_by_role("status")).to_contain_text("Instantané importé")


def test_a_workstation_page_then_retiring_it(page: Page, server: Server, tree: RootTree, tmp_path: Path) -> None:
    tree.debian()
    first = snapshot_file(tree.path, tmp_path / "comptoir-1.json")
    tree.write("/etc/hostname", "reserve-2\n")
    tree.write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    second = snapshot_file(tree.path, tmp_path / "reserve-2.json")
    first_run(page, server)
    import_snapshot(page, first)
    import_snapshot(page, second)
    accessible(page)

    page.get_by_role("link", name="reserve-2", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Poste reserve-2")
    expect(page.locator("#collection")).to_contain_text(re.compile(r"collecté le \d\d/\d\d/\d{4} à \d\d:\d\d"))
    expect(page.locator("#to-fix")).to_contain_text("Blocage après plusieurs échecs")
    accessible(page)
    shot(page, "poste")

    page.get_by_text("Retirer ce poste (remplacé, ou importé par erreur)").click()
    page.get_by_label("Pourquoi (facultatif)").fill("Remplacé par le nouveau poste")
    page.get_by_role("button", name="Retirer ce poste").click()
    expect(page.get_by_role("status")).to_contain_text("Poste retiré")
    expect(page.locator("#retired-note")).to_contain_text("Remplacé par le nouveau poste")
    accessible(page)

    menu(page, "Accueil").click()
    expect(page.locator("#scope")).to_contain_text("sur 1 poste (comptoir-1)")
    expect(page.locator("#scope-change")).to_contain_text("reserve-2 n'y est plus")
    accessible(page)
    menu(page, "Postes").click()
    expect(page.locator("#retired")).to_contain_text("reserve-2")

    page.get_by_role("link", name="guide du prestataire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Guide du prestataire")
    accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le script de collecte Windows (collect.ps1)").click()
    assert download.value.suggested_filename == "collect.ps1"
    assert Path(download.value.path()).read_bytes().startswith(b"\xef\xbb\xbf")

    menu(page, "Historique").click()
    # By default the newest bilan is compared with the last one of the same workstations...
    expect(page.locator("#scope-change")).to_have_count(0)
    # ...and compared with the last bilan of both, the change of workstations is said.
    two = page.locator("#avant option", has_text="2 postes").first.get_attribute("value")
    page.get_by_label("Bilan de référence").select_option(two)
    page.get_by_role("button", name="Comparer").click()
    expect(page.locator("#scope-change")).to_contain_text("reserve-2 n'est plus compté")
    accessible(page)


@pytest.mark.skipif(shutil.which("restic") is None, reason="restic not installed")
def test_backups_run_and_drilled_from_the_page(page: Page, server: Server, tmp_path: Path) -> None:
    from officine.backup.guardian import init_destination
    from officine.services.backup import Guardian, add_destination, plan_init

    first_run(page, server)
    menu(page, "Sauvegardes").click()
    expect(page.locator("#no-plan")).to_contain_text("officine backup plan init")
    accessible(page)

    src = tmp_path / "lgo"
    src.mkdir()
    for i in range(20):
        (src / f"dossier-patient-{i}.txt").write_text(f"patient {i}\n" * (10 + i), encoding="utf-8")
    plan_init([], [src])
    add_destination(
        dest_id="disque-1",
        label="Disque du lundi",
        kind="disk",
        place="pharmacie",
        repository=str(tmp_path / "disque" / "restic"),
        password_file=None,
    )
    g = Guardian.open(store_url=f"sqlite:///{tmp_path / 'officine.db'}")
    init_destination(g.plan.destinations[0], g.restic)

    page.reload()
    expect(page.locator("#sources")).to_contain_text(str(src))
    page.get_by_role("button", name="Sauvegarder maintenant").click()
    expect(page.locator("#job-done")).to_be_visible(timeout=120_000)
    expect(page.locator("#job-results")).to_contain_text("réussie (20 fichiers)")
    accessible(page)
    page.get_by_role("link", name="Revenir aux sauvegardes").click()
    expect(page.locator("#dest-disque-1 .last-run")).to_contain_text("réussie")

    page.get_by_role("button", name="Tester une restauration maintenant").click()
    expect(page.locator("#job-done")).to_be_visible(timeout=120_000)
    expect(page.locator("#job-results")).to_contain_text("20 fichiers restaurés et comparés")
    page.get_by_role("link", name="Revenir aux sauvegardes").click()
    expect(page.locator("#dest-disque-1 .last-drill")).to_contain_text("20 fichiers restaurés")
    expect(page.locator("#sav-verdicts")).to_contain_text("Restauration d'essai réussie")
    accessible(page)
    shot(page, "sauvegardes")


def test_an_incident_begun_on_the_page_and_continued_on_the_command_line(
    page: Page, server: Server, tmp_path: Path
) -> None:
    first_run(page, server)
    page.get_by_role("link", name="En cas d'attaque").click()
    accessible(page)
    page.get_by_label("Ce qui se passe, en une phrase").fill("Fichiers renommés en .lock sur le comptoir")
    page.get_by_label("Coupez le réseau de ce poste").select_option("Marie Curie")
    page.get_by_role("button", name="Commencer l'incident").click()
    expect(page.get_by_role("status")).to_contain_text("Incident commencé")
    expect(page.locator("#en-cours")).to_contain_text("Fichiers renommés en .lock")
    step = page.locator("#etape-debrancher")
    expect(step).to_contain_text("Confiée à Marie Curie")
    step.get_by_label("Note (facultatif)").fill("câble retiré à 9h02")
    step.get_by_role("button", name="C'est fait").click()
    expect(page.locator("#etape-debrancher .step-state")).to_contain_text("par marie : « câble retiré à 9h02 »")
    accessible(page)
    shot(page, "incident")

    script = tmp_path / "suite.yaml"
    script.write_text("by: Paul Martin\nsteps:\n  laisser_allume: fait\n", encoding="utf-8")
    cli = officine("incident", "start", "--script", str(script))
    assert cli.returncode == 0 and "Coupez le réseau" not in cli.stdout, cli.stdout + cli.stderr
    page.reload()
    expect(page.locator("#etape-laisser_allume .step-state")).to_contain_text("Fait le")
    expect(page.locator("#etape-laisser_allume .step-state")).to_contain_text("par Paul Martin")
    expect(page.locator("#journal-intact")).to_be_visible()


def test_an_incident_begun_on_the_command_line_is_continued_on_the_page(
    page: Page, server: Server, tmp_path: Path
) -> None:
    script = tmp_path / "debut.yaml"
    script.write_text("by: Paul Martin\nsummary: Courriel piégé ouvert\nsteps:\n  debrancher: fait\n", encoding="utf-8")
    assert officine("incident", "start", "--script", str(script)).returncode == 0
    first_run(page, server)
    page.get_by_role("link", name="En cas d'attaque").click()
    expect(page.locator("#en-cours")).to_contain_text("Courriel piégé ouvert")
    expect(page.locator("#etape-debrancher .step-state")).to_contain_text("par Paul Martin")
    page.locator("#etape-prestataire").get_by_role("button", name="C'est fait").click()
    expect(page.locator("#etape-prestataire .step-state")).to_contain_text("par marie")
    status = officine("incident", "status").stdout
    line = next(line for line in status.splitlines() if "Appelez votre prestataire" in line)
    assert "✔" in line and "marie" in line
