"""Team accounts: the titulaire adds colleagues, each signs in with their own password and a role;
every answer says who gave it; an account can be disabled; a forgotten password is reset from
the machine itself."""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpers import database_at, officine
from officine.services import accounts
from officine.store import Store
from officine.store.models import AnswerRow, ExceptionRow, SettingRow, UserRow
from web_helpers import PASSWORD, csrf, new_client, post, signed_in

PAUL = "Verveine-Mortier-Gelule-38"
GIVEN = re.compile(r'class="secret">([a-z0-9-]+)<')


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "officine.db"


def add(admin: TestClient, username: str, role: str, full_name: str = "Paul Martin") -> str:
    """Creates a colleague's account; returns the temporary password shown once."""
    r = post(admin, "/equipe", "/equipe", {"username": username, "full_name": full_name, "role": role})
    assert r.status_code == 200, r.text
    found = GIVEN.search(r.text)
    assert found, r.text
    return found.group(1)


def sign_in(db: Path, username: str, password: str) -> tuple[TestClient, Any]:
    client = new_client(db)
    r = post(client, "/connexion", "/connexion", {"username": username, "password": password})
    return client, r


def colleague(db: Path, admin: TestClient, username: str, role: str, password: str = PAUL) -> TestClient:
    """A colleague who signed in with the temporary password and chose their own."""
    temporary = add(admin, username, role)
    client, r = sign_in(db, username, temporary)
    assert r.status_code == 303
    r = post(client, "/compte", "/compte", {"current": temporary, "password": password, "confirm": password})
    assert r.status_code == 303, r.text
    return client


def rows(db: Path, model: type) -> int:
    with Session(Store(f"sqlite:///{db}").engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_colleague_signs_in_with_a_temporary_password_then_chooses_one(db: Path) -> None:
    admin = signed_in(db)
    temporary = add(admin, "paul", "equipe")
    assert len(temporary.replace("-", "")) == 16
    # Shown once: the list of the team never shows it again, the database holds only its hash.
    team = admin.get("/equipe").text
    assert temporary not in team and "paul" in team and "Paul Martin" in team and "mot de passe provisoire" in team
    with Session(Store(f"sqlite:///{db}").engine) as session:
        stored = session.scalars(select(UserRow).where(UserRow.username == "paul")).one()
        assert stored.password_hash.startswith("$argon2id$") and temporary not in stored.password_hash
        assert stored.role == "equipe" and stored.created_by == "marie" and stored.must_change_password
    client, r = sign_in(db, "paul", temporary)
    assert r.status_code == 303
    # Every page leads to choosing a password first.
    for page in ("/", "/pratique/SAV", "/bilan"):
        assert client.get(page, follow_redirects=False).headers["location"] == "/compte?ok=choose_password"
    assert "Choisir votre mot de passe" in client.get("/compte").text
    # The pharmacy's own words are refused: its name, its town, the colleague's name.
    for weak in ("Tilleuls2024!!", "Lyon-Marche-2024", "PaulMartin2024!"):
        r = post(client, "/compte", "/compte", {"current": temporary, "password": weak, "confirm": weak})
        assert r.status_code == 400 and "trop faible" in html.unescape(r.text), weak
    r = post(client, "/compte", "/compte", {"current": temporary, "password": PAUL, "confirm": PAUL})
    assert r.status_code == 303 and r.headers["location"] == "/?ok=password_chosen"
    assert client.get("/", follow_redirects=False).status_code == 200
    assert sign_in(db, "paul", temporary)[1].status_code == 401


def test_every_answer_says_who_gave_it(db: Path) -> None:
    admin = signed_in(db)
    paul = colleague(db, admin, "paul", "equipe")
    r = post(paul, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    assert r.status_code == 303
    r = post(admin, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-02.q1", "value": "oui"})
    assert r.status_code == 303
    with Session(Store(f"sqlite:///{db}").engine) as session:
        given = {q: by for q, by in session.execute(select(AnswerRow.question_id, AnswerRow.answered_by))}
    assert given == {"SAV-03.q1": "paul", "SAV-02.q1": "marie"}
    page = admin.get("/pratique/SAV").text
    assert "Répondu par paul" in page.split('id="SAV-03"')[1].split("</section>")[0]
    assert "Répondu par marie" in page.split('id="SAV-02"')[1].split("</section>")[0]


def test_roles_limit_what_each_account_may_change(db: Path) -> None:
    admin = signed_in(db)
    paul = colleague(db, admin, "paul", "equipe")
    lea = colleague(db, admin, "lea", "lecture", password="Pipette-Romarin-Sachet-71")
    exception = {"measure": "SAV-01", "justification": "Sauvegarde gérée par le groupement", "until": ""}
    # Read-only: sees everything, changes nothing.
    for page in ("/", "/pratique/SAV", "/postes", "/historique", "/bilan", "/parametres", "/incident", "/compte"):
        assert lea.get(page, follow_redirects=False).status_code == 200, page
    r = post(lea, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    assert r.status_code == 403 and "Action réservée" in r.text
    assert post(lea, "/postes", "/postes/importer", {}).status_code == 403
    # The team answers questions but neither accepts a risk nor changes the pharmacy.
    assert post(paul, "/pratique/SAV", "/pratique/SAV/exception", exception).status_code == 403
    assert post(paul, "/parametres", "/parametres", {"name": "Pharmacie Piratée"}).status_code == 403
    for client in (paul, lea):
        assert client.get("/equipe").status_code == 403
        token = csrf(client.get("/compte").text)
        r = client.post("/equipe", data={"csrf": token, "username": "x", "full_name": "X Y", "role": "titulaire"})
        assert r.status_code == 403
        assert "/equipe" not in client.get("/").text  # no link to a page they cannot open
    assert rows(db, AnswerRow) == 0 and rows(db, ExceptionRow) == 0 and rows(db, UserRow) == 3
    with Session(Store(f"sqlite:///{db}").engine) as session:
        assert session.get(SettingRow, "pharmacy").value["name"] == "Pharmacie des Tilleuls"
    # The titulaire does all of it.
    assert post(admin, "/pratique/SAV", "/pratique/SAV/exception", exception).status_code == 303
    assert "/equipe" in admin.get("/").text


def test_a_disabled_account_is_signed_out_and_cannot_sign_in(db: Path) -> None:
    admin = signed_in(db)
    paul = colleague(db, admin, "paul", "equipe")
    post(paul, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    paul_id = _user_id(db, "paul")
    r = post(admin, "/equipe", f"/equipe/{paul_id}/desactiver", {})
    assert r.status_code == 303 and r.headers["location"] == "/equipe?ok=member_disabled"
    assert paul.get("/", follow_redirects=False).headers["location"] == "/connexion"
    _, r = sign_in(db, "paul", PAUL)
    assert r.status_code == 401 and "désactivé" in r.text
    # The history keeps his name.
    assert "Répondu par paul" in admin.get("/pratique/SAV").text
    assert "désactivé" in admin.get("/equipe").text
    assert post(admin, "/equipe", f"/equipe/{paul_id}/reactiver", {}).status_code == 303
    assert sign_in(db, "paul", PAUL)[1].status_code == 303


def test_the_titulaire_keeps_control_of_the_dashboard(db: Path) -> None:
    admin = signed_in(db)
    marie_id = _user_id(db, "marie")
    r = post(admin, "/equipe", f"/equipe/{marie_id}/desactiver", {})
    assert r.status_code == 400 and "propre compte" in r.text
    r = post(admin, "/equipe", f"/equipe/{marie_id}/role", {"role": "lecture"})
    assert r.status_code == 400 and "au moins un compte titulaire" in r.text
    r = post(admin, "/equipe", "/equipe", {"username": "marie", "full_name": "Marie Bis", "role": "equipe"})
    assert r.status_code == 400 and "déjà pris" in html.unescape(r.text)
    r = post(admin, "/equipe", "/equipe", {"username": "paul", "full_name": "Paul", "role": "patron"})
    assert r.status_code == 400 and "rôles proposés" in r.text
    r = post(admin, "/equipe", "/equipe", {"username": "paul martin", "full_name": "Paul", "role": "equipe"})
    assert r.status_code == 400 and "sans espace" in r.text
    assert 'value="paul martin"' in r.text  # what was typed stays in the form
    assert post(admin, "/equipe", "/equipe/12345678901234567890123/desactiver", {}).status_code == 404
    assert post(admin, "/equipe", "/equipe/999/desactiver", {}).status_code == 400
    assert rows(db, UserRow) == 1


def test_a_new_role_applies_from_the_next_sign_in(db: Path) -> None:
    admin = signed_in(db)
    paul = colleague(db, admin, "paul", "lecture")
    paul_id = _user_id(db, "paul")
    assert post(admin, "/equipe", f"/equipe/{paul_id}/role", {"role": "equipe"}).status_code == 303
    assert paul.get("/", follow_redirects=False).headers["location"] == "/connexion"
    paul, r = sign_in(db, "paul", PAUL)
    r = post(paul, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    assert r.status_code == 303


def test_a_colleague_who_forgot_gets_a_new_temporary_password(db: Path) -> None:
    admin = signed_in(db)
    paul = colleague(db, admin, "paul", "equipe")
    paul_id = _user_id(db, "paul")
    for _ in range(accounts.MAX_FAILURES):
        sign_in(db, "paul", "oublie-oublie")
    assert sign_in(db, "paul", PAUL)[1].status_code == 429
    r = post(admin, "/equipe", f"/equipe/{paul_id}/mot-de-passe", {})
    found = GIVEN.search(r.text)
    assert r.status_code == 200 and found
    assert paul.get("/", follow_redirects=False).headers["location"] == "/connexion"  # signed out
    client, r = sign_in(db, "paul", found.group(1))  # unlocked too
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/compte?ok=choose_password"


def test_a_forgotten_administrator_password_is_reset_on_the_machine(db: Path) -> None:
    admin = signed_in(db)
    colleague(db, admin, "paul", "equipe")
    url = f"sqlite:///{db}"
    for _ in range(accounts.MAX_FAILURES):
        sign_in(db, "marie", "oublie-oublie")
    listed = officine("accounts", "--db", url)
    assert listed.returncode == 0
    assert "marie : Titulaire (administrateur), actif" in listed.stdout
    assert "paul — Paul Martin : Équipe, actif" in listed.stdout
    unknown = officine("reset-password", "mari", "--db", url)
    assert unknown.returncode == 2 and "marie, paul" in unknown.stderr and "Traceback" not in unknown.stderr
    new = "Tisane-Bourrache-Flacon-55"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "officine", "reset-password", "marie", "--db", url],
        env={**os.environ, "COLUMNS": "200"},
        encoding="utf-8",
        use_poll=True,
        timeout=60,
    )
    child.expect("Nouveau mot de passe")
    child.sendline("Tilleuls2024!!")
    child.expect("Confirmez")
    child.sendline("Tilleuls2024!!")
    child.expect("trop faible")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    child = pexpect.spawn(
        sys.executable,
        ["-m", "officine", "reset-password", "marie", "--db", url],
        encoding="utf-8",
        use_poll=True,
        timeout=60,
    )
    child.expect("Nouveau mot de passe")
    child.sendline(new)
    child.expect("Confirmez")
    child.sendline(new)
    child.expect("remplacé")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert admin.get("/", follow_redirects=False).headers["location"] == "/connexion"  # old sessions end
    assert sign_in(db, "marie", PASSWORD)[1].status_code == 401
    assert sign_in(db, "marie", new)[1].status_code == 303  # and the lock-out is lifted


def test_an_installation_from_before_team_accounts_keeps_its_administrator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    insert = "INSERT INTO users (username, password_hash, created_at) VALUES ('marie', :h, '2026-01-01')"
    database_at(url, "0005", (insert, {"h": accounts.hash_password(PASSWORD)}))
    store = Store(url)
    assert accounts.setup_code(store) is None
    token = accounts.sign_in(store, "marie", PASSWORD, "test")
    user = accounts.session_for(store, token)
    assert user is not None and user.role == "titulaire" and user.can("titulaire")
    assert not user.must_change_password


def _user_id(db: Path, username: str) -> int:
    with Session(Store(f"sqlite:///{db}").engine) as session:
        return int(session.scalars(select(UserRow.id).where(UserRow.username == username)).one())
