"""The breach register (GDPR art. 33.5): every breach, notified or not, in a tamper-evident file."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from officine.errors import UserError
from officine.incident.anchor import Anchor, StoreAnchor
from officine.incident.breach import Breach
from officine.incident.journal import Appended, Journal
from officine.incident.runbook import incidents_dir

DATE_FIELDS = ("discovered_at", "occurred_at", "notified_at")
REGISTER_KEY = "registre-violations"
# Allowed types per field (others are text); dates are parsed before the check.
SHAPES: dict[str, type | tuple[type, ...]] = {
    "discovered_at": datetime,
    "occurred_at": (datetime, type(None)),
    "notified_at": (datetime, type(None)),
    "approx_people": (int, type(None)),
    "approx_records": (int, type(None)),
    "notified": bool,
    "id": (int, type(None)),
}


def register_path() -> Path:
    return incidents_dir().parent / "registre-violations.jsonl"


def register_journal(anchor: Anchor | None = None) -> Journal:
    return Journal(register_path(), REGISTER_KEY, anchor or StoreAnchor())


def _to_json(b: Breach) -> dict[str, Any]:
    data = dataclasses.asdict(b)
    for key in DATE_FIELDS:
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return data


def _from_json(data: Any) -> Breach | None:
    """A breach as recorded, or None for an entry of another shape (reported by `verify`, never a crash)."""
    if not isinstance(data, dict):
        return None
    fields = {f.name for f in dataclasses.fields(Breach)}
    values = {k: v for k, v in data.items() if k in fields}
    try:
        for key in DATE_FIELDS:
            if isinstance(values.get(key), str):
                values[key] = datetime.fromisoformat(values[key])
        breach = Breach(**values)
    except (TypeError, ValueError):
        return None
    if breach.discovered_at is None or breach.discovered_at.tzinfo is None:
        return None
    for f in dataclasses.fields(Breach):
        value = getattr(breach, f.name)
        expected = SHAPES.get(f.name, str)
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            return None
    return breach


def record(
    b: Breach, actor: str, anchor: Anchor | None = None, *, decision_pending: bool = False
) -> tuple[Breach, Appended]:
    """Append a breach (or a new version of one: same id). `decision_pending`: recorded as soon as
    it is known, the decision to notify the CNIL still to come (within 72 hours)."""
    if not b.notified and not b.not_notified_reason.strip() and not decision_pending:
        raise UserError(
            "Une violation non notifiée à la CNIL doit dire pourquoi (--raison-non-notification), "
            "par exemple « risque improbable : fichier chiffré, clé non compromise »."
        )
    # Numbered under the register's lock: two people recording at once get two numbers.
    with register_journal(anchor).writing() as writer:
        known = _latest(writer.entries)
        if b.id is None:
            b = dataclasses.replace(b, id=max(known, default=0) + 1)
        elif b.id not in known:
            raise UserError(f"Pas de violation n° {b.id} au registre : rien n'a été noté.")
        appended = writer.append(actor, "breach_recorded", _to_json(b))
    return b, appended


def _latest(entries: list[dict[str, Any]]) -> dict[int, Breach]:
    latest: dict[int, Breach] = {}
    for entry in entries:
        if entry.get("action") == "breach_recorded":
            b = _from_json(entry.get("details"))
            if b is not None and b.id is not None:
                latest[b.id] = b
    return latest


def list_breaches(anchor: Anchor | None = None) -> list[Breach]:
    """The latest version of each breach, in order of entry."""
    latest = _latest(register_journal(anchor).entries())
    return [latest[k] for k in sorted(latest)]


def history(number: int, anchor: Anchor | None = None) -> list[tuple[Breach, dict[str, Any]]]:
    """Every recorded version of one breach, oldest first, each with its journal entry (who, when)."""
    found = []
    for entry in register_journal(anchor).entries():
        if entry.get("action") == "breach_recorded":
            b = _from_json(entry.get("details"))
            if b is not None and b.id == number:
                found.append((b, entry))
    return found
