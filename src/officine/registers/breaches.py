"""The breach register (GDPR art. 33.5) as the registers show and edit it: the incident
assistant's hash-chained journal (`officine.incident.register`). A change is a new entry with
the same number, appended to the chain: nothing is rewritten, and the chain is verified each
time the register is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from officine.errors import UserError
from officine.incident.anchor import Anchor
from officine.incident.breach import NOTIFICATION_DELAY, PARIS, Breach, deadline
from officine.incident.journal import Appended
from officine.incident.register import history, list_breaches, record, register_journal
from officine.incident.verification import ALTERED
from officine.registers.schemas import LONG, SHORT, Line, _Entry, errors_by_field, refusal

Decision = Literal["notifiee", "non_notifiee", "en_attente"]
LABELS = {
    "nature": "Ce qui s'est passé",
    "decouverte": "Découverte le",
    "survenue": "Survenue le",
    "personnes": "Personnes concernées",
    "nombre_personnes": "Nombre approximatif de personnes",
    "donnees": "Données concernées",
    "nombre_enregistrements": "Nombre approximatif d'enregistrements",
    "consequences": "Conséquences probables",
    "mesures": "Mesures prises ou envisagées",
    "contact": "Contact (DPO ou autre)",
    "decision": "Décision",
    "notifiee_le": "Notifiée à la CNIL le",
    "raison": "Raison de ne pas notifier",
    "etape": "Type de notification",
}
DECISIONS = {
    "notifiee": "Notifiée à la CNIL",
    "non_notifiee": "Non notifiée (risque improbable, raison notée)",
    "en_attente": "Décision à prendre (72 heures au plus)",
}


class BreachForm(_Entry):
    """A breach as a person writes it (form, file, command line); times are Paris time."""

    nature: Line = Field(min_length=3, max_length=LONG)
    decouverte: datetime
    survenue: datetime | None = None
    personnes: Line = Field(default="", max_length=LONG)
    nombre_personnes: int | None = Field(default=None, ge=0, le=100_000_000)
    donnees: Line = Field(default="", max_length=LONG)
    nombre_enregistrements: int | None = Field(default=None, ge=0, le=1_000_000_000)
    consequences: Line = Field(default="", max_length=LONG)
    mesures: Line = Field(default="", max_length=LONG)
    contact: Line = Field(default="", max_length=SHORT)
    decision: Decision = "en_attente"
    notifiee_le: datetime | None = None
    raison: Line = Field(default="", max_length=LONG)
    etape: Literal["initiale", "complémentaire"] = "initiale"

    @model_validator(mode="after")
    def _decision(self) -> BreachForm:
        now = datetime.now(UTC)
        found = _paris(self.decouverte)
        if found > now:
            raise ValueError("la découverte ne peut pas être dans le futur")
        if self.survenue is not None and _paris(self.survenue) > found:
            raise ValueError("la violation ne peut pas être survenue après sa découverte")
        if self.decision == "notifiee":
            if self.notifiee_le is None:
                raise ValueError("indiquez quand la violation a été notifiée à la CNIL")
            if _paris(self.notifiee_le) < found or _paris(self.notifiee_le) > now:
                raise ValueError("la notification doit dater d'entre la découverte et maintenant")
        elif self.notifiee_le is not None:
            raise ValueError("une date de notification pour une violation non notifiée")
        if self.decision == "non_notifiee" and len(self.raison) < 10:
            raise ValueError(
                "une violation non notifiée doit dire pourquoi (par exemple « risque improbable : fichier "
                "chiffré, clé non compromise »)"
            )
        return self

    def summary(self) -> str:
        return self.nature

    def breach(self, number: int | None) -> Breach:
        return Breach(
            discovered_at=_paris(self.decouverte),
            nature=self.nature,
            occurred_at=_paris(self.survenue) if self.survenue else None,
            categories_people=self.personnes,
            approx_people=self.nombre_personnes,
            categories_records=self.donnees,
            approx_records=self.nombre_enregistrements,
            consequences=self.consequences,
            measures=self.mesures,
            contact=self.contact,
            notified=self.decision == "notifiee",
            notified_at=_paris(self.notifiee_le) if self.notifiee_le else None,
            not_notified_reason=self.raison if self.decision == "non_notifiee" else "",
            stage=self.etape,
            id=number,
        )


def _paris(moment: datetime) -> datetime:
    """A time typed without a zone is Paris time (as people read their clock)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def decision_of(b: Breach) -> str:
    if b.notified:
        return "notifiee"
    return "non_notifiee" if b.not_notified_reason.strip() else "en_attente"


def form_of(b: Breach) -> dict[str, Any]:
    """The form's values for a recorded breach (Paris time, as typed)."""

    def local(moment: datetime | None) -> str:
        return f"{moment.astimezone(PARIS):%Y-%m-%dT%H:%M}" if moment else ""

    return {
        "nature": b.nature,
        "decouverte": local(b.discovered_at),
        "survenue": local(b.occurred_at),
        "personnes": b.categories_people,
        "nombre_personnes": "" if b.approx_people is None else str(b.approx_people),
        "donnees": b.categories_records,
        "nombre_enregistrements": "" if b.approx_records is None else str(b.approx_records),
        "consequences": b.consequences,
        "mesures": b.measures,
        "contact": b.contact,
        "decision": decision_of(b),
        "notifiee_le": local(b.notified_at),
        "raison": b.not_notified_reason,
        "etape": b.stage if b.stage in ("initiale", "complémentaire") else "initiale",
    }


def parse(data: dict[str, Any], where: str = "") -> BreachForm:
    try:
        return BreachForm.model_validate(_cleaned(data))
    except ValidationError as exc:
        raise UserError(f"{refusal(exc, LABELS, where)} Rien n'a été noté.") from exc


def field_errors(data: dict[str, Any]) -> dict[str, str]:
    return errors_by_field(BreachForm, _cleaned(data), LABELS)


def _cleaned(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "" and k in _OPTIONAL else v) for k, v in data.items()}


_OPTIONAL = ("survenue", "nombre_personnes", "nombre_enregistrements", "notifiee_le")


@dataclass(frozen=True)
class BreachView:
    breach: Breach
    decision: str
    deadline: datetime
    versions: int
    changed_at: datetime | None
    changed_by: str

    @property
    def number(self) -> int:
        return self.breach.id or 0

    @property
    def label(self) -> str:
        return f"Violation n° {self.number} « {self.breach.nature} »"


def views(anchor: Anchor | None = None) -> list[BreachView]:
    """Every breach as it stands, with its decision and who changed it last."""
    entries = register_journal(anchor).entries()
    last: dict[int, dict[str, Any]] = {}
    counts: dict[int, int] = {}
    for entry in entries:
        details = entry.get("details")
        if (
            entry.get("action") == "breach_recorded"
            and isinstance(details, dict)
            and isinstance(details.get("id"), int)
        ):
            last[details["id"]] = entry
            counts[details["id"]] = counts.get(details["id"], 0) + 1
    result = []
    for b in list_breaches(anchor):
        number = b.id or 0
        raw = last.get(number, {})
        at = raw.get("at")
        result.append(
            BreachView(
                b,
                decision_of(b),
                deadline(b.discovered_at),
                counts.get(number, 1),
                datetime.fromisoformat(at) if isinstance(at, str) else None,
                str(raw.get("actor") or ""),
            )
        )
    return result


def versions(number: int, anchor: Anchor | None = None) -> list[tuple[Breach, dict[str, Any]]]:
    return history(number, anchor)


def altered(anchor: Anchor | None = None) -> str | None:
    """What is wrong with the register's chain, in French, or None when it is intact (or empty)."""
    journal = register_journal(anchor)
    if not journal.path.exists():
        return None
    check = journal.verify()
    if check.status != ALTERED:
        return None
    first = next((p for p in check.problems if p.severity == ALTERED), None)
    return first.message if first else "registre modifié après coup"


def save(
    form: BreachForm, actor: str, number: int | None = None, anchor: Anchor | None = None
) -> tuple[Breach, Appended]:
    """A new breach, or a new version of breach `number`, appended to the chained register."""
    b = form.breach(number)
    return record(b, actor, anchor, decision_pending=True)


def signature() -> tuple[int, int]:
    """The register's size and modification time: it grows with every entry."""
    journal = register_journal(None)
    try:
        st = journal.path.stat()
    except OSError:
        return (0, 0)
    return (st.st_size, st.st_mtime_ns)


def late(view: BreachView, now: datetime) -> bool:
    """A breach without a decision once the 72 hours have passed."""
    return (
        view.decision == "en_attente"
        and now.astimezone(UTC) > view.breach.discovered_at.astimezone(UTC) + NOTIFICATION_DELAY
    )


__all__ = ["DECISIONS", "LABELS", "BreachForm", "BreachView", "altered", "form_of", "parse", "save", "views"]
