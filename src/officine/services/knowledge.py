"""What the judgement needs besides facts and answers (catalogue, messages, checks), validated
together, and the one place where the surfaces call evaluate()."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from officine.answers import Answers
from officine.catalogue.loader import CatalogueError, Messages, load_catalogue, load_messages
from officine.catalogue.model import Catalogue, Measure, Question
from officine.checks import CheckSpec, load_checks
from officine.evaluate import Assessment, evaluate
from officine.facts import Fact
from officine.reference import load_reference
from officine.snapshot import Snapshot


@dataclass
class Knowledge:
    """Everything the judgement needs besides facts and answers, validated together."""

    catalogue: Catalogue
    messages: Messages
    checks: dict[str, CheckSpec]

    def measures(self) -> dict[str, Measure]:
        return {m.id: m for p in self.catalogue.practices for m in p.measures}

    def questions(self) -> dict[str, Question]:
        return {q.id: q for p in self.catalogue.practices for m in p.measures for q in m.questions}

    def judge(
        self, snapshots: list[Snapshot], answers: Answers, site_facts: dict[str, Fact], today: date
    ) -> Assessment:
        """evaluate() with this knowledge and the reference data: every surface judges here."""
        return evaluate(
            self.catalogue, snapshots, answers, self.checks, self.messages, load_reference(), today, site_facts
        )


def load_knowledge() -> Knowledge:
    catalogue, messages, checks = load_catalogue(), load_messages(), load_checks()
    validate_consistency(catalogue, messages, checks)
    return Knowledge(catalogue, messages, checks)


def validate_consistency(catalogue: Catalogue, messages: Messages, checks: dict[str, CheckSpec]) -> None:
    """A broken catalogue fails at start-up, naming the measure and the field."""
    measures = {m.id: m for p in catalogue.practices for m in p.measures}
    for mid, measure in measures.items():
        if measure.verification != "question" and mid not in checks:
            raise CatalogueError(
                f"Catalogue invalide — mesure {mid}, champ verification : "
                f"« {measure.verification} » mais aucune vérification n'est programmée"
            )
    for mid, spec in checks.items():
        if mid not in measures:
            raise CatalogueError(
                f"Catalogue invalide — mesure {mid} : vérification programmée pour une mesure absente du catalogue"
            )
        if measures[mid].verification == "question":
            raise CatalogueError(
                f"Catalogue invalide — mesure {mid}, champ verification : « question » "
                "alors qu'une vérification automatique existe"
            )
        templates = messages.measures.get(mid, {})
        for reason in spec.reasons:
            if reason not in templates:
                raise CatalogueError(f"Messages incomplets — mesure {mid}, champ {reason} : texte manquant")
