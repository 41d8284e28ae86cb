"""The questionnaire on the dashboard: the titulaire asks, the provider answers through the
one-time link without an account (creating a self-signed certificate first), the link then no
longer works; a signed PDF imported by hand is verified, a changed byte refused in French."""

from __future__ import annotations

import gc
import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from officine.registers import questionnaire
from officine.store import Store
from officine.store.models import QuestionnaireRequestRow
from web_helpers import csrf, new_client, post, signed_in

KEY_PASSWORD = "Cle-du-prestataire-2026"
LINK = re.compile(r'<code id="lien">https?://[^/]+(/questionnaire/[A-Za-z0-9_-]+)</code>')


@pytest.fixture(autouse=True)
def _release_databases() -> Iterator[None]:
    """Each test's databases closed when it ends: something keeps their engines alive, and the
    whole suite would otherwise run out of file descriptors (select() fails above 1024)."""
    yield
    for obj in gc.get_objects():
        if isinstance(obj, Engine):
            obj.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "officine.db"


def ask(client: TestClient) -> str:
    provider = {"nom": "InfoPharma", "service": "Maintenance", "clause_art28": "oui", "acces_systemes": "oui"}
    assert post(client, "/registres/prestataires", "/registres/prestataires", provider).status_code == 303
    r = post(client, "/registres/prestataires/1", "/questionnaires/demander/1", {"jours": "14"})
    assert r.status_code == 200, r.text
    found = LINK.search(r.text)
    assert found, r.text
    return found.group(1)


def answers_form() -> dict[str, Any]:
    data: dict[str, Any] = {item["id"]: item["choices"][0]["value"] for item in questionnaire.items()}
    data["Q06"] = "sans_objet"
    return data


def test_provider_answers_once_through_the_link(db: Path) -> None:
    admin = signed_in(db)
    link = ask(admin)
    provider = new_client(db)  # no account
    page = provider.get(link)
    assert page.status_code == 200 and "Questionnaire de sécurité du prestataire" in page.text
    token = csrf(page.text)
    made = provider.post(
        f"{link}/certificat",
        data={
            "csrf": token,
            "nom": "Jean Martin",
            "societe": "InfoPharma",
            "courriel": "",
            "mot_de_passe": KEY_PASSWORD,
        },
    )
    assert made.status_code == 200 and made.headers["content-type"] == "application/x-pkcs12"
    p12 = made.content
    # An unanswered question: refused, what was chosen kept.
    partial = {k: v for k, v in answers_form().items() if k != "Q05"}
    r = provider.post(
        link,
        data={"csrf": token, "mot_de_passe": KEY_PASSWORD, **partial},
        files={"certificat": ("moi.p12", p12, "application/x-pkcs12")},
    )
    assert r.status_code == 400 and "Q05" in html.unescape(r.text)
    assert 'id="Q01-oui" name="Q01" value="oui" checked' in r.text
    r = provider.post(
        link,
        data={"csrf": token, "mot_de_passe": KEY_PASSWORD, **answers_form()},
        files={"certificat": ("moi.p12", p12, "application/x-pkcs12")},
    )
    assert r.status_code == 200, html.unescape(r.text)
    assert "auto-signé" in html.unescape(r.text) and "Jean Martin" in r.text
    again = provider.get(link)
    assert again.status_code == 410 and "ne sert qu'une fois" in html.unescape(again.text)
    listing = html.unescape(admin.get("/questionnaires").text)
    assert "InfoPharma" in listing and "(auto-signé)" in listing
    signed = admin.get("/questionnaires/1.pdf")
    assert signed.content.startswith(b"%PDF-")
    # The signed PDF verifies on its own.
    from officine.registers.signing import verify_pdf

    assert "Jean Martin" in verify_pdf(signed.content).signer


def test_wrong_password_and_expired_link_are_refused(db: Path) -> None:
    admin = signed_in(db)
    link = ask(admin)
    provider = new_client(db)
    token = csrf(provider.get(link).text)
    r = provider.post(
        link,
        data={"csrf": token, "mot_de_passe": "x", **answers_form()},
        files={"certificat": ("c.p12", b"junk", "application/x-pkcs12")},
    )
    assert r.status_code == 400 and "mot de passe incorrect" in html.unescape(r.text)
    with Session(Store(f"sqlite:///{db}").engine) as session, session.begin():
        session.execute(update(QuestionnaireRequestRow).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    expired = provider.get(link)
    assert expired.status_code == 410 and "a expiré" in html.unescape(expired.text)
    assert provider.get("/questionnaire/pas-un-vrai-lien-mais-presque").status_code == 410


def test_imported_pdf_with_one_changed_byte_is_refused(db: Path, tmp_path: Path) -> None:
    from officine.registers import signing

    admin = signed_in(db)
    ask(admin)
    store = Store(f"sqlite:///{db}")
    req = questionnaire.request(store, 1, "titulaire")
    form = questionnaire.form_document(store, req, "Pharmacie des Tilleuls")
    identity = signing.load_identity(
        signing.create_identity("Jean Martin", "InfoPharma", "", KEY_PASSWORD), KEY_PASSWORD
    )
    answers = {k: {"reponse": v} for k, v in answers_form().items()}
    pdf = questionnaire.sign(form, answers, identity)
    changed = bytearray(pdf)
    changed[len(pdf) // 3] ^= 0x20
    r = post(
        admin,
        "/questionnaires",
        "/questionnaires/importer",
        {},
        files={"pdf": ("q.pdf", bytes(changed), "application/pdf")},
    )
    assert r.status_code == 400 and "Le PDF est refusé" in html.unescape(r.text)
    r = post(admin, "/questionnaires", "/questionnaires/importer", {}, files={"pdf": ("q.pdf", pdf, "application/pdf")})
    assert r.status_code == 200 and "Questionnaire accepté" in html.unescape(r.text)
