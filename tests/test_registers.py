"""The registers: entries kept with their history, French refusals that store nothing, and the
verdicts that read them (RGPD-01..04, CPS-04, DES-01, CTR-01/02, SAV-06), each fault state
turning the verdict the way the raw data says."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from officine.catalogue.model import Verdict
from officine.errors import UserError
from officine.incident.breach import PARIS
from officine.registers import breaches
from officine.registers.book import PROPOSED, REVIEWED, SYSTEM, UPDATED, WITHDRAWN, RegisterBook, proposals
from officine.services.pharmacy import Pharmacy
from officine.store import Store
from officine.store.models import QuestionnaireRequestRow, QuestionnaireRow, RegisterEntryRow

TODAY = date.today()


@pytest.fixture(autouse=True)
def _release_databases() -> Iterator[None]:
    """Each test's databases closed when it ends: something keeps their engines alive, and the
    whole suite would otherwise run out of file descriptors (select() fails above 1024)."""
    yield
    for obj in gc.get_objects():
        if isinstance(obj, Engine):
            obj.dispose()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'r.db'}")
    yield s
    s.engine.dispose()


def judge(store: Store, answers: dict[str, str] | None = None) -> dict[str, Any]:
    pharmacy = Pharmacy(store)
    for question, value in (answers or {}).items():
        pharmacy.responses.record_answer(question, value, "test", None, datetime.now(UTC))
    assessment, _ = pharmacy.judge([], datetime.now(UTC))
    return {r.measure.id: r for r in assessment.measures}


def machine_lines(result: Any) -> list[str]:
    return [e.text for e in result.evidence if e.source == "machine"]


CARD = {"titulaire": "Marie Curie", "type": "cps", "numero": "8100012345", "expiration": "2029-05-01"}
DISK = {
    "identifiant": "WD-WCC4E1234567",
    "support": "disque_dur",
    "contenu": "Base du logiciel d'officine (2015-2024)",
    "methode": "ecrasement_3_passes",
    "par": "Jean Martin (prestataire)",
    "date": (TODAY - timedelta(days=3)).isoformat(),
    "attestation": "ATT-2026-17",
}
PROVIDER = {
    "nom": "InfoPharma Services",
    "service": "Maintenance des postes et sauvegarde en ligne",
    "date_contrat": "2024-01-15",
    "clauses": [
        "contact_securite",
        "confidentialite",
        "hebergement_ue",
        "notification_incidents",
        "sous_traitants",
        "audit",
        "reversibilite",
        "effacement_supports",
    ],
    "clause_art28": True,
    "acces_systemes": True,
    "hebergement": "OVHcloud, Roubaix",
    "donnees_de_sante": True,
    "certificat_hds": "HDS-2023-0042",
    "hds_expiration": (TODAY + timedelta(days=400)).isoformat(),
    "telemaintenance": "TeamViewer",
    "autorisation_session": "chaque_session",
}


# -- the book: history, versions, refusals ---------------------------------------------------------
def test_every_change_is_a_new_version_with_who_and_when(store: Store) -> None:
    book = RegisterBook(store)
    first = book.add("cartes", CARD, "titulaire")
    changed = book.update("cartes", first.number, {**CARD, "numero": "8100099999"}, "adjoint", first.version)
    confirmed = book.update("cartes", first.number, {**CARD, "numero": "8100099999"}, "titulaire", changed.version)
    gone = book.withdraw("cartes", first.number, "titulaire", confirmed.version)
    history = book.versions("cartes", first.number)
    assert [(v.version, v.action, v.by) for v in history] == [
        (1, "created", "titulaire"),
        (2, UPDATED, "adjoint"),
        (3, REVIEWED, "titulaire"),
        (4, WITHDRAWN, "titulaire"),
    ]
    assert history[0].data["numero"] == "8100012345"  # the first version is still there
    assert gone.withdrawn and book.entries("cartes") == []
    assert [e.number for e in book.entries("cartes", include_withdrawn=True)] == [1]
    back = book.restore("cartes", 1, "titulaire", gone.version)
    assert not back.withdrawn and back.data["numero"] == "8100099999"


def test_a_save_from_a_stale_page_is_refused_and_changes_nothing(store: Store) -> None:
    book = RegisterBook(store)
    entry = book.add("cartes", CARD, "titulaire")
    book.update("cartes", entry.number, {**CARD, "numero": "1"}, "adjoint", entry.version)
    with pytest.raises(UserError, match="modifiée entre-temps par adjoint"):
        book.update("cartes", entry.number, {**CARD, "numero": "2"}, "titulaire", entry.version)
    assert book.entry("cartes", entry.number).data["numero"] == "1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("register", "data", "message"),
    [
        ("cartes", {**CARD, "etat": "perdue"}, "date de la perte"),
        ("cartes", {**CARD, "etat": "active", "opposition_le": "2026-01-01"}, "perdue ou volée"),
        ("cartes", {**CARD, "titulaire": "A\u202eB"}, "invisibles"),
        ("cartes", {**CARD, "expiration": "31/02/2026"}, "Expiration|expiration|date"),
        ("destructions", {**DISK, "date": (TODAY + timedelta(days=2)).isoformat()}, "futur"),
        ("destructions", {**DISK, "methode": "au_marteau"}, "Méthode"),
        ("prestataires", {**PROVIDER, "autorisation_session": "sans_objet"}, "télémaintenance"),
        ("prestataires", {**PROVIDER, "hebergement": ""}, "hébergées"),
        ("prestataires", {**PROVIDER, "couleur": "bleu"}, "Rien n'a été enregistré"),
        ("inconnu", {}, "Registre inconnu"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_stored(
    store: Store, register: str, data: dict[str, Any], message: str
) -> None:
    book = RegisterBook(store)
    with pytest.raises(UserError, match=message) as caught:
        book.add(register, data, "titulaire")
    assert "Traceback" not in caught.value.message
    with Session(store.engine) as session:
        assert session.query(RegisterEntryRow).count() == 0


def test_processing_register_is_prefilled_once_with_an_officine_s_processings(store: Store) -> None:
    book = RegisterBook(store)
    assert book.prefill("traitements", proposals("traitements"))
    assert not book.prefill("traitements", proposals("traitements"))  # a second visit adds nothing
    entries = book.entries("traitements")
    names = " | ".join(e.data["nom"] for e in entries)
    for expected in ("Dispensation", "Dossier pharmaceutique", "Tiers payant", "fidélité", "Vidéo", "paie"):
        assert expected.lower() in names.lower(), expected
    assert all(e.reviewed_at is None and e.changed_by == SYSTEM for e in entries)
    assert {v.action for v in book.versions("traitements")} == {PROPOSED}


# -- verdicts from the registers ---------------------------------------------------------------
def test_empty_registers_leave_the_questions_to_decide(store: Store) -> None:
    results = judge(store)
    for measure in ("RGPD-01", "RGPD-02", "RGPD-04", "CPS-04", "DES-01", "CTR-01", "CTR-02"):
        assert results[measure].measure.verification == "mixed"
        assert results[measure].verdict is Verdict.needs_answer, measure


def test_processing_register_proposals_do_not_pass_until_a_person_reviews_them(store: Store) -> None:
    book = RegisterBook(store)
    book.prefill("traitements", proposals("traitements"))
    results = judge(store, {"RGPD-01.q1": "oui", "RGPD-02.q1": "oui"})
    # Retention periods written by officine-cyber are proposals until someone confirms them.
    filled = next(e for e in book.entries("traitements") if e.data["conservation"])
    assert any(filled.label in t and "à confirmer" in t for t in machine_lines(results["RGPD-02"]))
    # Proposals nobody read: the register is not kept, whatever the answer says.
    assert results["RGPD-01"].verdict is Verdict.fail
    assert any("n'a été relu" in t for t in machine_lines(results["RGPD-01"]))
    for entry in book.entries("traitements"):
        book.review("traitements", entry.number, "titulaire", entry.version)
    results = judge(store)
    assert results["RGPD-01"].verdict is Verdict.passed
    assert any("Traitement n° 1 « Dispensation" in t and "relu le" in t for t in machine_lines(results["RGPD-01"]))
    # Retention periods left empty in the proposals stay to be fixed (RGPD-02 names them).
    empty = [e for e in book.entries("traitements") if not e.data["conservation"]]
    assert empty, "the prefill leaves some retention periods to the pharmacy"
    assert results["RGPD-02"].verdict is Verdict.fail
    assert any(empty[0].label in t and "à fixer" in t for t in machine_lines(results["RGPD-02"]))


def test_a_review_older_than_a_year_is_not_current(store: Store) -> None:
    book = RegisterBook(store)
    entry = book.add("traitements", proposals("traitements")[0], "titulaire")
    with Session(store.engine) as session, session.begin():
        session.execute(update(RegisterEntryRow).values(recorded_at=datetime.now(UTC) - timedelta(days=400)))
    results = judge(store)
    assert results["RGPD-01"].verdict is Verdict.fail
    assert any(entry.label in t and "plus d'un an" in t for t in machine_lines(results["RGPD-01"]))


def test_a_lost_card_without_opposition_fails_and_passes_once_declared(store: Store) -> None:
    book = RegisterBook(store)
    entry = book.add("cartes", CARD, "titulaire")
    lost_on = (TODAY - timedelta(days=1)).isoformat()
    lost = book.update("cartes", entry.number, {**CARD, "etat": "perdue", "date_evenement": lost_on}, "t", 1)
    results = judge(store, {"CPS-04.q1": "oui"})
    assert results["CPS-04"].verdict is Verdict.fail
    assert any("Carte n° 1 « Marie Curie »" in t and "aucune opposition" in t for t in machine_lines(results["CPS-04"]))
    declared = {**CARD, "etat": "perdue", "date_evenement": lost_on, "opposition_le": TODAY.isoformat()}
    book.update("cartes", 1, {**declared, "declaree_a": "ANS (CPS)"}, "t", lost.version)
    assert judge(store)["CPS-04"].verdict is Verdict.passed  # the answer given above still counts
    # Without the answer, knowing how to declare stays a question the register cannot settle.
    other = Store(str(store.engine.url))
    with Session(other.engine) as session, session.begin():
        from officine.store.models import AnswerRow

        session.query(AnswerRow).delete()
    assert judge(store)["CPS-04"].verdict is Verdict.needs_answer


def test_destruction_method_decides_des_01(store: Store) -> None:
    book = RegisterBook(store)
    book.add("destructions", DISK, "titulaire")
    results = judge(store, {"DES-01.q1": "oui"})
    assert results["DES-01"].verdict is Verdict.passed
    assert any("Destruction n° 1 « WD-WCC4E1234567 »" in t for t in machine_lines(results["DES-01"]))
    book.add(
        "destructions", {**DISK, "identifiant": "USB-07", "support": "cle_usb", "methode": "formatage_complet"}, "t"
    )
    results = judge(store)
    assert results["DES-01"].verdict is Verdict.fail
    assert any("USB-07" in t and "récupérables" in t for t in machine_lines(results["DES-01"]))


def add_signed_questionnaire(store: Store, provider: int, signed_at: datetime) -> None:
    now = datetime.now(UTC)
    with Session(store.engine) as session, session.begin():
        request = QuestionnaireRequestRow(
            provider=provider,
            nonce=f"n{provider}{signed_at.timestamp()}"[:32],
            token_sha256=f"{provider}{signed_at.timestamp()}".ljust(64, "0")[:64],
            created_at=signed_at,
            created_by="t",
            expires_at=signed_at + timedelta(days=7),
            answered_at=signed_at,
        )
        session.add(request)
        session.flush()
        session.add(
            QuestionnaireRow(
                request_id=request.id,
                provider=provider,
                pdf=b"%PDF-",
                sha256="0" * 64,
                signer="Jean Martin",
                cert_sha256="0" * 64,
                self_signed=1,
                signed_at=signed_at,
                answers={},
                channel="lien",
                imported_at=now,
                imported_by="t",
            )
        )


def test_providers_register_decides_hosting_contracts_and_remote_sessions(store: Store) -> None:
    book = RegisterBook(store)
    entry = book.add("prestataires", PROVIDER, "titulaire")
    # A valid HDS provider alone is no pass: backups could go elsewhere, unseen without a plan.
    assert judge(store)["SAV-06"].verdict is Verdict.needs_answer
    answers = {"CTR-01.q1": "oui", "CTR-02.q1": "oui", "SAV-06.q1": "oui"}
    results = judge(store, answers)
    # No backup plan here: backups elsewhere cannot be seen, so the answer still counts with the register.
    assert results["SAV-06"].verdict is Verdict.passed
    assert any(
        "Prestataire n° 1 « InfoPharma Services »" in t and "HDS-2023-0042" in t
        for t in machine_lines(results["SAV-06"])
    )
    assert results["CTR-02"].verdict is Verdict.passed
    # It reaches the workstations and never signed a questionnaire: CTR-01 cannot pass.
    assert results["CTR-01"].verdict is Verdict.fail
    assert any("jamais rendu de questionnaire" in t for t in machine_lines(results["CTR-01"]))
    add_signed_questionnaire(store, entry.number, datetime.now(UTC) - timedelta(days=30))
    assert judge(store)["CTR-01"].verdict is Verdict.passed

    expired = {
        **PROVIDER,
        "hds_expiration": (TODAY - timedelta(days=1)).isoformat(),
        "autorisation_session": "acces_permanent",
    }
    book.update("prestataires", entry.number, expired, "titulaire", entry.version)
    results = judge(store)
    assert results["SAV-06"].verdict is Verdict.fail
    assert any("a expiré le" in t and "InfoPharma" in t for t in machine_lines(results["SAV-06"]))
    assert results["CTR-02"].verdict is Verdict.fail

    no_hds = {**PROVIDER, "certificat_hds": "", "hds_expiration": None}
    book.add("prestataires", {**no_hds, "nom": "Cloud grand public"}, "titulaire")
    results = judge(store)
    assert any("Cloud grand public" in t and "sans certificat HDS" in t for t in machine_lines(results["SAV-06"]))


def test_old_questionnaire_and_missing_art28_clause(store: Store) -> None:
    book = RegisterBook(store)
    book.add("prestataires", PROVIDER, "titulaire")
    add_signed_questionnaire(store, 1, datetime.now(UTC) - timedelta(days=400))
    results = judge(store, {"CTR-01.q1": "oui"})
    assert results["CTR-01"].verdict is Verdict.warn
    book.add("prestataires", {**PROVIDER, "nom": "Éditeur LGO", "clause_art28": False}, "titulaire")
    results = judge(store)
    assert results["CTR-01"].verdict is Verdict.fail
    assert any("Éditeur LGO" in t and "art. 28" in t for t in machine_lines(results["CTR-01"]))


def test_breach_register_verdicts_follow_each_decision(store: Store) -> None:
    found = (datetime.now(UTC) - timedelta(days=5)).astimezone(PARIS).replace(tzinfo=None)
    form = breaches.parse({"nature": "Ordinateur portable volé", "decouverte": found.isoformat(timespec="minutes")})
    saved, _ = breaches.save(form, "titulaire")
    results = judge(store, {"RGPD-04.q1": "oui"})
    assert results["RGPD-04"].verdict is Verdict.fail  # five days, no decision: the 72 hours passed
    assert any("Violation n° 1 « Ordinateur portable volé »" in t for t in machine_lines(results["RGPD-04"]))
    decided = breaches.parse(
        {
            "nature": "Ordinateur portable volé",
            "decouverte": found.isoformat(timespec="minutes"),
            "decision": "non_notifiee",
            "raison": "risque improbable : disque chiffré, clé non compromise",
        }
    )
    breaches.save(decided, "titulaire", number=saved.id)
    results = judge(store)
    assert results["RGPD-04"].verdict is Verdict.passed
    assert [v.versions for v in breaches.views()] == [2]  # both versions kept in the chain
    with pytest.raises(UserError, match="n° 9"):
        breaches.save(decided, "titulaire", number=9)
