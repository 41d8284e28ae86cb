"""The breach register (GDPR art. 33.5): every breach, notified or not, in a tamper-evident file."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from officine.incident.breach import Breach
from officine.incident.journal import Journal
from officine.incident.runbook import incidents_dir

DATE_FIELDS = ("discovered_at", "occurred_at", "notified_at")


def register_path() -> Path:
    return incidents_dir().parent / "registre-violations.jsonl"


def _to_json(b: Breach) -> dict[str, Any]:
    data = dataclasses.asdict(b)
    for key in DATE_FIELDS:
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return data


def _from_json(data: dict[str, Any]) -> Breach:
    fields = {f.name for f in dataclasses.fields(Breach)}
    values = {k: v for k, v in data.items() if k in fields}
    for key in DATE_FIELDS:
        if values.get(key):
            values[key] = datetime.fromisoformat(values[key])
    return Breach(**values)


def record(b: Breach, actor: str) -> Breach:
    journal = Journal(register_path())
    if not b.notified and not b.not_notified_reason.strip():
        from officine.errors import UserError  # noqa: PLC0415

        raise UserError(
            "Une violation non notifiée à la CNIL doit dire pourquoi (--raison-non-notification), "
            "par exemple « risque improbable : fichier chiffré, clé non compromise »."
        )
    if b.id is None:
        b = dataclasses.replace(b, id=len(list_breaches()) + 1)
    journal.append(actor, "breach_recorded", _to_json(b))
    return b


def list_breaches() -> list[Breach]:
    """The latest version of each breach, in order of entry."""
    latest: dict[int, Breach] = {}
    for entry in Journal(register_path()).entries():
        if entry["action"] == "breach_recorded":
            b = _from_json(entry["details"])
            if b.id is not None:
                latest[b.id] = b
    return [latest[k] for k in sorted(latest)]
