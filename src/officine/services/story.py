"""One story for every surface (home, terminal, web report, PDF): which measures are actions and
which are questions, in which order, how they are counted, what each workstation shows, and
what a change of scope means. Pure functions of an assessment document: no I/O, no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from officine.catalogue.model import Verdict
from officine.checks.base import COMBINED_RANK
from officine.evaluate import ACTION_VERDICTS, priority_key

ACTIONS = tuple(v.value for v in ACTION_VERDICTS)
QUESTION = Verdict.needs_answer.value
# Findings that say nothing is to be done: left out of an action's evidence.
QUIET = (Verdict.passed.value, Verdict.not_applicable.value)
# The order verdicts are counted in, worse first.
COUNT_ORDER = ("fail", "warn", "unknown", "needs_answer", "pass", "not_applicable")
RANK = {v.value: r for v, r in COMBINED_RANK.items()}


def excepted(measure: dict[str, Any]) -> bool:
    exception = measure.get("exception")
    return bool(exception and not exception.get("expired"))


def ordered(measures: list[dict[str, Any]], positions: dict[str, int]) -> list[dict[str, Any]]:
    return sorted(measures, key=lambda m: priority_key(m["severity"], m["verdict"], positions.get(m["id"], 0)))


@dataclass
class Sections:
    """What a person has to do, fixes first, then the questions to answer, counted apart."""

    actions: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    excepted: list[dict[str, Any]]
    conforming: list[dict[str, Any]]
    not_applicable: list[dict[str, Any]]


def sections(assessment: dict[str, Any]) -> Sections:
    measures = assessment.get("measures", [])
    positions = {m["id"]: i for i, m in enumerate(measures)}
    open_ = [m for m in measures if not excepted(m)]
    return Sections(
        actions=ordered([m for m in open_ if m["verdict"] in ACTIONS], positions),
        questions=ordered([m for m in open_ if m["verdict"] == QUESTION], positions),
        excepted=[m for m in measures if m.get("exception")],
        conforming=[m for m in open_ if m["verdict"] == Verdict.passed.value],
        not_applicable=[m for m in open_ if m["verdict"] == Verdict.not_applicable.value],
    )


def findings_to_act_on(measure: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings that explain an action: what passed or does not apply is not repeated."""
    return [e for e in measure.get("evidence", []) if e["verdict"] not in QUIET]


@dataclass
class Counts:
    """Measures by verdict, each counted once: an accepted exception is counted as such only."""

    by_verdict: dict[str, int] = field(default_factory=dict)
    excepted: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_verdict.values()) + self.excepted

    def items(self) -> list[tuple[str, int]]:
        return [(v, self.by_verdict[v]) for v in COUNT_ORDER if self.by_verdict.get(v)]


def count(measures: list[dict[str, Any]]) -> Counts:
    counts = Counts()
    for m in measures:
        if excepted(m):
            counts.excepted += 1
        else:
            counts.by_verdict[m["verdict"]] = counts.by_verdict.get(m["verdict"], 0) + 1
    return counts


def practice_counts(assessment: dict[str, Any]) -> dict[str, Counts]:
    by_practice: dict[str, list[dict[str, Any]]] = {}
    for m in assessment.get("measures", []):
        by_practice.setdefault(m["practice"], []).append(m)
    return {p["id"]: count(by_practice.get(p["id"], [])) for p in assessment.get("practices", [])}


# -- one workstation ----------------------------------------------------------------------------


@dataclass
class HostMeasure:
    """A measure as one workstation showed it: the worst of its own findings decides."""

    measure: dict[str, Any]
    verdict: str
    findings: list[dict[str, Any]]


def host_measures(assessment: dict[str, Any], snapshot_id: str) -> list[HostMeasure]:
    """The measures judged on this workstation's snapshot, worst first then in priority order."""
    result = []
    measures = assessment.get("measures", [])
    positions = {m["id"]: i for i, m in enumerate(measures)}
    for m in measures:
        mine = [e for e in m.get("evidence", []) if e.get("snapshot_id") == snapshot_id]
        if mine:
            worst = max((e["verdict"] for e in mine), key=lambda v: RANK.get(v, 0))
            result.append(HostMeasure(m, worst, mine))
    return sorted(
        result,
        key=lambda h: (
            -RANK.get(h.verdict, 0),
            priority_key(h.measure["severity"], h.verdict, positions[h.measure["id"]]),
        ),
    )


def host_counts(assessment: dict[str, Any]) -> dict[str, Counts]:
    """Per workstation snapshot: its measures counted by their verdict on that workstation (not
    its findings: a measure with three failing accounts is one measure to fix)."""
    counts: dict[str, Counts] = {}
    for h in assessment.get("hosts", []):
        mine = host_measures(assessment, h["snapshot_id"])
        counts[h["snapshot_id"]] = count([{**hm.measure, "verdict": hm.verdict} for hm in mine])
    return counts


# -- scope ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeChange:
    """Workstations judged by one audit and not the other (by name, as people know them)."""

    added: list[str]
    removed: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def scope_change(before: list[str], after: list[str]) -> ScopeChange:
    return ScopeChange(sorted(set(after) - set(before)), sorted(set(before) - set(after)))


def shorten(items: list[str], keep: int = 5) -> tuple[list[str], int]:
    """The first `keep` items of a long list, and how many are left unsaid ("… et N autres")."""
    if len(items) <= keep + 1:  # "… et 1 autre" would be no shorter than the item itself
        return items, 0
    return items[:keep], len(items) - keep
