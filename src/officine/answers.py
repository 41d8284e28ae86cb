"""Answers to the catalogue's questions and accepted exceptions, from a YAML or JSON file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from officine.catalogue.model import Catalogue
from officine.errors import UserError
from officine.facts import Fact, observed
from officine.jsonio import JsonError, load_json
from officine.userfiles import decode_text, read_input
from officine.validation import explain
from officine.yamlio import MAX_USER_YAML_BYTES, read_yaml_file


class AcceptedException(BaseModel):
    """A measure set aside on purpose: who decided, why, when, until when."""

    model_config = ConfigDict(extra="forbid")

    measure: str
    justification: str = Field(min_length=10)
    by: str = Field(min_length=2)
    date: dt.date
    until: dt.date | None = None

    @field_validator("justification", "by")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("ne doit pas être vide")
        return v.strip()


class AnswersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    answered_by: str | None = None
    answered_at: dt.date | None = None
    answers: dict[str, str] = Field(default_factory=dict)
    exceptions: list[AcceptedException] = Field(default_factory=list)
    # The pharmacy's own USB storage devices (serial number or Windows device ID), for AMO-01.
    approved_usb_devices: list[str] | None = None


@dataclass(frozen=True)
class AnswerOrigin:
    """Who gave one answer and when (answers given on the dashboard carry their own)."""

    by: str
    at: dt.datetime
    proof: str | None = None  # name of the attached proof file


@dataclass
class Answers:
    values: dict[str, str] = field(default_factory=dict)  # question id -> choice value
    exceptions: dict[str, AcceptedException] = field(default_factory=dict)
    answered_by: str | None = None
    answered_at: dt.date | None = None
    approved_usb_devices: list[str] | None = None
    origins: dict[str, AnswerOrigin] = field(default_factory=dict)  # question id -> who and when

    def for_measure(self, measure_id: str) -> dict[str, str]:
        prefix = measure_id + "."
        return {q: v for q, v in self.values.items() if q.startswith(prefix)}

    def site_facts(self) -> dict[str, Fact]:
        """What the answers declare about the whole pharmacy, as facts every host check may read."""
        if self.approved_usb_devices is None:
            return {}
        declared = {"devices": list(self.approved_usb_devices), "declared_by": self.answered_by}
        return {"removable.approved_usb": observed(declared)}


def _bad(path: Path, why: str) -> UserError:
    return UserError(
        f"Le fichier de réponses {path} est invalide : {why}. Corrigez-le puis relancez ; rien n'a été enregistré."
    )


def parse_answers(
    data: Any,
    catalogue: Catalogue,
    path: Path,
    line_of: Callable[[Sequence[int | str]], int | None] | None = None,
) -> Answers:
    """`line_of` gives the line of a field in the file, when the file is YAML."""
    if data is None:
        return Answers()
    try:
        parsed = AnswersFile.model_validate(data)
    except ValidationError as exc:
        raise _bad(path, explain(exc, where=line_of)) from exc
    if parsed.version != 1:
        raise _bad(path, f"version {parsed.version} inconnue (seule la version 1 existe)")
    questions = {q.id: q for p in catalogue.practices for m in p.measures for q in m.questions}
    measures = {m.id for p in catalogue.practices for m in p.measures}
    values: dict[str, str] = {}
    for qid, raw in parsed.answers.items():
        question = questions.get(qid)
        if question is None:
            raise _bad(path, f"la question « {qid} » n'existe pas dans le catalogue (voir « officine catalogue »)")
        value = str(raw).strip()
        allowed = [c.value for c in question.choices]
        if value not in allowed:
            raise _bad(
                path,
                f"réponse « {value} » impossible pour {qid} ; réponses possibles : " + ", ".join(allowed),
            )
        values[qid] = value
    exceptions: dict[str, AcceptedException] = {}
    for exc_item in parsed.exceptions:
        if exc_item.measure not in measures:
            raise _bad(path, f"l'exception vise la mesure « {exc_item.measure} », qui n'existe pas")
        if exc_item.until is not None and exc_item.until < exc_item.date:
            raise _bad(path, f"l'exception de {exc_item.measure} finit avant d'avoir commencé")
        exceptions[exc_item.measure] = exc_item
    approved = parsed.approved_usb_devices
    if approved is not None and any(not str(d).strip() for d in approved):
        raise _bad(path, "approved_usb_devices contient un identifiant vide")
    return Answers(
        values,
        exceptions,
        parsed.answered_by,
        parsed.answered_at,
        [str(d).strip() for d in approved] if approved is not None else None,
    )


def load_answers(path: Path, catalogue: Catalogue) -> Answers:
    what = "Le fichier de réponses"
    if path.suffix.lower() != ".json":
        document = read_yaml_file(path, what, "Corrigez-le puis relancez ; rien n'a été enregistré.")
        return parse_answers(document.data, catalogue, path, document.line_of)
    text = decode_text(read_input(path, MAX_USER_YAML_BYTES, what), path, what)
    try:
        data = load_json(text)
    except JsonError as exc:
        raise _bad(path, exc.reason) from exc
    return parse_answers(data, catalogue, path)
