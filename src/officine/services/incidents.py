"""The incident journal as the dashboard shows it: the incident under way with who does what,
each step done or passed and by whom, the past incidents, and the journal as a site fact for
INC-02. Built on the incident package's public functions (open, current, record, entries,
verify), so the page and `officine incident start` write the same journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from officine.errors import UserError
from officine.facts import Fact, observed
from officine.incident.journal import Entry, Verification
from officine.incident.runbook import (
    CLOSED,
    OPENED,
    STEP_DONE,
    STEP_SKIPPED,
    Incident,
    Step,
    current_incident,
    incidents_dir,
    open_incident,
    steps,
)
from officine.incident.verification import ALTERED

FACT = "incident.journal"
MAX_TEXT = 500
NOTE = "note"


@dataclass
class StepState:
    step: Step
    assigned_to: str | None = None
    done: Entry | None = None  # the journal entry that marked it done
    skipped: Entry | None = None


@dataclass
class IncidentView:
    id: str
    opened: Entry | None  # the entry that opened it: when, by whom, summary
    steps: list[StepState]
    entries: list[Entry]
    verification: Verification
    closed: Entry | None = None

    @property
    def remaining(self) -> int:
        return sum(1 for s in self.steps if s.done is None and s.skipped is None)


@dataclass
class PastIncident:
    id: str
    opened_at: datetime | None
    summary: str
    closed: bool
    intact: bool


@dataclass
class Desk:
    current: IncidentView | None
    past: list[PastIncident] = field(default_factory=list)


def describe(entry: Entry) -> str:
    """What a journal entry says, for a person: the step's title, then the note or summary."""
    step = {s.id: s.title for s in steps()}.get(str(entry.details.get("step")), "")
    parts = [step, *(entry.details.get(k) for k in ("note", "summary", "result"))]
    return " — ".join(str(p) for p in parts if p)


def view(incident: Incident) -> IncidentView:
    check = incident.verify()
    entries = [Entry.of(raw) for raw in check.entries]
    states = {s.id: StepState(s) for s in steps()}
    for e in entries:
        state = states.get(str(e.details.get("step")))
        if state is None:
            continue
        if e.action == NOTE and e.details.get("assigned_to"):
            state.assigned_to = str(e.details["assigned_to"])
        elif e.action == STEP_DONE:
            state.done, state.skipped = e, None
        elif e.action == STEP_SKIPPED and state.done is None:
            state.skipped = e
    opened = next((e for e in entries if e.action == OPENED), None)
    closed = next((e for e in entries if e.action == CLOSED), None)
    return IncidentView(incident.id, opened, list(states.values()), entries, check, closed)


def _incidents() -> list[Incident]:
    base = incidents_dir()
    folders = sorted((p for p in base.iterdir() if p.is_dir()), reverse=True) if base.is_dir() else []
    return [Incident(folder) for folder in folders]


def desk() -> Desk:
    current = current_incident()
    past = []
    for incident in _incidents():
        if current is not None and incident.id == current.id:
            continue
        entries = incident.timeline()
        opened = next((e for e in entries if e.action == OPENED), None)
        past.append(
            PastIncident(
                incident.id,
                opened.at if opened else None,
                str(opened.details.get("summary") or "") if opened else "",
                any(e.action == CLOSED for e in entries),
                incident.verify().status != ALTERED,
            )
        )
    return Desk(view(current) if current is not None else None, past)


def _clean(value: str, what: str) -> str:
    value = " ".join(value.split())
    if len(value) > MAX_TEXT:
        raise UserError(f"{what} : {MAX_TEXT} caractères au plus. Rien n'a été noté.")
    return value


def start(actor: str, summary: str, assignments: dict[str, str], now: datetime | None = None) -> Incident:
    """Open a dated incident (or continue the one under way) and note who does what."""
    summary = _clean(summary, "Ce qui se passe")
    known = {s.id for s in steps()}
    if any(k not in known for k in assignments):
        raise UserError("Étape inconnue : rechargez la page. Rien n'a été noté.")
    who = {k: _clean(v, "Nom") for k, v in assignments.items() if v.strip()}
    incident = current_incident() or open_incident(actor, summary, now)
    for step_id, name in who.items():
        incident.record(actor, NOTE, step=step_id, note=f"Confiée à {name}", assigned_to=name)
    return incident


def mark(actor: str, step_id: str, done: bool, note: str) -> Incident:
    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours : commencez-en un. Rien n'a été noté.")
    if step_id not in {s.id for s in steps()}:
        raise UserError("Étape inconnue : rechargez la page. Rien n'a été noté.")
    incident.record(actor, STEP_DONE if done else STEP_SKIPPED, step=step_id, note=_clean(note, "Note"))
    return incident


def close(actor: str, note: str) -> Incident:
    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours.")
    incident.record(actor, CLOSED, note=_clean(note, "Note"))
    return incident


def signature() -> list[tuple[str, int]]:
    """Each incident journal and its size: it grows with every entry (cheap to read on each page)."""
    base = incidents_dir()
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        journal = folder / "journal.jsonl"
        found.append((folder.name, journal.stat().st_size if journal.exists() else 0))
    return found


def journal_fact() -> dict[str, Fact]:
    """The incident journals as a site fact: how many incidents are noted, the last one, and
    which journal says something else than what was written (INC-02)."""
    opened: list[str] = []
    altered = []
    count = 0
    for incident in _incidents():
        check = incident.verify()
        count += 1
        opened += [e.at.isoformat() for e in map(Entry.of, check.entries) if e.action == OPENED and e.at]
        if check.status == ALTERED:
            first = next(p for p in check.problems if p.severity == ALTERED)
            altered.append({"incident": incident.id, "problem": first.message})
    return {FACT: observed({"incidents": count, "last_opened": max(opened, default=None), "altered": altered})}
