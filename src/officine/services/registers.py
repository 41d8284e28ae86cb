"""The registers as the checks see them: one site fact, `registers.state`, built from what the
pharmacy recorded (processings, breaches, destructions, CPS cards, providers and their signed
questionnaires). Observation only: the judgement is in `officine.checks.registers`.

Each item carries the label that names its entry ("Carte n° 2 « Marie Curie »"), so that the
evidence of a verdict says which entry decided it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from officine.facts import Fact, observed
from officine.registers import breaches
from officine.registers.book import RegisterBook
from officine.store import Store
from officine.store.models import QuestionnaireRow, RegisterEntryRow

FACT = "registers.state"


def _iso(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def questionnaires_signed(store: Store) -> dict[int, datetime]:
    """The date of the latest verified questionnaire of each provider (by provider number)."""
    with Session(store.engine) as session:
        rows = session.execute(
            select(QuestionnaireRow.provider, func.max(QuestionnaireRow.signed_at)).group_by(QuestionnaireRow.provider)
        ).all()
    return {int(p): (at if at.tzinfo else at.replace(tzinfo=UTC)) for p, at in rows if at is not None}


def state(store: Store, now: datetime) -> dict[str, Any]:
    """What each register holds now, reduced to what the checks judge."""
    book = RegisterBook(store)
    processings = [
        {
            "label": e.label,
            "reviewed_at": e.reviewed_at.isoformat() if e.reviewed_at else None,
            "conservation": bool(str(e.data.get("conservation", "")).strip()),
            "aipd": e.data.get("aipd", "a_verifier"),
            "health": bool(e.data.get("donnees_de_sante")),
        }
        for e in book.entries("traitements")
    ]
    destructions = [
        {
            "label": e.label,
            "support": e.data["support"],
            "methode": e.data["methode"],
            "date": e.data["date"],
            "attestation": bool(e.data.get("attestation")),
        }
        for e in book.entries("destructions")
    ]
    cards = [
        {
            "label": e.label,
            "etat": e.data.get("etat", "active"),
            "expiration": _iso(e.data.get("expiration")),
            "date_evenement": _iso(e.data.get("date_evenement")),
            "opposition_le": _iso(e.data.get("opposition_le")),
            "declaree_a": e.data.get("declaree_a", ""),
        }
        for e in book.entries("cartes")
    ]
    signed = questionnaires_signed(store)
    providers = [
        {
            "label": e.label,
            "clauses": list(e.data.get("clauses", [])),
            "clause_art28": bool(e.data.get("clause_art28")),
            "acces_systemes": bool(e.data.get("acces_systemes", True)),
            "donnees_de_sante": bool(e.data.get("donnees_de_sante")),
            "hebergement": e.data.get("hebergement", ""),
            "certificat_hds": e.data.get("certificat_hds", ""),
            "hds_expiration": _iso(e.data.get("hds_expiration")),
            "telemaintenance": e.data.get("telemaintenance", ""),
            "autorisation_session": e.data.get("autorisation_session", "sans_objet"),
            "questionnaire": signed[e.number].isoformat() if e.number in signed else None,
        }
        for e in book.entries("prestataires")
    ]
    views = breaches.views()
    breach_items = [
        {"label": v.label, "decision": v.decision, "late": breaches.late(v, now), "deadline": v.deadline.isoformat()}
        for v in views
    ]
    return {
        "now": now.isoformat(),
        "traitements": processings,
        "violations": {"altered": breaches.altered(), "items": breach_items},
        "destructions": destructions,
        "cartes": cards,
        "prestataires": providers,
    }


def site_facts(store: Store | None, now: datetime) -> dict[str, Fact]:
    """`registers.state` for evaluate(); nothing without a database (the questions then decide)."""
    if store is None:
        return {}
    return {FACT: observed(state(store, now))}


def signature(session: Session) -> str:
    """Changes with every register version, breach or questionnaire: the verdicts are judged again.
    Read in the caller's database session (the dashboard reads it on every page)."""
    parts = [
        session.scalar(select(func.max(RegisterEntryRow.id))),
        session.scalar(select(func.max(QuestionnaireRow.id))),
    ]
    return hashlib.sha256(repr([*parts, breaches.signature()]).encode()).hexdigest()[:16]
