"""The journals' anchor: each entry's sequence number and hash, kept in the database.

A hash chain inside one file proves that nothing was changed *between* entries; it cannot prove
where the file ends. The anchor is that proof: the head of each journal is written to a second
place, the store, at every append, in this order:

1. the entry is **announced** (sequence number and hash) in the store;
2. it is written to the journal file and synced to disk;
3. it is marked **written** in the store.

A crash between 2 and 3 leaves an announced entry that is in the file with exactly the announced
hash: `verify` calls it an unconfirmed write, and the next append confirms it. An entry added to
the file by someone who cannot write to the store was never announced: `verify` says so. A write
that failed (full disk) is marked **abandoned**.

What it cannot do: someone who can write to both the journal file and the store (the same
account, or root on this machine) can rewrite both consistently. Only a receipt kept elsewhere
(printed in the incident report) or a database on another machine detects that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.store import Store
from officine.store.models import JournalAnchorRow

ANNOUNCED, WRITTEN, ABANDONED = "announced", "written", "abandoned"


class AnchorUnavailable(Exception):
    """The store could not be read or written; `reason` is French."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AnchorRow:
    id: int
    seq: int
    hash: str
    state: str
    at: datetime


class Anchor(Protocol):
    """Where journal heads are kept. Every method may raise AnchorUnavailable."""

    def rows(self, journal: str) -> list[AnchorRow]: ...

    def announce(self, journal: str, entries: list[tuple[int, str]]) -> list[int]: ...

    def mark(self, ids: list[int], state: str) -> None: ...

    def journals(self) -> list[str]: ...


class StoreAnchor:
    """The anchor in the officine database (the default one unless a store or URL is given).

    The store is opened on first use, so that an unreachable database never stops the journal
    itself from being written."""

    def __init__(self, store: Store | None = None, url: str | None = None) -> None:
        self._store = store
        self._url = url

    def _engine(self) -> Engine:
        if self._store is None:
            try:
                self._store = Store(self._url)
            except UserError as exc:
                raise AnchorUnavailable(exc.message) from exc
            except SQLAlchemyError as exc:  # a damaged database file
                raise AnchorUnavailable(f"base de données abîmée ({type(exc).__name__})") from exc
        return self._store.engine

    def rows(self, journal: str) -> list[AnchorRow]:
        try:
            with Session(self._engine()) as session:
                found = session.scalars(
                    select(JournalAnchorRow)
                    .where(JournalAnchorRow.journal == journal)
                    .order_by(JournalAnchorRow.seq, JournalAnchorRow.id)
                ).all()
                return [AnchorRow(r.id, r.seq, r.hash, r.state, r.at) for r in found]
        except SQLAlchemyError as exc:
            raise AnchorUnavailable(f"base de données illisible ({type(exc).__name__})") from exc

    def announce(self, journal: str, entries: list[tuple[int, str]]) -> list[int]:
        now = datetime.now(UTC)
        try:
            with Session(self._engine()) as session, session.begin():
                rows = [
                    JournalAnchorRow(journal=journal, seq=seq, hash=digest, state=ANNOUNCED, at=now)
                    for seq, digest in entries
                ]
                session.add_all(rows)
                session.flush()
                return [r.id for r in rows]
        except SQLAlchemyError as exc:
            raise AnchorUnavailable(f"écriture impossible dans la base de données ({type(exc).__name__})") from exc

    def mark(self, ids: list[int], state: str) -> None:
        if not ids:
            return
        try:
            with Session(self._engine()) as session, session.begin():
                session.execute(update(JournalAnchorRow).where(JournalAnchorRow.id.in_(ids)).values(state=state))
        except SQLAlchemyError as exc:
            raise AnchorUnavailable(f"écriture impossible dans la base de données ({type(exc).__name__})") from exc

    def journals(self) -> list[str]:
        try:
            with Session(self._engine()) as session:
                query = select(JournalAnchorRow.journal).distinct().order_by(JournalAnchorRow.journal)
                return list(session.scalars(query))
        except SQLAlchemyError as exc:
            raise AnchorUnavailable(f"base de données illisible ({type(exc).__name__})") from exc
