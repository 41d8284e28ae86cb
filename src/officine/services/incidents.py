"""The incident journal as the dashboard shows it: the incident under way with who does what,
each step done or passed and by whom, the past incidents, and the journal as a site fact for
INC-02. Built on the incident package's public functions (open, current, record, entries,
verify), so the page and `officine incident start` write the same journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from officine.errors import UserError
from officine.facts import Fact, observed
from officine.incident.journal import Verification
from officine.incident.runbook import (
    Incident,
    Step,
    current_incident,
    incidents_dir,
    open_incident,
    steps,
    verify_all,
)

FACT = "incident.journal"
MAX_TEXT = 500
# A journal whose chain is broken by these was changed after the fact; an interrupted last write
# ("truncated") is set aside by the journal itself and proves nothing against anyone.
ALTERED = ("modified", "deleted", "reordered", "unreadable")


@dataclass
class StepState:
    step: Step
    assigned_to: str | None = None
    done: dict[str, Any] | None = None  # the journal entry that marked it done
    skipped: dict[str, Any] | None = None


@dataclass
class IncidentView:
    id: str
    opened: dict[str, Any]  # the entry that opened it: when, by whom, summary
    steps: list[StepState]
    entries: list[dict[str, Any]]
    verification: Verification
    closed: dict[str, Any] | None = None

    @property
    def remaining(self) -> int:
        return sum(1 for s in self.steps if s.done is None and s.skipped is None)


@dataclass
class PastIncident:
    id: str
    opened_at: str | None
    summary: str
    closed: bool
    intact: bool


@dataclass
class Desk:
    current: IncidentView | None
    past: list[PastIncident] = field(default_factory=list)


def describe(entry: dict[str, Any]) -> str:
    """What a journal entry says, for a person: the step's title, then the note or summary."""
    details = entry.get("details") or {}
    step = {s.id: s.title for s in steps()}.get(str(details.get("step")), "")
    parts = [step, details.get("note"), details.get("summary"), details.get("result")]
    return " — ".join(str(p) for p in parts if p)


def view(incident: Incident) -> IncidentView:
    check = Verification()
    found = verify_all()
    for name, result in found:
        if name == incident.id:
            check = result
    entries = check.entries
    states = {s.id: StepState(s) for s in steps()}
    for e in entries:
        details = e.get("details") or {}
        state = states.get(str(details.get("step")))
        if state is None:
            continue
        if e["action"] == "note" and details.get("assigned_to"):
            state.assigned_to = str(details["assigned_to"])
        elif e["action"] == "step_done":
            state.done, state.skipped = e, None
        elif e["action"] == "step_skipped" and state.done is None:
            state.skipped = e
    opened = next((e for e in entries if e["action"] == "incident_opened"), entries[0] if entries else {})
    closed = next((e for e in entries if e["action"] == "incident_closed"), None)
    return IncidentView(incident.id, opened, list(states.values()), entries, check, closed)


def desk() -> Desk:
    current = current_incident()
    past = []
    for name, result in reversed(verify_all()):
        if current is not None and name == current.id:
            continue
        opened = next((e for e in result.entries if e["action"] == "incident_opened"), None)
        past.append(
            PastIncident(
                name,
                opened["at"] if opened else None,
                str((opened or {}).get("details", {}).get("summary") or ""),
                any(e["action"] == "incident_closed" for e in result.entries),
                not any(p.kind in ALTERED for p in result.problems),
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
    known = {s.id: s for s in steps()}
    unknown = [k for k in assignments if k not in known]
    if unknown:
        raise UserError("Étape inconnue : rechargez la page. Rien n'a été noté.")
    who = {k: _clean(v, "Nom") for k, v in assignments.items() if v.strip()}
    incident = current_incident() or open_incident(actor, summary, now)
    for step_id, name in who.items():
        incident.record(actor, "note", step=step_id, note=f"Confiée à {name}", assigned_to=name)
    return incident


def mark(actor: str, step_id: str, done: bool, note: str) -> Incident:
    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours : commencez-en un. Rien n'a été noté.")
    if step_id not in {s.id for s in steps()}:
        raise UserError("Étape inconnue : rechargez la page. Rien n'a été noté.")
    incident.record(actor, "step_done" if done else "step_skipped", step=step_id, note=_clean(note, "Note"))
    return incident


def close(actor: str, note: str) -> Incident:
    incident = current_incident()
    if incident is None:
        raise UserError("Aucun incident en cours.")
    incident.record(actor, "incident_closed", note=_clean(note, "Note"))
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
    """The incident journal as a site fact: how many incidents are noted, the last one, and
    whether any journal was changed after the fact (INC-02)."""
    journals = verify_all()
    opened = [e["at"] for _, r in journals for e in r.entries if e["action"] == "incident_opened"]
    altered = [
        {"incident": name, "problem": next(p.message for p in r.problems if p.kind in ALTERED)}
        for name, r in journals
        if any(p.kind in ALTERED for p in r.problems)
    ]
    return {FACT: observed({"incidents": len(journals), "last_opened": max(opened, default=None), "altered": altered})}
