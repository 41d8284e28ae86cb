"""The dashboard over HTTP (in-process client): first run, sign-in, CSRF, answers, exceptions,
imports, history and the report. The real-browser walks are in test_web_browser.py."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import RootTree
from officine.services.accounts import MAX_FAILURES
from officine.store import Store
from officine.store.models import AnswerRow, AuditRow, ExceptionRow, SettingRow, UserRow
from web_helpers import PASSWORD, csrf, new_client, post, setup_code, signed_in, snapshot_file

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "officine.db"


@pytest.fixture
def machine(tree: RootTree, tmp_path: Path) -> Path:
    tree.debian()
    return snapshot_file(tree.path, tmp_path / "comptoir-1.json")


def count(db: Path, model: type) -> int:
    with Session(Store(f"sqlite:///{db}").engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def latest_score(db: Path) -> int | None:
    with Session(Store(f"sqlite:///{db}").engine) as session:
        return session.scalars(select(AuditRow.score).order_by(AuditRow.id.desc())).first()


# -- first run and sign-in ------------------------------------------------------------------------


def test_first_run_asks_for_an_administrator_then_the_pharmacy(db: Path) -> None:
    client = new_client(db)
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/installation"
    page = client.get("/installation")
    assert "Créer le compte" in page.text
    code = setup_code(db)
    weak = post(
        client,
        "/installation",
        "/installation",
        {"setup_code": code, "username": "marie", "password": "pharmacie123", "confirm": "pharmacie123"},
    )
    assert weak.status_code == 400 and "Mot de passe trop faible" in weak.text
    # The code typed is kept in the refused form: nothing typed is lost (but never the password).
    assert f'value="{code}"' in weak.text and "pharmacie123" not in weak.text
    mismatch = post(
        client,
        "/installation",
        "/installation",
        {"setup_code": code, "username": "marie", "password": PASSWORD, "confirm": PASSWORD + "x"},
    )
    assert mismatch.status_code == 400 and "différents" in mismatch.text
    assert count(db, UserRow) == 0
    ok = post(
        client,
        "/installation",
        "/installation",
        {"setup_code": code, "username": "marie", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith("/parametres")
    # Signed in, but the pharmacy is not described yet: home sends to the settings.
    assert client.get("/", follow_redirects=False).headers["location"] == "/parametres"
    with Session(Store(f"sqlite:///{db}").engine) as session:
        stored = session.scalars(select(UserRow.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_second_administrator_cannot_be_created(db: Path) -> None:
    signed_in(db)
    stranger = new_client(db)
    assert stranger.get("/installation", follow_redirects=False).headers["location"] == "/connexion"
    token = csrf(stranger.get("/connexion").text)
    r = stranger.post(
        "/installation",
        data={"csrf": token, "setup_code": "", "username": "intrus", "password": PASSWORD, "confirm": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/connexion"
    assert count(db, UserRow) == 1


def test_cookies_are_secure_httponly_samesite(db: Path) -> None:
    client = new_client(db)
    token = csrf(client.get("/installation").text)
    r = client.post(
        "/installation",
        data={
            "csrf": token,
            "setup_code": setup_code(db),
            "username": "marie",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        follow_redirects=False,
    )
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("officine_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags


def test_wrong_password_then_lock_out_even_with_the_right_one(db: Path) -> None:
    signed_in(db)
    client = new_client(db)
    for i in range(MAX_FAILURES):
        r = post(client, "/connexion", "/connexion", {"username": "marie", "password": f"mauvais-{i}"})
        assert r.status_code == 401 and "incorrect" in r.text
    r = post(client, "/connexion", "/connexion", {"username": "marie", "password": PASSWORD})
    assert r.status_code == 429 and "bloquée" in r.text
    assert "officine_session" not in client.cookies
    # Another browser on the same machine is locked out too (the lock is per account).
    r = post(new_client(db), "/connexion", "/connexion", {"username": "marie", "password": PASSWORD})
    assert r.status_code == 429


def test_sign_out_ends_the_session_on_the_server(db: Path) -> None:
    client = signed_in(db)
    stolen = client.cookies.get("officine_session")
    r = post(client, "/", "/deconnexion", {})
    assert r.status_code == 303
    thief = new_client(db)
    thief.cookies.set("officine_session", stolen or "", domain="testserver")
    assert thief.get("/", follow_redirects=False).headers["location"] == "/connexion"


# -- CSRF, headers, errors ------------------------------------------------------------------------


def test_forms_without_the_token_or_from_another_site_are_refused(db: Path) -> None:
    client = signed_in(db)
    before = client.get("/parametres").text
    r = client.post("/parametres", data={"name": "Pharmacie Piratée"}, follow_redirects=False)
    assert r.status_code == 403 and "expiré" in r.text
    token = csrf(before)
    r = client.post(
        "/parametres",
        data={"csrf": token, "name": "Pharmacie Piratée"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = client.post("/parametres", data={"csrf": "x" * 43, "name": "Pharmacie Piratée"}, follow_redirects=False)
    assert r.status_code == 403
    assert "Pharmacie Piratée" not in client.get("/").text


def test_pages_carry_security_headers_and_no_inline_script_or_style(db: Path, machine: Path) -> None:
    client = signed_in(db)
    post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", machine.read_bytes())})
    for page in ("/", "/pratique/SAV", "/postes", "/historique", "/bilan", "/parametres", "/incident"):
        r = client.get(page)
        assert r.status_code == 200, page
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
        assert "<script" not in r.text and " style=" not in r.text, page
        assert '<html lang="fr">' in r.text


def test_errors_are_french_pages_without_a_trace(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = signed_in(db)
    r = client.get("/pratique/NOPE")
    assert r.status_code == 404 and "Page introuvable" in r.text
    from officine.services.pharmacy import Pharmacy

    def broken(self: Pharmacy, *a: object, **k: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(Pharmacy, "current", broken)
    r = client.get("/")
    assert r.status_code == 500 and "Erreur interne" in r.text
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]


# -- the pharmacy ---------------------------------------------------------------------------------


def test_invalid_settings_change_nothing_and_keep_what_was_typed(db: Path) -> None:
    client = signed_in(db)
    r = post(
        client,
        "/parametres",
        "/parametres",
        {"name": "Pharmacie Centrale", "finess": "12AB", "prestataire.name": "InfoPharma", "team-0-name": "Paul"},
    )
    assert r.status_code == 400 and "FINESS" in r.text
    assert 'value="Pharmacie Centrale"' in r.text and 'value="InfoPharma"' in r.text and 'value="Paul"' in r.text
    assert "Pharmacie des Tilleuls" in client.get("/").text


def test_contacts_reach_the_incident_assistant(db: Path) -> None:
    client = signed_in(db)
    r = post(
        client,
        "/parametres",
        "/parametres",
        {
            "name": "Pharmacie des Tilleuls",
            "finess": "690000001",
            "prestataire.name": "InfoPharma",
            "prestataire.phone": "04 00 00 00 01",
            "team-0-name": "Marie Curie",
            "team-0-role": "titulaire",
            "folder-0-path": "/srv/lgo",
            "folder-0-label": "Base du LGO",
        },
    )
    assert r.status_code == 303
    from officine.incident.contacts import Contact, load_contacts

    assert load_contacts()["prestataire"] == Contact(name="InfoPharma", phone="04 00 00 00 01")
    page = client.get("/parametres").text
    assert 'value="Marie Curie"' in page and 'value="/srv/lgo"' in page and 'value="690000001"' in page
    with Session(Store(f"sqlite:///{db}").engine) as session:
        assert session.get(SettingRow, "team").updated_by == "marie"


# -- answers, proofs, exceptions --------------------------------------------------------------------


def test_answers_change_the_score_and_show_who_answered(db: Path, machine: Path) -> None:
    client = signed_in(db)
    post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", machine.read_bytes())})
    before = latest_score(db)
    page = client.get("/pratique/SAV").text
    assert 'data-verdict="needs_answer"' in page
    r = post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    assert r.status_code == 303 and r.headers["location"].endswith("#SAV-03")
    after = latest_score(db)
    assert before is not None and after is not None and after > before
    page = client.get("/pratique/SAV").text
    section = page.split('id="SAV-03"')[1].split("</section>")[0]
    assert 'data-verdict="pass"' in section and "marie" in section and "Répondu par marie" in section
    # No backup plan here: the machine line never claims "conforme" (the answer does), and it
    # says backups cannot be verified and where to set them up, not "non concerné".
    assert 'v-unknown">non vérifiable</span> Aucun plan de sauvegarde' in section
    assert "page « Sauvegardes »" in section and "non concerné" not in section
    assert 'v-pass">conforme</span> Quand a-t-on réussi à restaurer' in section
    home = client.get("/").text
    assert f'<span class="value">{after}</span>' in home


def test_impossible_answers_are_refused(db: Path) -> None:
    client = signed_in(db)
    r = post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "peut_etre"})
    assert r.status_code == 400 and "réponses proposées" in r.text
    r = post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "XXX-99.q1", "value": "oui"})
    assert r.status_code == 400
    assert count(db, AnswerRow) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rapport.pdf", b"MZ\x90\x00 this is a program", "Type de fichier refusé"),
        ("vide.pdf", b"", None),  # an empty file field is "no proof", the answer is kept
        ("gros.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024 + 10), "trop gros"),
    ],
)
def test_proof_files_are_checked_by_content_and_size(db: Path, name: str, content: bytes, message: str | None) -> None:
    client = signed_in(db)
    r = post(
        client,
        "/pratique/SAV",
        "/pratique/SAV/reponse",
        {"question": "SAV-03.q1", "value": "moins_6_mois"},
        files={"proof": (name, content, "application/pdf")},
    )
    if message is None:
        assert r.status_code in (303, 400)
    else:
        assert r.status_code == 400 and message in r.text
        assert count(db, AnswerRow) == 0
        assert 'value="moins_6_mois" required checked' in r.text  # the choice is kept for a new try


def test_a_proof_is_stored_and_downloaded_by_signed_in_users_only(db: Path) -> None:
    client = signed_in(db)
    r = post(
        client,
        "/pratique/SAV",
        "/pratique/SAV/reponse",
        {"question": "SAV-03.q1", "value": "moins_6_mois"},
        files={"proof": ("PV restauration <mars>.pdf", PDF, "application/octet-stream")},
    )
    assert r.status_code == 303
    page = client.get("/pratique/SAV").text
    link = re.search(r'href="(/preuve/\d+)">([^<]+)</a>', page)
    assert link and link.group(2) == "PV restauration _mars_.pdf"
    download = client.get(link.group(1))
    assert download.content == PDF and download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment")
    assert new_client(db).get(link.group(1), follow_redirects=False).status_code == 303


def test_exception_is_visible_everywhere_and_leaves_the_score(db: Path, machine: Path) -> None:
    client = signed_in(db)
    post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", machine.read_bytes())})
    r = post(
        client,
        "/pratique/SAV",
        "/pratique/SAV/exception",
        {"measure": "SAV-06", "justification": "court", "until": "2099-01-31"},
    )
    assert r.status_code == 400 and "Justification trop courte" in r.text
    assert ">court</textarea>" in r.text and 'value="2099-01-31"' in r.text  # what was typed is shown back
    assert count(db, ExceptionRow) == 0
    r = post(
        client,
        "/pratique/SAV",
        "/pratique/SAV/exception",
        {
            "measure": "SAV-06",
            "justification": "Aucune donnée hébergée en ligne : tout reste sur place.",
            "until": "2099-12-31",
        },
    )
    assert r.status_code == 303
    page = client.get("/pratique/SAV").text
    section = page.split('id="SAV-06"')[1].split("</section>")[0]
    assert "exception acceptée" in section and "Aucune donnée hébergée en ligne" in section
    assert "jusqu'au 31/12/2099" in section and "2099-12-31" not in section  # a French date in a sentence
    assert "1 exception acceptée" in client.get("/").text
    assert "Aucune donnée hébergée en ligne" in client.get("/bilan").text
    doc = client.get("/bilan.json").json()
    assert [e["measure"] for e in doc["exceptions"]] == ["SAV-06"]
    assert "SAV-06" not in [a["measure"] for a in doc["actions"]]
    r = post(client, "/pratique/SAV", "/pratique/SAV/exception", {"measure": "SAV-06", "action": "withdraw"})
    assert r.status_code == 303
    assert (
        'class="badge excepted"' not in client.get("/pratique/SAV").text.split('id="SAV-06"')[1].split("</section>")[0]
    )
    assert count(db, ExceptionRow) == 1  # withdrawn, kept


# -- workstations -------------------------------------------------------------------------------------


def test_import_accepts_a_real_snapshot_and_refuses_tampered_or_foreign_files(db: Path, machine: Path) -> None:
    client = signed_in(db)
    raw = machine.read_bytes()
    tampered = raw.replace(b"comptoir-1", b"comptoir-9", 1)
    assert tampered != raw
    for content, message in [
        (tampered, "modifié ou abîmé"),
        (b'{"hello": "world"}', "pas un fichier produit par officine-cyber"),
        (b"\x89PNG\r\n\x1a\n....", "pas du JSON"),
        (raw[: len(raw) // 2], "tronqué"),
    ]:
        r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", content)})
        assert r.status_code == 400 and message in r.text, message
        assert "Traceback" not in r.text
    assert count(db, AuditRow) == 0
    r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", raw)})
    assert r.status_code == 303
    page = client.get("/postes").text
    assert "comptoir-1" in page and "Linux" in page
    # The workstation's own measures, counted as measures (plural agreed), with a link to its page.
    row = page.split('id="workstations"')[1].split("</tr>", 2)[1]
    assert '<a href="/postes/1">comptoir-1</a>' in row and " non conformes" in row
    assert count(db, AuditRow) == 1


def test_history_shows_what_changed_between_two_audits(db: Path, machine: Path) -> None:
    client = signed_in(db)
    post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", machine.read_bytes())})
    post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "plus_1_an_ou_jamais"})
    post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    page = client.get("/historique").text
    assert "<svg" in page and 'role="img"' in page
    changes = page.split('id="changes"')[1].split("</table>")[0]
    assert "SAV-03" in changes and "en progrès" in changes  # fail -> pass between the last two
    audits = [int(i) for i in re.findall(r'<option value="(\d+)"', page)]
    first, last = min(audits), max(audits)
    page = client.get(f"/historique?avant={first}&apres={last}").text
    assert "SAV-03" in page.split('id="changes"')[1]


def test_report_pdf_and_json_carry_the_pharmacy_and_the_score(db: Path, machine: Path) -> None:
    client = signed_in(db, pharmacy="Pharmacie de l'Étoile")
    post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", machine.read_bytes())})
    post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    doc = client.get("/bilan.json").json()
    assert doc["pharmacy"]["name"] == "Pharmacie de l'Étoile" and doc["score"] == latest_score(db)
    assert {p["id"] for p in doc["practices"]} >= {"SAV", "MDP"}
    waiting = next(p for p in doc["practices"] if p["id"] == "RGPD")
    assert waiting["score"] is None and waiting["state"] == "a_renseigner"  # nothing answered: no "0"
    assert all(a["owner"] for a in doc["actions"])
    r = client.get("/bilan.pdf")
    assert r.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Pharmacie de l'Étoile" in text
    assert f"{doc['score']} / 100" in text
    assert "Signatures" in text and "comptoir-1" in text


def test_command_line_audit_uses_the_answers_given_on_the_dashboard(db: Path, machine: Path) -> None:
    from officine.services.audit import run_audit

    client = signed_in(db)
    post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    result = run_audit(from_files=[machine], store_url=f"sqlite:///{db}")
    sav03 = next(m for m in result.assessment.measures if m.measure.id == "SAV-03")
    assert sav03.verdict.value == "pass"
    assert "marie" in sav03.evidence[-1].text


def test_dashboard_rejudges_all_workstations_after_a_one_machine_audit(
    db: Path, machine: Path, tree: RootTree, tmp_path: Path
) -> None:
    from officine.services.audit import run_audit

    client = signed_in(db)
    post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("a.json", machine.read_bytes())})
    tree.write("/etc/hostname", "reserve-2\n")
    tree.write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    other = snapshot_file(tree.path, tmp_path / "reserve-2.json")
    run_audit(from_files=[other], store_url=f"sqlite:///{db}")  # this audit judges reserve-2 only
    with Session(Store(f"sqlite:///{db}").engine) as session:
        cli = session.scalars(select(AuditRow).order_by(AuditRow.id.desc())).first()
        assert cli is not None and [h["hostname"] for h in cli.assessment["hosts"]] == ["reserve-2"]
    home = client.get("/").text
    assert "sur 2 postes" in home
    doc = json.loads(client.get("/bilan.json").text)
    assert sorted(h["hostname"] for h in doc["hosts"]) == ["comptoir-1", "reserve-2"]


def test_usb_devices_declared_on_the_settings_page_decide_amo_01(db: Path) -> None:
    windows = Path(__file__).parent / "fixtures/snapshots/windows11-fr-conforme.json"
    client = signed_in(db)
    r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": (windows.name, windows.read_bytes())})
    assert r.status_code == 303
    post(client, "/pratique/AMO", "/pratique/AMO/reponse", {"question": "AMO-01.q1", "value": "jamais"})

    def amo_01() -> str:
        return client.get("/pratique/AMO").text.split('id="AMO-01"')[1].split("</section>")[0]

    assert 'data-verdict="warn"' in amo_01() and "page « Pharmacie »" in amo_01()  # seen, not declared
    base = {"name": "Pharmacie des Tilleuls"}
    post(client, "/parametres", "/parametres", {**base, "approved_usb": "4C530001230516118252\n"})
    section = amo_01()
    assert 'data-verdict="fail"' in section and "Kingston DataTraveler 3.0 USB Device" in section
    kingston = r"Disk&amp;Ven_Kingston&amp;Prod_DataTraveler_3.0&amp;Rev_\E0D55EA573DCF450E97C0B5A&amp;0"
    assert 'value="Pharmacie des Tilleuls"' in client.get("/parametres").text
    both = "4C530001230516118252\nDisk&Ven_Kingston&Prod_DataTraveler_3.0&Rev_\\E0D55EA573DCF450E97C0B5A&0"
    post(client, "/parametres", "/parametres", {**base, "approved_usb": both})
    assert 'data-verdict="pass"' in amo_01()
    assert kingston in client.get("/parametres").text


def test_incident_page_gives_the_reflexes_with_the_pharmacy_numbers(db: Path) -> None:
    client = signed_in(db)
    page = client.get("/incident").text
    assert "Coupez le réseau de ce poste" in page and "Laissez le poste allumé" in page
    assert "non renseigné" in page  # no IT provider yet: said, with a link to fill it in
    post(
        client,
        "/parametres",
        "/parametres",
        {"name": "Pharmacie des Tilleuls", "prestataire.name": "InfoPharma", "prestataire.phone": "04 00 00 00 01"},
    )
    page = client.get("/incident").text
    section = page.split('id="etape-prestataire"')[1].split("</li>\n  \n")[0]
    assert 'InfoPharma — <a href="tel:0400000001">04 00 00 00 01</a>' in section
    assert page.index("Coupez le réseau") < page.index("Appelez votre prestataire") < page.index("Déposez plainte")
    assert "cybermalveillance.gouv.fr" in page


def test_folders_declared_on_the_dashboard_seed_the_backup_plan(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from officine.backup.plan import load_plan
    from officine.errors import UserError
    from officine.services.backup import plan_init

    monkeypatch.setenv("OFFICINE_DATABASE_URL", f"sqlite:///{db}")
    lgo, docs = tmp_path / "lgo", tmp_path / "docs"
    lgo.mkdir()
    docs.mkdir()
    client = signed_in(db)
    form = {
        "name": "Pharmacie des Tilleuls",
        "folder-0-path": str(lgo),
        "folder-0-label": "Base du LGO",
        "folder-1-path": str(docs),
    }
    post(client, "/parametres", "/parametres", form)
    plan = load_plan(plan_init([], [], tmp_path / "plan.yaml"))
    assert [(s.path, s.lgo) for s in plan.sources] == [(str(lgo), True), (str(docs), False)]
    post(client, "/parametres", "/parametres", {**form, "folder-1-path": r"C:\Pharma\Scans"})
    with pytest.raises(UserError, match="chemin complet"):
        plan_init([], [], tmp_path / "plan2.yaml")
    assert not (tmp_path / "plan2.yaml").exists()


def test_changing_the_password_ends_other_sessions(db: Path) -> None:
    from web_helpers import new_client as fresh

    client = signed_in(db)
    other = fresh(db)
    post(other, "/connexion", "/connexion", {"username": "marie", "password": PASSWORD})
    assert other.get("/", follow_redirects=False).status_code == 200
    new_password = "Verveine-Mortier-Sirop-2027"
    r = post(client, "/compte", "/compte", {"current": "faux", "password": new_password, "confirm": new_password})
    assert r.status_code == 400 and "actuel est incorrect" in r.text
    r = post(
        client, "/compte", "/compte", {"current": PASSWORD, "password": "pharmacie2027", "confirm": "pharmacie2027"}
    )
    assert r.status_code == 400 and "trop faible" in r.text
    r = post(client, "/compte", "/compte", {"current": PASSWORD, "password": new_password, "confirm": new_password})
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200  # this browser stays signed in
    assert other.get("/", follow_redirects=False).headers["location"] == "/connexion"
    third = fresh(db)
    assert post(third, "/connexion", "/connexion", {"username": "marie", "password": PASSWORD}).status_code == 401
    assert post(third, "/connexion", "/connexion", {"username": "marie", "password": new_password}).status_code == 303


def test_a_session_left_idle_ends_and_activity_keeps_it(db: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from officine.services import accounts

    store = Store(f"sqlite:///{db}")
    signed_in(db)
    start = datetime.now(UTC)
    token = accounts.sign_in(store, "marie", PASSWORD, "test", now=start)
    assert accounts.session_for(store, token, now=start + timedelta(minutes=20)) is not None
    # Active at 20 min: the idle clock restarts, so 45 min after sign-in is still fine...
    assert accounts.session_for(store, token, now=start + timedelta(minutes=45)) is not None
    # ...but 31 minutes without a request ends it, for good.
    assert accounts.session_for(store, token, now=start + timedelta(minutes=77)) is None
    assert accounts.session_for(store, token, now=start + timedelta(minutes=78)) is None
