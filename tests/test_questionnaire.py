"""The provider's questionnaire, signed for real (PAdES through pyHanko) and verified on import:
a changed byte, another key, an expired or already used request are each refused in French and
change nothing; the first signer is pinned; answers are compared with last year's and with the
providers' register."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.registers import questionnaire, signing
from officine.registers.book import RegisterBook
from officine.store import Store
from officine.store.models import QuestionnaireRow

PASS = "Cle-du-prestataire-2026"
PROVIDER = {
    "nom": "InfoPharma",
    "service": "Maintenance et hébergement des sauvegardes",
    "clause_art28": True,
    "donnees_de_sante": True,
    "hebergement": "OVHcloud, Roubaix",
    "certificat_hds": "HDS-2023-0042",
    "hds_expiration": (date.today() + timedelta(days=300)).isoformat(),
}


def all_yes(**overrides: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in questionnaire.items():
        answers[item["id"]] = {"reponse": item["choices"][0]["value"]}
    answers["Q02"].update(
        {"hebergement": "OVHcloud", "certificat_hds": "HDS-2023-0042", "hds_expiration": PROVIDER["hds_expiration"]}
    )
    answers.update(overrides)
    return answers


@pytest.fixture(autouse=True)
def _release_databases() -> Iterator[None]:
    """Each test's databases closed when it ends: something keeps their engines alive, and the
    whole suite would otherwise run out of file descriptors (select() fails above 1024)."""
    yield
    for obj in gc.get_objects():
        if isinstance(obj, Engine):
            obj.dispose()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'q.db'}")
    RegisterBook(s).add("prestataires", PROVIDER, "titulaire")
    return s


@pytest.fixture(scope="module")
def identity() -> signing.Identity:
    p12 = signing.create_identity("Jean Martin", "InfoPharma", "jean@infopharma.example", PASS)
    return signing.load_identity(p12, PASS)


def signed(store: Store, identity: signing.Identity, answers: dict[str, Any] | None = None) -> bytes:
    req = questionnaire.request(store, 1, "titulaire")
    form = questionnaire.form_document(store, req, "Pharmacie des Tilleuls")
    return questionnaire.sign(form, answers or all_yes(), identity)


def count(store: Store) -> int:
    with Session(store.engine) as session:
        return int(session.scalar(select(func.count()).select_from(QuestionnaireRow)) or 0)


def test_signed_questionnaire_verifies_and_pins_its_signer(store: Store, identity: signing.Identity) -> None:
    pdf = signed(store, identity)
    verified = signing.verify_pdf(pdf)
    assert "Jean Martin" in verified.signer and verified.self_signed
    done = questionnaire.import_signed(store, pdf, "titulaire")
    assert done.pinned_now and done.provider_name == "InfoPharma" and done.remarks == []
    assert RegisterBook(store).entry("cles", 1).data["empreinte"] == verified.cert_sha256  # type: ignore[union-attr]
    # The same file again: the request is closed, a file serves once.
    with pytest.raises(UserError, match="déjà été rendu"):
        questionnaire.import_signed(store, pdf, "titulaire")
    assert count(store) == 1


def test_one_changed_byte_is_refused(store: Store, identity: signing.Identity) -> None:
    pdf = signed(store, identity)
    start = pdf.index(b"Questionnaire de s")  # a byte of the signed content (the title metadata or text)
    for position in (start, len(pdf) // 2, pdf.index(b"/Contents <") + 20):
        changed = bytearray(pdf)
        changed[position] ^= 0x01
        with pytest.raises(UserError, match="refusé"):
            questionnaire.import_signed(store, bytes(changed), "titulaire")
    assert count(store) == 0


def test_another_key_is_refused_once_a_signer_is_pinned(store: Store, identity: signing.Identity) -> None:
    questionnaire.import_signed(store, signed(store, identity), "titulaire")
    other = signing.load_identity(signing.create_identity("Jean Martin", "InfoPharma", "", PASS), PASS)
    with pytest.raises(UserError, match="autre clé"):
        questionnaire.import_signed(store, signed(store, other), "titulaire")
    assert count(store) == 1
    questionnaire.reset_pin(store, 1, "titulaire")  # the titulaire accepts the new key
    assert questionnaire.import_signed(store, signed(store, other), "titulaire").pinned_now


def test_expired_request_is_refused(store: Store, identity: signing.Identity) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=20)
    req = questionnaire.request(store, 1, "titulaire", days=14, now=long_ago)
    form = questionnaire.form_document(store, req, "Pharmacie")
    pdf = questionnaire.sign(form, all_yes(), identity)
    with pytest.raises(UserError, match="expiré"):
        questionnaire.import_signed(store, pdf, "titulaire")
    with pytest.raises(UserError, match="expiré"):
        questionnaire.by_token(store, req.token)
    assert count(store) == 0


def test_unanswered_question_and_unknown_provider_are_refused(store: Store, identity: signing.Identity) -> None:
    answers = all_yes()
    del answers["Q07"]
    with pytest.raises(UserError, match="Q07"):
        signed(store, identity, answers)
    with pytest.raises(UserError, match="Pas de prestataire n° 9"):
        questionnaire.request(store, 9, "titulaire")
    with pytest.raises(UserError, match="refusé"):
        questionnaire.import_signed(store, b"%PDF-1.7\n%%EOF", "titulaire")


def test_answers_are_compared_with_last_year_and_the_register(store: Store, identity: signing.Identity) -> None:
    questionnaire.import_signed(store, signed(store, identity), "titulaire")
    worse = all_yes(Q03={"reponse": "non"})
    worse["Q02"] = {
        "reponse": "ue_hds",
        "hebergement": "Autre",
        "certificat_hds": "HDS-OTHER",
        "hds_expiration": "2020-01-01",
    }
    done = questionnaire.import_signed(store, signed(store, identity, worse), "titulaire")
    text = " ".join(done.remarks)
    assert "Q03" in text and "moins bien que l'an dernier" in text
    assert "a expiré le 01/01/2020" in text
    assert "HDS-OTHER" in text and "HDS-2023-0042" in text
