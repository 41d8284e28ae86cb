"""What a check is: facts (and answers) of one host in, an outcome out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from officine.catalogue.model import Measure, Verdict
from officine.facts import Fact, FactStatus
from officine.reference import Reference


@dataclass(frozen=True)
class Outcome:
    """A verdict with the message code that explains it and the observed values it quotes."""

    verdict: Verdict
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    # What the machine itself showed, when the verdict comes from elsewhere (an answer):
    # the evidence line then carries this, not a "conforme" it never observed.
    observed: Verdict | None = None


class FactUnavailable(Exception):
    """Raised by CheckContext.fact(): the check cannot conclude without this fact."""

    def __init__(self, name: str, fact: Fact | None) -> None:
        super().__init__(name)
        self.name = name
        self.fact = fact


@dataclass(frozen=True)
class CheckContext:
    measure: Measure
    facts: dict[str, Fact]
    answers: dict[str, str]  # question id -> chosen value, for this measure
    platform: str
    collected_at: datetime
    reference: Reference

    def fact(self, name: str) -> Any:
        """The observed value of a fact; anything else stops the check (unknown / not applicable)."""
        fact = self.facts.get(name)
        if fact is None or fact.status is not FactStatus.observed:
            raise FactUnavailable(name, fact)
        return fact.value

    def optional(self, name: str) -> Fact | None:
        """The fact itself, whatever its status (for mixed measures that go on without it)."""
        return self.facts.get(name)

    def with_answer(self, machine: Outcome) -> Outcome:
        """Combine what the machine showed with the person's answer: the worse of the two.

        The machine's message stays (it quotes what was observed); an unanswered question
        leaves the measure waiting for an answer unless the machine already failed it."""
        if machine.verdict in (Verdict.fail,):
            return machine
        answered = self.answer()
        if answered is None:
            verdict = Verdict.unknown if machine.verdict is Verdict.unknown else Verdict.needs_answer
            return Outcome(verdict, machine.reason, machine.values, observed=machine.verdict)
        worst = max((machine.verdict, answered.verdict), key=lambda v: COMBINED_RANK[v])
        return Outcome(worst, machine.reason, machine.values, observed=machine.verdict)

    def answer(self) -> Outcome | None:
        """The verdict given by the person's answers (the worst one), or None if unanswered."""
        outcomes = []
        for question in self.measure.questions:
            value = self.answers.get(question.id)
            if value is None:
                continue
            choice = next(c for c in question.choices if c.value == value)
            outcomes.append(Outcome(choice.verdict, "answer", {"question": question.text, "answer": choice.label}))
        if not outcomes:
            return None
        return max(outcomes, key=lambda o: COMBINED_RANK[o.verdict])

    def answer_or_needs(self, **values: Any) -> Outcome:
        answered = self.answer()
        if answered is not None:
            return Outcome(answered.verdict, answered.reason, {**answered.values, **values})
        return Outcome(Verdict.needs_answer, "needs_answer", values)


# Worse verdicts rank higher when several sources (answers, hosts) must be combined.
COMBINED_RANK = {
    Verdict.not_applicable: 0,
    Verdict.passed: 1,
    Verdict.warn: 2,
    Verdict.needs_answer: 3,
    Verdict.unknown: 4,
    Verdict.fail: 5,
}

CheckFunc = Callable[[CheckContext], Outcome]


@dataclass(frozen=True)
class CheckSpec:
    measure_id: str
    reasons: tuple[str, ...]
    func: CheckFunc
    scope: str = "host"  # "host": judged on each workstation; "site": once, from the site's facts


CHECKS: dict[str, CheckSpec] = {}


def check(measure_id: str, reasons: tuple[str, ...], scope: str = "host") -> Callable[[CheckFunc], CheckFunc]:
    """Register the check of a measure, with every message code it may return."""

    def register(func: CheckFunc) -> CheckFunc:
        if measure_id in CHECKS:
            raise ValueError(f"check for {measure_id} registered twice")
        CHECKS[measure_id] = CheckSpec(measure_id, reasons, func, scope)
        return func

    return register


def passed(reason: str, **values: Any) -> Outcome:
    return Outcome(Verdict.passed, reason, values)


def fail(reason: str, **values: Any) -> Outcome:
    return Outcome(Verdict.fail, reason, values)


def warn(reason: str, **values: Any) -> Outcome:
    return Outcome(Verdict.warn, reason, values)


def unknown(reason: str, **values: Any) -> Outcome:
    return Outcome(Verdict.unknown, reason, values)


def not_applicable(reason: str, **values: Any) -> Outcome:
    return Outcome(Verdict.not_applicable, reason, values)
