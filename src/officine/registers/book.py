"""The registers kept in the database, append-only: every change is a new version of an entry
with who made it and when; the highest version is the entry's current state. Nothing is ever
updated or deleted (a withdrawn entry is a version saying so, and can be restored).

Two people editing the same entry at once: each form carries the version it was read at; the
second save finds a newer version and is refused in French, with what was typed kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.registers import schemas
from officine.store import Store
from officine.store.models import RegisterEntryRow
from officine.yamlio import load_yaml

PROPOSED, CREATED, UPDATED, REVIEWED, WITHDRAWN, RESTORED, IMPORTED = (
    "proposed",
    "created",
    "updated",
    "reviewed",
    "withdrawn",
    "restored",
    "imported",
)
SYSTEM = "officine-cyber"
# What a person did to the content itself: a proposal only becomes the pharmacy's once one of
# these was done (RGPD-01 counts reviews from them).
REVIEWING = (CREATED, UPDATED, REVIEWED, RESTORED, IMPORTED)
MAX_ENTRIES = 2000  # per register: far more than a pharmacy has; bounds an imported file


@dataclass(frozen=True)
class Version:
    number: int
    version: int
    action: str
    data: dict[str, Any]
    at: datetime
    by: str


@dataclass(frozen=True)
class Entry:
    """An entry as it stands now, with the dates that matter to the checks."""

    register: str
    number: int
    version: int
    data: dict[str, Any]
    withdrawn: bool
    created_at: datetime
    changed_at: datetime
    changed_by: str
    reviewed_at: datetime | None  # the last time a person wrote or confirmed it
    reviewed_by: str | None

    @property
    def label(self) -> str:
        """How evidence and pages name the entry: "Traitement n° 3 « Vidéoprotection »"."""
        entry = schemas.words()["registers"].get(self.register, {}).get("entry", "entrée")
        name = schemas.model_for(self.register).model_validate(self.data).summary()
        return f"{entry.capitalize()} n° {self.number} « {name} »"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RegisterBook:
    """Every register of one pharmacy's store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading ----------------------------------------------------------------------------------
    def versions(self, register: str, number: int | None = None) -> list[Version]:
        query = select(RegisterEntryRow).where(RegisterEntryRow.register == register)
        if number is not None:
            query = query.where(RegisterEntryRow.number == number)
        with Session(self.store.engine) as session:
            rows = session.scalars(query.order_by(RegisterEntryRow.number, RegisterEntryRow.version)).all()
            return [
                Version(r.number, r.version, r.action, dict(r.data), _aware(r.recorded_at), r.recorded_by) for r in rows
            ]

    def entries(self, register: str, include_withdrawn: bool = False) -> list[Entry]:
        by_number: dict[int, list[Version]] = {}
        for v in self.versions(register):
            by_number.setdefault(v.number, []).append(v)
        result = [_entry(register, history) for _, history in sorted(by_number.items())]
        return [e for e in result if include_withdrawn or not e.withdrawn]

    def entry(self, register: str, number: int) -> Entry | None:
        history = self.versions(register, number)
        return _entry(register, history) if history else None

    def has_any(self, register: str) -> bool:
        with Session(self.store.engine) as session:
            query = select(func.count()).select_from(RegisterEntryRow).where(RegisterEntryRow.register == register)
            return bool(session.scalar(query))

    def latest_id(self) -> int | None:
        """The newest version of any register: when it changes, the verdicts are judged again."""
        with Session(self.store.engine) as session:
            return session.scalar(select(func.max(RegisterEntryRow.id)))

    # -- writing ----------------------------------------------------------------------------------
    def add(self, register: str, data: dict[str, Any], by: str, action: str = CREATED) -> Entry:
        entry = schemas.validate(register, data)
        with Session(self.store.engine) as session, session.begin():
            count = session.scalar(
                select(func.count(func.distinct(RegisterEntryRow.number))).where(RegisterEntryRow.register == register)
            )
            if (count or 0) >= MAX_ENTRIES:
                raise UserError(f"Le registre compte déjà {MAX_ENTRIES} entrées : rien n'a été ajouté.")
            number = (
                session.scalar(select(func.max(RegisterEntryRow.number)).where(RegisterEntryRow.register == register))
                or 0
            ) + 1
            self._append(session, register, number, 1, action, entry.model_dump(mode="json"), by)
        return self._reread(register, number)

    def update(self, register: str, number: int, data: dict[str, Any], by: str, read_version: int) -> Entry:
        """A new version of an entry, from what a person changed (or confirmed unchanged)."""
        entry = schemas.validate(register, data)
        current = self._current(register, number)
        self._check_version(current, read_version)
        data_json = entry.model_dump(mode="json")
        action = REVIEWED if data_json == current.data and not current.withdrawn else UPDATED
        return self._next(current, action, data_json, by)

    def review(self, register: str, number: int, by: str, read_version: int) -> Entry:
        """The entry confirmed as it is, by a person (a proposal becomes the pharmacy's)."""
        current = self._current(register, number)
        self._check_version(current, read_version)
        if current.withdrawn:
            raise UserError("Cette entrée est retirée : rétablissez-la avant de la valider.")
        return self._next(current, REVIEWED, current.data, by)

    def withdraw(self, register: str, number: int, by: str, read_version: int) -> Entry:
        current = self._current(register, number)
        self._check_version(current, read_version)
        if current.withdrawn:
            return current
        return self._next(current, WITHDRAWN, current.data, by)

    def restore(self, register: str, number: int, by: str, read_version: int) -> Entry:
        current = self._current(register, number)
        self._check_version(current, read_version)
        if not current.withdrawn:
            return current
        return self._next(current, RESTORED, current.data, by)

    def set(self, register: str, number: int, data: dict[str, Any], by: str, action: str) -> Entry:
        """A new version whatever the current one (internal registers such as expected signers)."""
        entry = schemas.validate(register, data)
        current = self.entry(register, number)
        with Session(self.store.engine) as session, session.begin():
            version = (current.version if current else 0) + 1
            self._append(session, register, number, version, action, entry.model_dump(mode="json"), by)
        return self._reread(register, number)

    def prefill(self, register: str, proposals: list[dict[str, Any]]) -> bool:
        """Proposals written once, when the register has never held anything. Two first visits at
        once: the second finds the entries already numbered and stops (unique versions)."""
        if self.has_any(register):
            return False
        checked = [schemas.validate(register, p).model_dump(mode="json") for p in proposals]
        try:
            with Session(self.store.engine) as session, session.begin():
                for number, data in enumerate(checked, 1):
                    self._append(session, register, number, 1, PROPOSED, data, SYSTEM)
        except IntegrityError:
            return False
        return True

    def import_entries(self, register: str, items: list[dict[str, Any]], by: str) -> list[Entry]:
        """New entries from a file: all validated first, then written together (or none)."""
        if len(items) > MAX_ENTRIES:
            raise UserError(f"Le fichier contient {len(items)} entrées : {MAX_ENTRIES} au plus. Rien n'a été importé.")
        checked = [
            schemas.validate(register, item, where=f"entrée n° {i}").model_dump(mode="json")
            for i, item in enumerate(items, 1)
        ]
        with Session(self.store.engine) as session, session.begin():
            first = (
                session.scalar(select(func.max(RegisterEntryRow.number)).where(RegisterEntryRow.register == register))
                or 0
            ) + 1
            if first - 1 + len(checked) > MAX_ENTRIES:
                raise UserError(f"Le registre dépasserait {MAX_ENTRIES} entrées : rien n'a été importé.")
            for offset, data in enumerate(checked):
                self._append(session, register, first + offset, 1, IMPORTED, data, by)
        return [e for e in self.entries(register) if e.number >= first]

    # -- internals --------------------------------------------------------------------------------
    def _current(self, register: str, number: int) -> Entry:
        schemas.model_for(register)
        current = self.entry(register, number)
        if current is None:
            raise UserError(f"Pas d'entrée n° {number} dans ce registre.")
        return current

    @staticmethod
    def _check_version(current: Entry, read_version: int) -> None:
        if read_version != current.version:
            raise UserError(
                f"Cette entrée a été modifiée entre-temps par {current.changed_by} : rechargez la page pour voir "
                "sa dernière version. Rien n'a été enregistré."
            )

    def _next(self, current: Entry, action: str, data: dict[str, Any], by: str) -> Entry:
        try:
            with Session(self.store.engine) as session, session.begin():
                self._append(session, current.register, current.number, current.version + 1, action, data, by)
        except IntegrityError as exc:  # someone saved the same version a moment before
            raise UserError(
                "Cette entrée vient d'être modifiée par quelqu'un d'autre : rechargez la page. Rien n'a été enregistré."
            ) from exc
        return self._reread(current.register, current.number)

    def _reread(self, register: str, number: int) -> Entry:
        found = self.entry(register, number)
        if found is None:  # pragma: no cover - just written in a committed transaction
            raise UserError(f"L'entrée n° {number} n'a pas pu être relue.")
        return found

    @staticmethod
    def _append(
        session: Session, register: str, number: int, version: int, action: str, data: dict[str, Any], by: str
    ) -> None:
        session.add(
            RegisterEntryRow(
                register=register,
                number=number,
                version=version,
                action=action,
                data=data,
                recorded_at=datetime.now(UTC),
                recorded_by=by[:64],
            )
        )
        session.flush()


def _entry(register: str, history: list[Version]) -> Entry:
    last = history[-1]
    reviews = [v for v in history if v.action in REVIEWING]
    return Entry(
        register,
        last.number,
        last.version,
        last.data,
        last.action == WITHDRAWN,
        history[0].at,
        last.at,
        last.by,
        reviews[-1].at if reviews else None,
        reviews[-1].by if reviews else None,
    )


def proposals(register: str) -> list[dict[str, Any]]:
    """The entries an officine usually has (only the processing register has them)."""
    from importlib import resources  # noqa: PLC0415

    if register != "traitements":
        return []
    text = resources.files("officine.registers").joinpath("prefill.yaml").read_text(encoding="utf-8")
    items: list[dict[str, Any]] = load_yaml(text)["traitements"]
    return items
