"""The dashboard's pages for each part of the product, over HTTP (in-process client): the score's
scope, a page per workstation and retiring one, the Windows script and the provider guide, the
backups with a real restic plan, the incident journal shared with the command line.
Real-browser walks of the same pages are in test_web_browser.py."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import RootTree
from helpers import officine
from officine.incident.runbook import incidents_dir
from officine.services.audit import run_audit
from web_helpers import PASSWORD, new_client, post, signed_in, snapshot_file


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "officine.db"


@pytest.fixture
def two_machines(tree: RootTree, tmp_path: Path) -> tuple[Path, Path]:
    """comptoir-1 and reserve-2: the same Debian system under two identities."""
    tree.debian()
    first = snapshot_file(tree.path, tmp_path / "comptoir-1.json")
    tree.write("/etc/hostname", "reserve-2\n")
    tree.write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    return first, snapshot_file(tree.path, tmp_path / "reserve-2.json")


class _Element(HTMLParser):
    """The text inside the element with a given id (nested elements included)."""

    VOID = ("br", "img", "input", "meta", "link", "hr", "col", "source")

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id, self.depth, self.found, self.parts = element_id, 0, False, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id and not self.found:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def text_of(page: str, element_id: str) -> str:
    """The visible text of one element, whitespace collapsed."""
    parser = _Element(element_id)
    parser.feed(page)
    assert parser.found, f"no element {element_id}"
    return " ".join(" ".join(parser.parts).split())


def plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def import_file(client: TestClient, path: Path) -> None:
    r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": (path.name, path.read_bytes())})
    assert r.status_code == 303, r.text


# -- score scope ------------------------------------------------------------------------------------


def test_a_score_says_which_workstations_it_covers_and_a_new_one_is_not_a_drop(
    db: Path, two_machines: tuple[Path, Path]
) -> None:
    """The issue's case: `officine audit` of one machine, then the dashboard judges two."""
    first, second = two_machines
    url = f"sqlite:///{db}"
    client = signed_in(db)
    run_audit(from_files=[first], store_url=url)  # the command line: comptoir-1 alone
    import_file(client, second)  # the dashboard now judges comptoir-1 and reserve-2
    home = client.get("/").text
    assert "en baisse" not in home and 'id="trend"' not in home  # nothing to compare like with like
    assert text_of(home, "scope").startswith("Note de sécurité de la pharmacie sur 2 postes (comptoir-1 et reserve-2)")
    change = text_of(home, "scope-change")
    assert "portait sur 1 poste (comptoir-1)" in change and "reserve-2 s'y ajoute" in change
    assert "ne se comparent pas" in change

    # Again: comptoir-1 alone on the command line, then the dashboard re-judges both. Nothing
    # changed on either machine: the same two workstations compare as "stable", and the
    # command-line audit of one of them is no workstation removed.
    run_audit(from_files=[first], store_url=url)
    home = client.get("/").text
    assert 'id="scope-change"' not in home
    assert re.search(
        r'id="trend">stable</span> depuis le bilan du \d\d/\d\d/\d{4} à \d\d:\d\d sur les mêmes postes', home
    )

    # The history compares like with like by default; chosen by hand, a change of scope is said.
    page = client.get("/historique").text
    assert 'id="scope-change"' not in page and "Aucune mesure n'a changé" in page
    audits = [int(i) for i in re.findall(r'<option value="(\d+)"', page.split('id="apres"')[0])]
    cli_audit = 1  # the first audit: comptoir-1 on the command line
    assert "(audit en ligne de commande)" in page and cli_audit in audits
    page = client.get(f"/historique?avant={cli_audit}&apres={max(audits)}").text
    assert "reserve-2 s'ajoute" in text_of(page, "scope-change")


def test_the_command_line_history_compares_the_same_workstations(db: Path, two_machines: tuple[Path, Path]) -> None:
    first, second = two_machines
    url = f"sqlite:///{db}"
    run_audit(from_files=[first], store_url=url)
    run_audit(from_files=[first, second], store_url=url)
    run_audit(from_files=[first], store_url=url)
    out = officine("history", "--db", url).stdout.splitlines()
    assert len(out) == 3
    assert "(" not in out[0].split("note")[1].split("poste")[0]  # first audit: nothing to compare
    assert "2 postes : comptoir-1, reserve-2" in out[1] and "(+" not in out[1] and "(-" not in out[1]
    assert re.search(r"note \d+ \(\+0\)  1 poste : comptoir-1", out[2])  # like with like: audit n° 1
    assert re.match(r"n° 1  \d\d/\d\d/\d{4} à \d\d:\d\d  note", out[0])  # a French date, Paris time


# -- workstations -----------------------------------------------------------------------------------


def test_a_page_per_workstation_and_retiring_one(
    db: Path, two_machines: tuple[Path, Path], tree: RootTree, tmp_path: Path
) -> None:
    first, second = two_machines
    client = signed_in(db)
    import_file(client, first)
    import_file(client, second)
    listing = client.get("/postes").text
    ids = dict((name, int(i)) for i, name in re.findall(r'<a href="/postes/(\d+)">([^<]+)</a>', listing))
    assert set(ids) == {"comptoir-1", "reserve-2"}

    page = client.get(f"/postes/{ids['reserve-2']}").text
    collection = text_of(page, "collection")
    # Collected by this test's account from a mounted tree: with or without rights, it says which.
    assert re.search(r"collecté le \d\d/\d\d/\d{4} à \d\d:\d\d", collection)
    assert ("avec droits administrateur" in collection) != ("sans droits administrateur" in collection)
    # The Debian tree accepts 6-character passwords and never locks an account: both fail here.
    to_fix = text_of(page, "to-fix")
    assert "Mots de passe d'au moins 12 caractères" in to_fix and "Blocage après plusieurs échecs" in to_fix
    assert "1 collecte" in collection and text_of(page, "host-history")

    r = post(
        client, f"/postes/{ids['reserve-2']}", f"/postes/{ids['reserve-2']}/retirer", {"reason": "Remplacé en mars"}
    )
    assert r.status_code == 303
    page = client.get(f"/postes/{ids['reserve-2']}").text
    assert "Remplacé en mars" in text_of(page, "retired-note")
    assert "reserve-2" in text_of(client.get("/postes").text, "retired")
    home = client.get("/").text
    assert text_of(home, "scope").startswith("Note de sécurité de la pharmacie sur 1 poste (comptoir-1)")
    assert "reserve-2 n'y est plus" in text_of(home, "scope-change")
    assert [h["hostname"] for h in client.get("/bilan.json").json()["hosts"]] == ["comptoir-1"]
    # Retiring twice is refused in French; unknown and absurd ids are pages that do not exist.
    again = post(client, f"/postes/{ids['reserve-2']}", f"/postes/{ids['reserve-2']}/retirer", {})
    assert again.status_code == 400 and "déjà retiré" in again.text
    assert client.get("/postes/999").status_code == 404
    assert client.get("/postes/" + "9" * 23).status_code == 404

    # A new collection of the retired workstation puts it back in service.
    tree.write("/etc/hostname", "reserve-2\n")
    time.sleep(1.1)  # a later collection time
    newer = snapshot_file(tree.path, tmp_path / "reserve-2-bis.json")
    import_file(client, newer)
    assert 'id="retired"' not in client.get("/postes").text
    assert "2 postes" in text_of(client.get("/").text, "scope")


def test_reinstating_a_workstation_retired_by_mistake(db: Path, two_machines: tuple[Path, Path]) -> None:
    first, second = two_machines
    client = signed_in(db)
    import_file(client, first)
    import_file(client, second)
    post(client, "/postes/2", "/postes/2/retirer", {})
    assert "1 poste" in text_of(client.get("/").text, "scope")
    r = post(client, "/postes/2", "/postes/2/remettre", {})
    assert r.status_code == 303
    assert "2 postes" in text_of(client.get("/").text, "scope")


def test_windows_script_and_provider_guide_for_signed_in_users(db: Path) -> None:
    assert new_client(db).get("/postes/collecte-windows.ps1", follow_redirects=False).status_code == 303
    client = signed_in(db)
    r = client.get("/postes/collecte-windows.ps1")
    assert r.headers["content-disposition"] == 'attachment; filename="collect.ps1"'
    body = r.content
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, what PowerShell 5.1 reads
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    assert b"officine-cyber" in body
    guide = client.get("/postes/guide-prestataire").text
    assert "<h1>Guide du prestataire" in guide and "<code>" in guide
    assert 'href="/postes/collecte-windows.ps1"' in guide
    assert 'href="/postes/guide-prestataire"' in client.get("/postes").text


# -- backups ---------------------------------------------------------------------------------------


def wait_for(client: TestClient, url: str, marker: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.get(url).text
        if marker in page or 'role="alert"' in page:
            return page
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish")


def test_backups_without_a_plan_say_how_to_set_one_up(db: Path) -> None:
    client = signed_in(db)
    post(
        client,
        "/parametres",
        "/parametres",
        {"name": "Pharmacie des Tilleuls", "folder-0-path": "/srv/lgo", "folder-0-label": "Base du LGO"},
    )
    page = client.get("/sauvegardes").text
    setup = text_of(page, "no-plan")
    assert "Aucun plan de sauvegarde n'est encore en place" in page
    assert "officine backup plan init" in setup and "/srv/lgo" in setup and "non concerné" not in page


@pytest.mark.skipif(shutil.which("restic") is None, reason="restic not installed")
def test_backup_page_runs_and_drills_a_real_restic_plan(db: Path, tmp_path: Path) -> None:
    from officine.backup.guardian import init_destination
    from officine.services.backup import Guardian, add_destination, plan_init

    src = tmp_path / "lgo"
    src.mkdir()
    for i in range(12):
        (src / f"ordonnance-{i}.txt").write_text(f"ordonnance {i}\n" * (i + 1), encoding="utf-8")
    plan_init([], [src])
    add_destination(
        dest_id="disque-1",
        label="Disque du lundi",
        kind="disk",
        place="pharmacie",
        repository=str(tmp_path / "disque" / "restic"),
        password_file=None,
    )
    g = Guardian.open(store_url=f"sqlite:///{db}")
    assert init_destination(g.plan.destinations[0], g.restic) == "initialisé"

    client = signed_in(db)
    page = client.get("/sauvegardes").text
    assert str(src) in text_of(page, "sources") and "Disque du lundi" in page
    assert "jamais" in text_of(page, "dest-disque-1")

    r = post(client, "/sauvegardes", "/sauvegardes/lancer", {"what": "backup"})
    assert r.status_code == 303 and r.headers["location"].startswith("/sauvegardes/suivi/")
    # Another server process (another app on the same database) follows the same work.
    other = new_client(db)
    assert post(other, "/connexion", "/connexion", {"username": "marie", "password": PASSWORD}).status_code == 303
    done = wait_for(other, r.headers["location"], 'id="job-done"')
    assert "disque-1" in text_of(done, "job-results") and "réussie (12 fichiers)" in text_of(done, "job-results")

    r = post(client, "/sauvegardes", "/sauvegardes/lancer", {"what": "drill"})
    done = wait_for(client, r.headers["location"], 'id="job-done"')
    assert "réussie (12 fichiers restaurés et comparés)" in text_of(done, "job-results")

    page = client.get("/sauvegardes").text
    dest = plain(page.split('id="dest-disque-1"')[1].split("</section>")[0])
    assert re.search(r"Dernière sauvegarde \d\d/\d\d/\d{4} à \d\d:\d\d — réussie", dest)
    assert "12 fichiers restaurés" in dest and "comparés octet par octet" in dest
    verdicts = page.split('id="sav-verdicts"')[1]
    sav01 = verdicts.split("Sauvegarde quotidienne")[0].rsplit("<li>", 1)[1]
    assert "v-pass" in sav01  # a backup minutes ago: the daily backup measure passes
    assert "Restauration d'essai réussie" in plain(verdicts)
    # The same story on the practice page: SAV-03 passes from the drill, not from an answer.
    assert 'data-verdict="pass"' in client.get("/pratique/SAV").text.split('id="SAV-03"')[1].split("</section>")[0]


def test_a_plan_that_cannot_be_read_is_said_not_hidden(db: Path) -> None:
    from officine.backup.plan import default_plan_path

    path = default_plan_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("destinations: [ {id: 'x'", encoding="utf-8")
    page = signed_in(db).get("/sauvegardes")
    assert page.status_code == 200 and "Le plan de sauvegarde ne peut pas être lu" in page.text


# -- incident --------------------------------------------------------------------------------------


def incident_page(client: TestClient) -> str:
    return client.get("/incident").text


def step_state(page: str, step: str) -> str:
    return plain(page.split(f'data-step="{step}">')[1].split("</p>", maxsplit=1)[0])


def test_an_incident_started_on_the_page_continues_on_the_command_line(db: Path, tmp_path: Path) -> None:
    client = signed_in(db)
    post(
        client,
        "/parametres",
        "/parametres",
        {"name": "Pharmacie des Tilleuls", "team-0-name": "Paul Martin", "team-0-role": "preparateur"},
    )
    r = post(
        client,
        "/incident",
        "/incident/commencer",
        {"summary": "Message de rançon sur le poste du comptoir", "assign-debrancher": "Paul Martin"},
    )
    assert r.status_code == 303
    page = incident_page(client)
    assert "Message de rançon" in text_of(page, "en-cours") and "Confiée à Paul Martin" in step_state(
        page, "debrancher"
    )
    post(client, "/incident", "/incident/etape", {"step": "debrancher", "status": "done", "note": "câble retiré"})

    status = officine("incident", "status").stdout
    assert "✔" in status.split("Coupez le réseau")[0].splitlines()[-1]  # done on the page, seen on the CLI
    script = tmp_path / "suite.yaml"
    script.write_text(
        "by: Paul Martin\nsteps:\n  laisser_allume: fait\n  prestataire: {status: fait, note: appelé à 9h}\n",
        encoding="utf-8",
    )
    cli = officine("incident", "start", "--script", str(script))
    assert cli.returncode == 0, cli.stderr
    assert "Coupez le réseau" not in cli.stdout  # the step done on the page is not asked again

    page = incident_page(client)
    assert re.match(
        r"Fait le \d\d/\d\d/\d{4} à \d\d:\d\d par Paul Martin : « appelé à 9h »", step_state(page, "prestataire")
    )
    assert "Journal intact" in text_of(page, "journal-intact")
    assert page.count("<tr><td>") == 5  # opened, assigned, done on the page, two done on the CLI


def test_an_incident_started_on_the_command_line_appears_and_feeds_inc_02(
    db: Path, two_machines: tuple[Path, Path], tmp_path: Path
) -> None:
    client = signed_in(db)
    import_file(client, two_machines[0])
    inc02 = client.get("/pratique/INC").text.split('id="INC-02"')[1].split("</section>")[0]
    assert 'data-verdict="needs_answer"' in inc02  # nothing noted yet: the question decides
    script = tmp_path / "debut.yaml"
    script.write_text(
        "by: Marie Curie\nsummary: Clé USB inconnue branchée\nsteps:\n  debrancher: fait\n", encoding="utf-8"
    )
    assert officine("incident", "start", "--script", str(script)).returncode == 0
    page = incident_page(client)
    assert "Clé USB inconnue branchée" in text_of(page, "en-cours")
    assert step_state(page, "debrancher").startswith("Fait le") and "par Marie Curie" in step_state(page, "debrancher")
    inc02 = client.get("/pratique/INC").text.split('id="INC-02"')[1].split("</section>")[0]
    assert 'data-verdict="pass"' in inc02 and "1 incident noté dans le journal" in inc02

    # A journal changed after the fact proves nothing any more: INC-02 fails and the page says so.
    journal = next((incidents_dir()).glob("*/journal.jsonl"))
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = json.loads(lines[1])
    entry["actor"] = "Quelqu'un d'autre"
    lines[1] = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    journal.write_text("".join(lines), encoding="utf-8")
    assert "Journal modifié après coup" in incident_page(client)
    post(client, "/incident", "/incident/etape", {"step": "prestataire", "status": "skip", "note": ""})
    inc02 = client.get("/pratique/INC").text.split('id="INC-02"')[1].split("</section>")[0]
    assert 'data-verdict="fail"' in inc02 and "modifié après coup" in inc02


def test_the_printed_incident_sheet_names_the_pharmacy_its_team_and_links(db: Path) -> None:
    client = signed_in(db)
    post(
        client,
        "/parametres",
        "/parametres",
        {
            "name": "Pharmacie de l'Étoile",
            "address": "1 place Bellecour, 69002 Lyon",
            "team-0-name": "Marie Curie",
            "team-0-role": "titulaire",
            "team-0-phone": "06 11 22 33 44",
            "assureur.name": "Mutuelle des pharmaciens",
            "assureur.email": "sinistres@example.org",
        },
    )
    page = incident_page(client)
    assert "Pharmacie de l&#39;Étoile" in text_of(page, "sheet-for") or "Pharmacie de l'Étoile" in text_of(
        page, "sheet-for"
    )
    team = page.split('id="team"')[1].split("</ul>")[0]
    assert "Marie Curie" in team and "pharmacien titulaire" in team and 'href="tel:0611223344"' in team
    useful = page.split('id="useful"')[1].split("</ul>")[0]
    assert '<a href="https://cybermalveillance.gouv.fr">cybermalveillance.gouv.fr</a>' in useful
    assert '<a href="tel:17">17</a>' in useful and 'href="mailto:sinistres@example.org"' in useful
    assert '<a href="https://cybermalveillance.gouv.fr">' in page.split('id="etape-cybermalveillance"')[1]


def test_what_each_role_may_do_on_the_new_pages(db: Path, two_machines: tuple[Path, Path]) -> None:
    from test_web_team import colleague

    admin = signed_in(db)
    import_file(admin, two_machines[0])
    paul = colleague(db, admin, "paul", "equipe")
    lea = colleague(db, admin, "lea", "lecture", password="Pipette-Romarin-Sachet-71")
    for page in ("/postes/1", "/sauvegardes", "/incident", "/postes/guide-prestataire"):
        assert lea.get(page, follow_redirects=False).status_code == 200, page
    # Reading only: no form to start an incident, no button to retire; the actions are refused.
    assert 'id="commencer"' not in lea.get("/incident").text
    assert "Retirer ce poste" not in lea.get("/postes/1").text
    assert post(lea, "/incident", "/incident/commencer", {"summary": "x"}).status_code == 403
    assert post(lea, "/sauvegardes", "/sauvegardes/lancer", {"what": "backup"}).status_code == 403
    # The team starts the reflexes of an attack and a backup, but only the titulaire retires a workstation.
    assert post(paul, "/incident", "/incident/commencer", {"summary": "Écran bloqué"}).status_code == 303
    assert "Retirer ce poste" not in paul.get("/postes/1").text
    assert post(paul, "/postes/1", "/postes/1/retirer", {}).status_code == 403
    assert "sur 1 poste" in text_of(admin.get("/").text, "scope")
    assert post(admin, "/postes/1", "/postes/1/retirer", {}).status_code == 303


def test_the_chart_has_one_point_per_day_from_audits_of_the_whole_pharmacy(db: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from officine.services.history import score_series
    from officine.store import Store
    from officine.store.models import AuditRow

    store = Store(f"sqlite:///{db}")

    def snap(name: str, n: int) -> dict[str, object]:
        return {
            "snapshot_id": f"{name}-{n}",
            "collected_at": "2026-03-02T08:00:00+00:00",
            "platform": "linux",
            "mode": "live",
            "host": {"hostname": name, "machine_id_sha256": name},
        }

    day1 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    plan = [  # (when, score, kind, workstations)
        (day1, 50, "pharmacy", ["a", "b"]),
        (day1 + timedelta(hours=3), 10, "selection", ["a"]),  # a command-line audit of one machine
        (day1 + timedelta(days=1), 55, "pharmacy", ["a", "b"]),
        (day1 + timedelta(days=1, hours=2), 60, "pharmacy", ["a", "b"]),
    ]
    for i, (when, score, kind, names) in enumerate(plan):
        audit_id = store.record_audit(
            [snap(n, i) for n in names], {"score": score, "catalogue_version": "t", "measures": []}, {}, kind=kind
        )
        with Session(store.engine) as session, session.begin():
            session.execute(update(AuditRow).where(AuditRow.id == audit_id).values(created_at=when))
    assert [(at.day, score, n) for at, score, n in score_series(store)] == [(2, 50, 2), (3, 60, 2)]


def test_the_history_and_the_workstations_follow_an_audit_recorded_by_another_process(db: Path) -> None:
    """The pharmacy keeps the daily points and the collection counts between pages; an audit
    recorded elsewhere (the command line, another server process) must show at once."""
    from datetime import UTC, datetime, timedelta

    from officine.services.pharmacy import Pharmacy
    from officine.store import Store

    def snap(name: str, n: int) -> dict[str, object]:
        return {
            "snapshot_id": f"{name}-{n}",
            "collected_at": (datetime.now(UTC) - timedelta(minutes=10 - n)).isoformat(),
            "platform": "linux",
            "mode": "live",
            "host": {"hostname": name, "machine_id_sha256": name},
        }

    url = f"sqlite:///{db}"
    pharmacy, elsewhere = Pharmacy(Store(url)), Store(url)
    elsewhere.record_audit([snap("a", 0)], {"score": 40, "catalogue_version": "t", "measures": []}, {})
    since = datetime.now(UTC) - timedelta(days=2)
    assert [score for _, score, _ in pharmacy.score_series(since)] == [40]
    assert {w.hostname: w.snapshots for w in pharmacy.workstations()} == {"a": 1}
    elsewhere.record_audit([snap("a", 1), snap("b", 1)], {"score": 70, "catalogue_version": "t", "measures": []}, {})
    assert [score for _, score, _ in pharmacy.score_series(since)] == [70]  # the day's last audit
    assert {w.hostname: w.snapshots for w in pharmacy.workstations()} == {"a": 2, "b": 1}
