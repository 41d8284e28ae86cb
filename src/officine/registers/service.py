"""The registers' service, shared by the command line and the dashboard: open a register (the
processing register is pre-filled at its first opening), read it as a table or as the history
of one entry, add or change entries from what a person typed, export and import."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from officine.dates import moment
from officine.errors import UserError, os_reason
from officine.registers import breaches, exports, schemas
from officine.registers.book import RegisterBook, proposals
from officine.registers.table import Table, show, typed
from officine.registers.table import table as _table
from officine.store import Store


def open_register(store: Store, register: str) -> None:
    """The processing register starts with the usual processings of an officine, once."""
    if register == "traitements":
        RegisterBook(store).prefill(register, proposals(register))


def table(store: Store, register: str, include_withdrawn: bool = False) -> Table:
    return _table(store, register, include_withdrawn)


def add(store: Store, register: str, raw: dict[str, Any], by: str) -> str:
    """A new entry from what a person typed; its label ("Carte n° 3 « … »")."""
    if register == "violations":
        saved, _ = breaches.save(breaches.parse(raw), by)
        return f"Violation n° {saved.id} « {saved.nature} »"
    return RegisterBook(store).add(register, typed(register, raw), by).label


def update(store: Store, register: str, number: int, raw: dict[str, Any], by: str, read_version: int) -> str:
    if register == "violations":
        saved, _ = breaches.save(breaches.parse(raw), by, number=number)
        return f"Violation n° {saved.id} « {saved.nature} »"
    return RegisterBook(store).update(register, number, typed(register, raw), by, read_version).label


def history(store: Store, register: str, number: int) -> list[dict[str, Any]]:
    """Every version of one entry, oldest first, in French."""
    actions = schemas.words()["actions"]
    if register == "violations":
        found = breaches.versions(number)
        if not found:
            raise UserError(f"Pas de violation n° {number} au registre.")
        return [
            {
                "version": i,
                "when": moment(str(entry.get("at") or "")) if entry.get("at") else "",
                "by": str(entry.get("actor") or ""),
                "action": "noté" if i == 1 else "modifié",
                "data": {breaches.LABELS[k]: show(k, v) for k, v in breaches.form_of(b).items() if v},
            }
            for i, (b, entry) in enumerate(found, 1)
        ]
    versions = RegisterBook(store).versions(register, number)
    if not versions:
        raise UserError(f"Pas d'entrée n° {number} dans ce registre.")
    return [
        {
            "version": v.version,
            "when": moment(v.at),
            "by": v.by,
            "action": actions.get(v.action, v.action),
            "data": {
                schemas.label(register, k): show(k, val) for k, val in v.data.items() if val not in (None, "", [])
            },
        }
        for v in versions
    ]


def describe_fields(register: str) -> list[tuple[str, str, list[str]]]:
    """Each field: its name on the command line, its French title, the values it accepts."""
    if register == "violations":
        allowed = {"decision": list(breaches.DECISIONS), "etape": ["initiale", "complémentaire"]}
        return [(k, v, allowed.get(k, [])) for k, v in breaches.LABELS.items()]
    model = schemas.model_for(register)
    found = []
    for name, info in model.model_fields.items():
        values = _literal_values(info.annotation)
        if info.annotation is bool:
            values = ["oui", "non"]
        found.append((name, schemas.label(register, name), values))
    return found


def _literal_values(annotation: Any) -> list[str]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is typing.Literal:
            return [str(x) for x in typing.get_args(candidate)]
    return []


def export(store: Store, register: str, fmt: str) -> bytes:
    if not fmt:
        raise UserError("Donnez au fichier une extension : .pdf, .ods, .xlsx ou .json.")
    return exports.export(store, register, fmt)


def write_export(path: Path, content: bytes) -> None:
    """Written next to its final name then renamed: never half a file under that name."""
    partial = path.with_name(f".{path.name}.partiel")
    try:
        partial.write_bytes(content)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UserError(f"Impossible d'écrire {path} : {os_reason(exc)}.") from exc


def import_file(store: Store, register: str, raw: bytes, by: str) -> list[str]:
    if register == "violations":
        raise UserError("Le registre des violations ne s'importe pas : notez chaque violation (« ajouter »).")
    items = [typed(register, item) for item in exports.read_import(raw, register)]
    return [e.label for e in RegisterBook(store).import_entries(register, items, by)]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a register's form: how it is typed (text, long text, choice, several choices,
    yes/no, date, date and time, number), its French label, help and choices."""

    name: str
    label: str
    kind: str
    required: bool
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None
    default: Any = None  # what a new entry's form shows


def form_fields(register: str) -> list[FieldSpec]:
    if register == "violations":
        return _breach_fields()
    model = schemas.model_for(register)
    helps = schemas.words()["fields"].get(register, {})
    found = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        values = _literal_values(annotation)
        args = typing.get_args(annotation)
        max_length = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
        if annotation is bool:
            kind = "bool"
        elif typing.get_origin(annotation) is list:
            kind, values = "multi", _literal_values(args[0]) if args else []
        elif values:
            kind = "choice"
        elif annotation is date or date in args:
            kind = "date"
        elif max_length is not None and max_length > schemas.SHORT:
            kind = "long"
        else:
            kind = "text"
        choices = tuple((v, schemas.choice_label(name, v)) for v in values)
        help_text = str(helps.get(name, {}).get("help", ""))
        default = None if info.is_required() or info.default_factory is not None else info.default
        found.append(
            FieldSpec(
                name, schemas.label(register, name), kind, info.is_required(), help_text, choices, max_length, default
            )
        )
    return found


def _breach_fields() -> list[FieldSpec]:
    model = breaches.BreachForm
    found = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = typing.get_args(annotation)
        values = _literal_values(annotation)
        if values:
            labels = breaches.DECISIONS if name == "decision" else {v: v for v in values}
            kind, choices = "choice", tuple((v, labels.get(v, v)) for v in values)
        else:
            choices = ()
            if annotation is datetime or datetime in args:
                kind = "datetime"
            elif annotation is int or int in args:
                kind = "number"
            else:
                kind = "long" if name not in ("contact",) else "text"
        default = None if info.is_required() else info.default
        found.append(FieldSpec(name, breaches.LABELS[name], kind, info.is_required(), "", choices, None, default))
    return found


def form_values(register: str, number: int | None, store: Store) -> tuple[dict[str, Any], int]:
    """The values an edit form starts from, and the version they were read at."""
    if register == "violations":
        view = next((v for v in breaches.views() if v.number == number), None)
        if view is None:
            raise UserError(f"Pas de violation n° {number} au registre.")
        return breaches.form_of(view.breach), view.versions
    if number is None:
        return {}, 0
    entry = RegisterBook(store).entry(register, number)
    if entry is None:
        raise UserError(f"Pas d'entrée n° {number} dans ce registre.")
    return dict(entry.data), entry.version


def field_errors(register: str, raw: dict[str, Any]) -> dict[str, str]:
    """Every refused field of a submitted form (the page marks each one, keeping what was typed)."""
    if register == "violations":
        return breaches.field_errors(raw)
    try:
        data = typed(register, raw)
    except UserError as exc:
        return {"": exc.message}
    return schemas.field_errors(register, data)
