"""evaluate(): catalogue + snapshots + answers -> assessment. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from officine.answers import AcceptedException, Answers
from officine.catalogue.loader import Messages
from officine.catalogue.model import Catalogue, Measure, Severity, Verdict
from officine.checks.base import COMBINED_RANK, CheckContext, CheckSpec, FactUnavailable, Finding, Outcome
from officine.dates import day
from officine.facts import Fact, FactStatus
from officine.reference import Reference
from officine.snapshot import Snapshot

SEVERITY_WEIGHT = {Severity.critical: 4, Severity.high: 3, Severity.medium: 2, Severity.low: 1}
CREDIT = {Verdict.passed: 1.0, Verdict.warn: 0.5}  # unknown and needs_answer earn nothing
PRIORITY_COUNT = 5
PRIORITY_VERDICT = {Verdict.fail: 0, Verdict.unknown: 1, Verdict.needs_answer: 2, Verdict.warn: 3}
# Something to fix (or to verify); an unanswered question is asked apart, not listed as an action.
ACTION_VERDICTS = (Verdict.fail, Verdict.unknown, Verdict.warn)


def priority_key(severity: str, verdict: str, position: int) -> tuple[int, int, int]:
    """The one order of urgency, for every list a person reads (home, terminal, report, PDF):
    the most severe measure first, then fail, unknown, needs_answer, warn, then catalogue order."""
    return (-SEVERITY_WEIGHT[Severity(severity)], PRIORITY_VERDICT.get(Verdict(verdict), 9), position)


@dataclass
class Evidence:
    source: str  # "machine" or "answer"
    verdict: Verdict
    text: str
    host: str | None = None
    snapshot_id: str | None = None
    collected_at: str | None = None
    reason: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    item: str | None = None  # the item a finding is about (an account, a port, file:line...)

    def to_json(self) -> dict[str, Any]:
        data = {
            "source": self.source,
            "verdict": self.verdict.value,
            "text": self.text,
            "host": self.host,
            "snapshot_id": self.snapshot_id,
            "collected_at": self.collected_at,
            "reason": self.reason,
            "values": self.values,
        }
        if self.item is not None:
            data["item"] = self.item
        return data


@dataclass
class MeasureResult:
    measure: Measure
    practice_id: str
    verdict: Verdict
    evidence: list[Evidence]
    remediation: str
    exception: AcceptedException | None = None
    exception_expired: bool = False
    # The steps for each group of workstations whose system calls for different ones (the
    # workstations to act on first); one entry without hosts when the steps are the same for all.
    remediations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def excepted(self) -> bool:
        return self.exception is not None and not self.exception_expired

    def to_json(self) -> dict[str, Any]:
        m = self.measure
        return {
            "id": m.id,
            "practice": self.practice_id,
            "title": m.title,
            "severity": m.severity.value,
            "verification": m.verification,
            "verdict": self.verdict.value,
            "evidence": [e.to_json() for e in self.evidence],
            "remediation": self.remediation,
            "remediations": self.remediations or [{"hosts": [], "text": self.remediation}],
            "action": m.action,
            "why": m.why,
            "exception": None
            if self.exception is None
            else {**self.exception.model_dump(mode="json"), "expired": self.exception_expired},
        }


@dataclass
class PracticeResult:
    id: str
    title: str
    score: int | None
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "score": self.score, "counts": self.counts}


@dataclass
class Assessment:
    score: int | None
    practices: list[PracticeResult]
    measures: list[MeasureResult]
    priorities: list[MeasureResult]
    evaluated_on: date
    catalogue_version: str
    hosts: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "evaluated_on": self.evaluated_on.isoformat(),
            "catalogue_version": self.catalogue_version,
            "hosts": self.hosts,
            "practices": [p.to_json() for p in self.practices],
            "measures": [m.to_json() for m in self.measures],
            "priorities": [
                {
                    "id": m.measure.id,
                    "title": m.measure.title,
                    "verdict": m.verdict.value,
                    "action": m.measure.action,
                }
                for m in self.priorities
            ],
        }


def _score(results: list[MeasureResult]) -> int | None:
    total = earned = 0.0
    for r in results:
        if r.verdict is Verdict.not_applicable or r.excepted:
            continue  # set aside: out of the denominator, never silently (listed everywhere)
        weight = SEVERITY_WEIGHT[r.measure.severity]
        total += weight
        earned += weight * CREDIT.get(r.verdict, 0.0)
    return round(100 * earned / total) if total else None


def _unavailable(exc: FactUnavailable) -> Outcome:
    fact = exc.fact
    if fact is not None and fact.status is FactStatus.not_applicable:
        return Outcome(Verdict.not_applicable, "fact_not_applicable", {"detail": fact.detail or ""})
    cause = fact.reason if fact is not None and fact.reason else "not_recorded"
    detail = fact.detail if fact is not None and fact.detail else exc.name
    return Outcome(Verdict.unknown, "fact_unknown", {"cause": cause, "detail": detail, "fact": exc.name})


def _machine_evidence(
    measure: Measure, outcome: Outcome, messages: Messages, snap: Snapshot | None = None
) -> list[Evidence]:
    """One evidence line per finding of a host's (or the site's) outcome."""
    return [_finding_evidence(measure, f, messages, snap) for f in outcome.items()]


def _finding_evidence(measure: Measure, found: Finding, messages: Messages, snap: Snapshot | None) -> Evidence:
    values = found.values
    if found.reason == "fact_unknown" and "why" not in values:
        # Why a fact could not be observed is worded once, in messages.yaml.
        cause = str(values.get("cause", "not_recorded"))
        values = {**values, "why": messages.unknown_reasons.get(cause, cause)}
    return Evidence(
        "machine",
        found.verdict,
        messages.evidence(measure.id, found.reason, values),
        host=snap.hostname if snap else None,
        snapshot_id=snap.snapshot_id if snap else None,
        collected_at=snap.collected_at.isoformat() if snap else None,
        reason=found.reason,
        values=values,
        item=found.item,
    )


def _host_outcome(
    measure: Measure,
    spec: CheckSpec | None,
    snap: Snapshot,
    answers: Answers,
    reference: Reference,
    site_facts: dict[str, Fact],
) -> Outcome:
    if measure.verification == "question":
        raise AssertionError("question measures have no machine outcome")
    if snap.platform not in measure.platforms or spec is None:
        if measure.verification == "mixed":
            ctx = CheckContext(
                measure, {}, answers.for_measure(measure.id), snap.platform, snap.collected_at, reference
            )
            return ctx.answer_or_needs()
        return Outcome(Verdict.unknown, "no_check_for_platform", {"platform": snap.platform})
    # Facts about the whole pharmacy (e.g. its approved USB devices) are visible to every host check.
    facts = {**site_facts, **snap.facts}
    ctx = CheckContext(measure, facts, answers.for_measure(measure.id), snap.platform, snap.collected_at, reference)
    try:
        return spec.func(ctx)
    except FactUnavailable as exc:
        outcome = _unavailable(exc)
        return (
            ctx.with_answer(outcome)
            if measure.verification == "mixed" and outcome.verdict is Verdict.unknown
            else outcome
        )


def _site_outcome(
    measure: Measure,
    spec: CheckSpec,
    site_facts: dict[str, Fact],
    answers: Answers,
    reference: Reference,
) -> Outcome:
    """A measure judged once for the whole pharmacy (backups...), not per workstation."""
    ctx = CheckContext(measure, site_facts, answers.for_measure(measure.id), "site", datetime.min, reference)
    try:
        return spec.func(ctx)
    except FactUnavailable as exc:
        return _unavailable(exc)


def _system(snap: Snapshot) -> tuple[set[str], set[str] | None]:
    """A workstation's distribution names (os-release ID and ID_LIKE) and its known tools."""
    info = snap.facts.get("os.info")
    systems: set[str] = set()
    if info is not None and info.status is FactStatus.observed and isinstance(info.value, dict):
        systems = {str(info.value.get("id") or "")} | {str(x) for x in info.value.get("id_like") or []}
    tools = snap.facts.get("software.admin_tools")
    installed = None
    if tools is not None and tools.status is FactStatus.observed and isinstance(tools.value, dict):
        installed = {str(x) for x in tools.value.get("installed") or []}
    return systems - {""}, installed


def _advice(measure: Measure, judged: list[tuple[Snapshot, Verdict]]) -> list[dict[str, Any]]:
    """The steps per group of workstations: those to act on, each with the steps its system needs."""
    to_act = [s for s, v in judged if v in (Verdict.fail, Verdict.warn, Verdict.unknown)] or [s for s, _ in judged]
    groups: dict[str, list[str]] = {}
    for snap in to_act:
        text = measure.fix.for_host(snap.platform, *_system(snap))
        groups.setdefault(text, []).append(snap.hostname)
    if len(groups) == 1:
        return [{"hosts": [], "text": next(iter(groups))}]
    return [{"hosts": hosts, "text": text} for text, hosts in groups.items()]


def _answer_evidence(measure: Measure, answers: Answers) -> list[Evidence]:
    evidence = []
    for q in measure.questions:
        value = answers.values.get(q.id)
        if value is None:
            continue
        choice = next(c for c in q.choices if c.value == value)
        origin = answers.origins.get(q.id)
        if origin is not None:
            who = origin.by
            when = f", le {day(origin.at)}" + (f", preuve « {origin.proof} »" if origin.proof else "")
        else:
            who = answers.answered_by or q.audience
            when = f", le {day(answers.answered_at)}" if answers.answered_at else ""
        evidence.append(
            Evidence(
                "answer",
                choice.verdict,
                f"{q.text} — réponse ({who}{when}) : « {choice.label} »",
                reason="answer",
                values={"question": q.id, "answer": value},
            )
        )
    return evidence


def evaluate(
    catalogue: Catalogue,
    snapshots: list[Snapshot],
    answers: Answers,
    checks: dict[str, CheckSpec],
    messages: Messages,
    reference: Reference,
    today: date,
    site_facts: dict[str, Fact] | None = None,
) -> Assessment:
    """Judge every measure of the catalogue. `today` decides whether exceptions have expired;
    `site_facts` are facts about the pharmacy rather than one workstation (backups)."""
    results: list[MeasureResult] = []
    practices: list[PracticeResult] = []
    for practice in catalogue.practices:
        practice_results = []
        for measure in practice.measures:
            evidence: list[Evidence] = []
            judged: list[tuple[Snapshot, Verdict]] = []
            spec = checks.get(measure.id)
            if spec is not None and spec.scope == "site":
                outcome = _site_outcome(measure, spec, site_facts or {}, answers, reference)
                verdict = outcome.verdict
                evidence += _machine_evidence(measure, outcome, messages)
            elif measure.verification == "question":
                ctx = CheckContext(measure, {}, answers.for_measure(measure.id), "", datetime.min, reference)
                verdict = ctx.answer_or_needs().verdict
                if verdict is Verdict.needs_answer:
                    evidence.append(
                        Evidence(
                            "answer",
                            verdict,
                            messages.generic.get("needs_answer", "Question à renseigner."),
                            reason="needs_answer",
                        )
                    )
            elif not snapshots:
                verdict = Verdict.unknown
                evidence.append(
                    Evidence(
                        "machine",
                        verdict,
                        messages.generic.get("no_snapshot", "Aucun poste audité."),
                        reason="no_snapshot",
                    )
                )
            else:
                verdicts = []
                for snap in snapshots:
                    outcome = _host_outcome(measure, checks.get(measure.id), snap, answers, reference, site_facts or {})
                    verdicts.append(outcome.verdict)
                    judged.append((snap, outcome.verdict))
                    evidence += _machine_evidence(measure, outcome, messages, snap)
                verdict = max(verdicts, key=lambda v: COMBINED_RANK[v])
            evidence += _answer_evidence(measure, answers)
            exception = answers.exceptions.get(measure.id)
            platform = next((s.platform for s in snapshots), None)
            advice = _advice(measure, judged) if judged else [{"hosts": [], "text": measure.fix.for_platform(platform)}]
            result = MeasureResult(
                measure,
                practice.id,
                verdict,
                evidence,
                str(advice[0]["text"]),
                exception,
                exception is not None and exception.until is not None and exception.until < today,
                advice,
            )
            practice_results.append(result)
        counts: dict[str, int] = {}
        for r in practice_results:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
        practices.append(PracticeResult(practice.id, practice.title, _score(practice_results), counts))
        results += practice_results
    order = {m.id: i for i, m in enumerate(m for p in catalogue.practices for m in p.measures)}
    candidates = [r for r in results if r.verdict in ACTION_VERDICTS and not r.excepted]
    candidates.sort(key=lambda r: priority_key(r.measure.severity.value, r.verdict.value, order[r.measure.id]))
    hosts = [
        {
            "hostname": s.hostname,
            "platform": s.platform,
            "snapshot_id": s.snapshot_id,
            "collected_at": s.collected_at.isoformat(),
            "mode": s.mode,
            "privileged": bool(s.collector.get("privileged")),
            # What an administrator's run would have added: facts refused for lack of rights.
            "needs_privileges": sorted(name for name, fact in s.facts.items() if fact.reason == "permission_denied"),
        }
        for s in snapshots
    ]
    return Assessment(_score(results), practices, results, candidates[:PRIORITY_COUNT], today, catalogue.version, hosts)
