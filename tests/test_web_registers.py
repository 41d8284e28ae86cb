"""The registers' pages: the pre-filled processing register reviewed, entries added and changed
with their history, refused fields marked in French with what was typed kept, a stale form
refused, exports downloaded, and the verdicts following the registers."""

from __future__ import annotations

import gc
import html
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from officine.registers.book import RegisterBook
from officine.store import Store
from web_helpers import csrf, post, signed_in


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


@pytest.fixture
def client(db: Path) -> TestClient:
    return signed_in(db)


def text(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


def test_processing_register_is_prefilled_and_a_proposal_is_reviewed(client: TestClient, db: Path) -> None:
    page = client.get("/registres/traitements")
    assert page.status_code == 200
    body = text(page)
    assert "Dispensation et dossier patient" in body and "jamais relu" in body
    entry = client.get("/registres/traitements/1")
    assert "Jamais relu" in text(entry)
    token = csrf(entry.text)
    r = client.post("/registres/traitements/1/relire", data={"csrf": token, "version": "1"}, follow_redirects=False)
    assert r.status_code == 303
    after = text(client.get("/registres/traitements/1"))
    assert "Relu le" in after and "marie" in after
    assert "Version 2" in after and "relu et validé" in after
    assert "Version 1" in after and "proposé par officine-cyber" in after


def test_bad_input_marks_the_field_and_keeps_what_was_typed(client: TestClient, db: Path) -> None:
    future = (date.today() + timedelta(days=3)).isoformat()
    typed = {
        "identifiant": "SN-ZX-991",
        "support": "disque_dur",
        "contenu": "Ordonnances scannées 2019 <script>",
        "methode": "ecrasement_3_passes",
        "par": "Jean",
        "date": future,
    }
    r = post(client, "/registres/destructions", "/registres/destructions", typed)
    assert r.status_code == 400
    body = text(r)
    assert "la date de destruction ne peut pas être dans le futur" in body
    assert 'value="SN-ZX-991"' in body and "Ordonnances scannées 2019 <script>" in body
    assert "<script>" not in r.text  # shown, escaped, never run
    assert RegisterBook(Store(f"sqlite:///{db}")).entries("destructions") == []

    r = post(
        client, "/registres/cartes", "/registres/cartes", {"titulaire": "", "type": "cps", "expiration": "2026-02-31"}
    )
    assert r.status_code == 400
    body = text(r)
    assert 'aria-invalid="true"' in r.text
    assert body.count('class="field-error"') >= 2  # the name and the impossible date, each marked


def test_lost_card_recorded_then_declared_changes_cps_04(client: TestClient, db: Path) -> None:
    lost_on = (date.today() - timedelta(days=2)).isoformat()
    card = {"titulaire": "Paul Martin", "type": "cps", "etat": "perdue", "date_evenement": lost_on}
    assert post(client, "/registres/cartes", "/registres/cartes", card).status_code == 303
    post(client, "/pratique/CPS/reponse", "/pratique/CPS/reponse", {"question": "CPS-04.q1", "value": "oui"})
    practice = text(client.get("/pratique/CPS"))
    assert "Carte n° 1 « Paul Martin » : perdue le" in practice and "aucune opposition notée" in practice
    declared = {**card, "opposition_le": date.today().isoformat(), "declaree_a": "ANS, 0 825 852 000"}
    page = client.get("/registres/cartes/1")
    r = client.post(
        "/registres/cartes/1", data={"csrf": csrf(page.text), "version": "1", **declared}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    practice = text(client.get("/pratique/CPS"))
    assert "opposition faite le" in practice and "ANS, 0 825 852 000" in practice
    # The same page, read before the change, cannot overwrite it.
    stale = client.post("/registres/cartes/1", data={"csrf": csrf(page.text), "version": "1", **card})
    assert stale.status_code == 400 and "modifiée entre-temps" in text(stale)
    assert RegisterBook(Store(f"sqlite:///{db}")).entry("cartes", 1).data["declaree_a"]  # type: ignore[union-attr]


def test_provider_checkboxes_and_exports(client: TestClient, db: Path) -> None:
    provider = {
        "nom": "InfoPharma",
        "service": "Maintenance",
        "clause_art28": "oui",
        "acces_systemes": "oui",
        "clauses": ["audit", "confidentialite"],
        "telemaintenance": "AnyDesk",
        "autorisation_session": "chaque_session",
    }
    assert post(client, "/registres/prestataires", "/registres/prestataires", provider).status_code == 303
    stored = RegisterBook(Store(f"sqlite:///{db}")).entry("prestataires", 1)
    assert stored is not None and stored.data["clauses"] == ["audit", "confidentialite"]
    assert stored.data["donnees_de_sante"] is False  # an unticked box
    for fmt, magic in (("pdf", b"%PDF-"), ("ods", b"PK"), ("xlsx", b"PK"), ("json", b"{")):
        r = client.get(f"/registres/prestataires/export.{fmt}")
        assert r.status_code == 200 and r.content.startswith(magic), fmt
        assert "attachment" in r.headers["content-disposition"]
    assert client.get("/registres/prestataires/export.exe").status_code == 404
    assert client.get("/registres/cles").status_code == 404  # the signers' pins are not a page
    assert client.get("/registres/cartes/99").status_code == 404


def test_breach_register_shown_and_edited_in_the_chained_journal(client: TestClient, db: Path) -> None:
    breach = {
        "nature": "Courriel envoyé au mauvais destinataire",
        "decouverte": "2026-11-01T10:00",
        "decision": "en_attente",
    }
    r = post(client, "/registres/violations", "/registres/violations", breach)
    assert r.status_code == 303, text(r)
    assert "Courriel envoyé au mauvais destinataire" in text(client.get("/registres/violations"))
    wrong = {**breach, "decision": "non_notifiee", "raison": "non"}
    page = client.get("/registres/violations/1")
    r = client.post("/registres/violations/1", data={"csrf": csrf(page.text), "version": "1", **wrong})
    assert r.status_code == 400 and "doit dire pourquoi" in text(r)
    decided = {**breach, "decision": "non_notifiee", "raison": "risque improbable : un seul patient, message supprimé"}
    r = client.post(
        "/registres/violations/1", data={"csrf": csrf(page.text), "version": "1", **decided}, follow_redirects=False
    )
    assert r.status_code == 303
    body = text(client.get("/registres/violations/1"))
    assert "Version 2" in body and "Version 1" in body


def test_the_report_pdf_names_the_register_entry(client: TestClient, db: Path) -> None:
    """The score and the PDF report carry the verdicts read from the registers."""
    from io import BytesIO

    from pypdf import PdfReader

    lost_on = (date.today() - timedelta(days=2)).isoformat()
    card = {"titulaire": "Paul Martin", "type": "cps", "etat": "volee", "date_evenement": lost_on}
    assert post(client, "/registres/cartes", "/registres/cartes", card).status_code == 303
    report = client.get("/bilan.pdf")
    assert report.status_code == 200
    content = " ".join(" ".join((p.extract_text() or "") for p in PdfReader(BytesIO(report.content)).pages).split())
    assert "Carte n° 1 « Paul Martin » : volée le" in content
    assert client.get("/bilan.json").json()["score"] is not None
