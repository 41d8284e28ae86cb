"""Where the sentinel writes what happens: the events file (JSON lines), the store, the status file."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.store import Store
from officine.store.models import SentinelEventRow

log = logging.getLogger(__name__)
# Event types written by the sentinel (the events file's "type" field).
EVENT_TYPES = ("started", "stopped", "alarm", "reaction", "overflow", "rescan", "still_suspended", "error")


def iso(ts: float | None = None) -> str:
    """ISO 8601 in UTC with microseconds."""
    moment = datetime.now(UTC) if ts is None else datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="microseconds")


class EventLog:
    """One JSON object per line; alarms and reactions are synced to disk before returning."""

    def __init__(self, path: Path | None, store: Store | None) -> None:
        self.path = path
        self.store = store
        self.hostname = socket.gethostname()
        self._lock = threading.Lock()
        self.store_errors = 0
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8"):
                    pass
            except OSError as exc:
                raise UserError(
                    f"Impossible d'écrire le fichier d'événements {path} ({exc.strerror or exc}). "
                    "Choisissez un autre fichier avec --evenements."
                ) from exc

    def write(
        self,
        type_: str,
        *,
        pid: int | None = None,
        paths: list[str] | None = None,
        indicators: dict[str, Any] | None = None,
        at: float | None = None,
        **details: Any,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "type": type_,
            "at": iso(at),
            "pid": pid,
            "paths": paths or [],
            "indicators": indicators or {},
            **details,
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line)
                    if type_ in ("alarm", "reaction", "still_suspended"):
                        fh.flush()
                        os.fsync(fh.fileno())
            if self.store is not None:
                self._store(self.store, record, details)
        return record

    def _store(self, store: Store, record: dict[str, Any], details: dict[str, Any]) -> None:
        try:
            with Session(store.engine) as session:
                session.add(
                    SentinelEventRow(
                        at=datetime.fromisoformat(record["at"]),
                        type=record["type"],
                        hostname=self.hostname,
                        pid=record["pid"],
                        paths=record["paths"][:200],
                        indicators=record["indicators"],
                        details=json.loads(json.dumps(details, default=str)),
                    )
                )
                session.commit()
        except Exception:  # the events file already has it; the database may be locked or gone
            self.store_errors += 1
            log.exception("sentinel event not stored")


def unacknowledged_alarms(store: Store) -> list[SentinelEventRow]:
    with Session(store.engine) as session:
        rows = session.scalars(
            select(SentinelEventRow)
            .where(SentinelEventRow.type == "alarm", SentinelEventRow.acknowledged_at.is_(None))
            .order_by(SentinelEventRow.at.desc())
        ).all()
        session.expunge_all()
        return list(rows)


def acknowledge(store: Store, event_id: int, by: str) -> bool:
    with Session(store.engine) as session:
        result = session.execute(
            update(SentinelEventRow)
            .where(SentinelEventRow.id == event_id, SentinelEventRow.type == "alarm")
            .values(acknowledged_at=datetime.now(UTC), acknowledged_by=by[:64])
        )
        session.commit()
        return bool(getattr(result, "rowcount", 0))


def recent_events(store: Store, limit: int = 50) -> list[SentinelEventRow]:
    with Session(store.engine) as session:
        rows = session.scalars(select(SentinelEventRow).order_by(SentinelEventRow.id.desc()).limit(limit)).all()
        session.expunge_all()
        return list(rows)


def write_status(path: Path, status: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(status, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
