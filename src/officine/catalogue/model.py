"""Schema of the measures catalogue.

The catalogue is data (YAML shipped in the package). This schema validates it
at load time so that a broken catalogue fails at start-up, naming the measure
and the field at fault.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MEASURE_ID = re.compile(r"^[A-Z]{2,5}-\d{2}$")
QUESTION_ID = re.compile(r"^[A-Z]{2,5}-\d{2}\.q\d+$")


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class Verdict(StrEnum):
    passed = "pass"
    fail = "fail"
    warn = "warn"
    unknown = "unknown"
    not_applicable = "not_applicable"
    needs_answer = "needs_answer"


Platform = Literal["linux", "windows", "macos"]
Audience = Literal["pharmacien", "prestataire"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    """A pointer to a document of the bibliography and a section of it."""

    ref: str
    section: str | None = None


class Source(_Strict):
    title: str
    publisher: str | None = None
    url: str | None = None
    note: str | None = None


class Choice(_Strict):
    value: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    verdict: Verdict

    @field_validator("verdict")
    @classmethod
    def _answer_verdicts(cls, v: Verdict) -> Verdict:
        if v in (Verdict.needs_answer, Verdict.unknown):
            raise ValueError("une réponse donne pass, warn, fail ou not_applicable")
        return v


class Question(_Strict):
    id: str
    audience: Audience
    text: str
    help: str | None = None
    choices: list[Choice] = Field(min_length=2)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not QUESTION_ID.match(v):
            raise ValueError(f"identifiant de question invalide : {v!r} (attendu : MDP-05.q1)")
        return v

    @model_validator(mode="after")
    def _unique_values(self) -> Question:
        values = [c.value for c in self.choices]
        if len(values) != len(set(values)):
            raise ValueError("deux choix ont la même valeur")
        return self


class FixVariant(_Strict):
    """Steps for some systems only: a distribution (os-release ID or ID_LIKE) and, optionally,
    a package that must be installed there (ufw rather than nftables on Debian...)."""

    os: list[str] = Field(min_length=1)
    package: str | None = None
    text: str


class Fix(_Strict):
    """How to fix, in plain French; per platform where the steps differ, and per distribution
    where the tools differ (the first variant that fits the workstation wins)."""

    all: str | None = None
    linux: str | None = None
    windows: str | None = None
    macos: str | None = None
    variants: list[FixVariant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Fix:
        if not any((self.all, self.linux, self.windows, self.macos)):
            raise ValueError("au moins un texte de correction est requis")
        return self

    def for_platform(self, platform: str | None) -> str:
        specific = getattr(self, platform, None) if platform in ("linux", "windows", "macos") else None
        return specific or self.all or next(t for t in (self.linux, self.windows, self.macos) if t)

    def for_host(self, platform: str | None, systems: set[str], packages: set[str] | None) -> str:
        """The steps for one workstation: its distribution and what is installed there. A variant
        that needs a package is skipped when the installed packages could not be read."""
        for v in self.variants:
            if systems & set(v.os) and (v.package is None or (packages is not None and v.package in packages)):
                return v.text
        return self.for_platform(platform)


class Measure(_Strict):
    id: str
    title: str
    severity: Severity
    why: str
    action: str = Field(description="One imperative sentence for the priority list.")
    fix: Fix
    sources: list[SourceRef] = Field(min_length=1)
    verification: Literal["automatic", "question", "mixed"]
    platforms: list[Platform] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not MEASURE_ID.match(v):
            raise ValueError(f"identifiant de mesure invalide : {v!r} (attendu : SAV-01)")
        return v

    @model_validator(mode="after")
    def _verification_consistent(self) -> Measure:
        if self.verification in ("automatic", "mixed") and not self.platforms:
            raise ValueError("une mesure vérifiée automatiquement doit lister ses plateformes")
        if self.verification in ("question", "mixed") and not self.questions:
            raise ValueError("une mesure à question doit avoir au moins une question")
        if self.verification == "automatic" and self.questions:
            raise ValueError("une mesure automatique n'a pas de question (utiliser mixed)")
        for q in self.questions:
            if not q.id.startswith(self.id + "."):
                raise ValueError(f"la question {q.id} doit commencer par {self.id}.")
        return self


class Practice(_Strict):
    id: str = Field(pattern=r"^[A-Z]{2,5}$")
    title: str
    summary: str
    measures: list[Measure] = Field(min_length=1)


class Catalogue(_Strict):
    version: str
    sources: dict[str, Source]
    practices: list[Practice] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_checks(self) -> Catalogue:
        seen: set[str] = set()
        for practice in self.practices:
            for m in practice.measures:
                if m.id in seen:
                    raise ValueError(f"{m.id} : identifiant en double")
                seen.add(m.id)
                for s in m.sources:
                    if s.ref not in self.sources:
                        raise ValueError(f"{m.id} : source inconnue {s.ref!r}")
        return self
