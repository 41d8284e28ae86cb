"""What the workstation recorded since the last message: the guardian's backup runs, drills and
sightings, the sentinel's events, the backup plan when it changed, the incident journals'
entries and their verification. Each event's key is a digest of what it says, so the server
counts an event once however often it is sent, even after the local database was re-created."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.backup.plan import default_plan_path, load_plan
from officine.errors import UserError
from officine.fleet.message import EVENT_DATA, Event
from officine.incident.chain import Entry
from officine.paths import data_dir
from officine.store import Store
from officine.store.models import BackupRunRow, BackupVerificationRow, DestinationSightingRow, SentinelEventRow

ROWS: dict[str, Any] = {
    "backup_run": BackupRunRow,
    "verification": BackupVerificationRow,
    "sighting": DestinationSightingRow,
    "sentinel": SentinelEventRow,
}
MAX_PER_MESSAGE = 1000  # per kind; the rest goes with the next message


def cursor_path() -> Path:
    return data_dir() / "agent" / "curseur.json"


def _key(kind: str, data: dict[str, Any]) -> str:
    text = json.dumps([kind, data], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _row_data(kind: str, row: Any) -> tuple[datetime, dict[str, Any]]:
    """The row's fields the server reads (those of the message's model for this kind)."""
    data: dict[str, Any] = {}
    for name in EVENT_DATA[kind].model_fields:
        if name == "acknowledged":
            data[name] = row.acknowledged_at is not None
            continue
        value = getattr(row, name)
        data[name] = _aware(value).isoformat() if isinstance(value, datetime) else value
    at = row.finished_at if kind == "backup_run" else row.at
    return _aware(at), data


class Recorder:
    """Events not yet queued, and the cursor that says so (advanced once they are queued)."""

    def __init__(self, store: Store, path: Path | None = None) -> None:
        self.store = store
        self.path = path or cursor_path()
        self.cursor = self._load()
        self.next_cursor: dict[str, Any] = json.loads(json.dumps(self.cursor))

    def _load(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # everything is sent again: the server counts each event once by its key
        return loaded if isinstance(loaded, dict) else {}

    def collect(self, now: datetime | None = None) -> list[Event]:
        now = now or datetime.now(UTC)
        events = self._rows() + self._plan(now) + self._incidents()
        return events

    def _rows(self) -> list[Event]:
        events = []
        with Session(self.store.engine) as session:
            for kind, table in ROWS.items():
                last = int(self.cursor.get(kind, 0))
                rows = session.scalars(
                    select(table).where(table.id > last).order_by(table.id).limit(MAX_PER_MESSAGE)
                ).all()
                for row in rows:
                    at, data = _row_data(kind, row)
                    events.append(Event(kind=kind, key=_key(kind, data), at=at, data=data))  # type: ignore[arg-type]
                    self.next_cursor[kind] = row.id
        return events

    def _plan(self, now: datetime) -> list[Event]:
        if not default_plan_path().exists():
            return []
        try:
            plan = load_plan().model_dump(mode="json", exclude_none=True)
        except UserError:
            return []  # an unreadable plan is the workstation's own audit's finding
        data = {"plan": plan}
        key = _key("plan", data)
        if self.cursor.get("plan") == key:
            return []
        self.next_cursor["plan"] = key
        return [Event(kind="plan", key=key, at=now, data=data)]

    def _incidents(self) -> list[Event]:
        from officine.incident.runbook import Incident, incidents_dir  # noqa: PLC0415

        base = incidents_dir()
        if not base.is_dir():
            return []
        seen: dict[str, Any] = dict(self.cursor.get("incidents") or {})
        events = []
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            check = Incident(folder).verify()
            last = int(seen.get(folder.name, {}).get("seq", 0))
            for raw in check.entries:
                entry = Entry.of(raw)
                if entry.seq <= last:
                    continue
                data = {
                    "incident": folder.name[:120],
                    "seq": entry.seq,
                    "action": entry.action[:40],
                    "at": entry.at.isoformat() if entry.at else None,
                    "actor": entry.actor[:120],
                    "summary": str(entry.details.get("summary") or "")[:600] or None,
                }
                at = entry.at or datetime.now(UTC)
                events.append(Event(kind="incident", key=_key("incident", data), at=at, data=data))
                last = max(last, entry.seq)
            first = next((p for p in check.findings), None)
            status = {"incident": folder.name[:120], "entries": len(check.entries), "status": check.status}
            if status != {k: seen.get(folder.name, {}).get(k) for k in status}:
                data = {**status, "problem": first.message[:600] if first else None}
                events.append(Event(kind="journal", key=_key("journal", data), at=datetime.now(UTC), data=data))
            seen[folder.name] = {**status, "seq": last}
        self.next_cursor["incidents"] = seen
        return events

    def advance(self) -> None:
        """The events collected are in the queue on disk: do not collect them again."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text(json.dumps(self.next_cursor), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # the same events are collected again next time; the server counts each once by its key
        self.cursor = self.next_cursor
