"""What a check is: facts (and answers) of one host in, an outcome out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from officine.catalogue.model import Measure, Verdict
from officine.facts import Fact, FactStatus
from officine.reference import Reference


@dataclass(frozen=True)
class Finding:
    """One item observed (an account, a port, a firewall profile, a configuration line with its file
    and line), its verdict, and the message code and values that explain it."""

    verdict: Verdict
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    item: str | None = None  # what the finding is about, stable enough to compare two audits


@dataclass(frozen=True)
class Outcome:
    """A verdict with the message code that explains it and the observed values it quotes.

    A check that looks at several items gives one finding per item (`findings`): the measure's
    verdict is the worst of them (see `worst`), and each finding becomes one evidence line. A check
    with a single conclusion just gives the verdict, reason and values."""

    verdict: Verdict
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    # What the machine itself showed, when the verdict comes from elsewhere (an answer):
    # the evidence line then carries this, not a "conforme" it never observed.
    observed: Verdict | None = None
    findings: tuple[Finding, ...] = ()

    def items(self) -> tuple[Finding, ...]:
        """What the evidence lists: every finding, or the single one this outcome is."""
        return self.findings or (Finding(self.observed or self.verdict, self.reason, self.values),)


def worst(findings: Sequence[Finding]) -> Outcome:
    """The measure's outcome from one finding per item: the worst verdict decides, and the first of
    the worst findings gives the headline reason (the others stay listed)."""
    if not findings:
        raise ValueError("worst() needs at least one finding")
    head = max(findings, key=lambda f: COMBINED_RANK[f.verdict])  # max keeps the first of equals
    return Outcome(head.verdict, head.reason, head.values, findings=tuple(findings))


def finding(verdict: Verdict, reason: str, item: str | None = None, **values: Any) -> Finding:
    return Finding(verdict, reason, values, item)


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
            return replace(machine, verdict=verdict, observed=machine.verdict)
        combined = max((machine.verdict, answered.verdict), key=lambda v: COMBINED_RANK[v])
        return replace(machine, verdict=combined, observed=machine.verdict)

    def unobserved(self, name: str, item: str | None = None) -> Finding:
        """The finding of a fact that could not be observed, for checks that go on without it and
        judge the other items (rendered like a check stopped by the missing fact)."""
        fact = self.facts.get(name)
        if fact is not None and fact.status is FactStatus.not_applicable:
            return Finding(Verdict.not_applicable, "fact_not_applicable", {"detail": fact.detail or ""}, item)
        cause = fact.reason if fact is not None and fact.reason else "not_recorded"
        detail = fact.detail if fact is not None and fact.detail else name
        return Finding(Verdict.unknown, "fact_unknown", {"cause": cause, "detail": detail, "fact": name}, item)

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
