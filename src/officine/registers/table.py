"""A register as a table people read: French column titles, French values (choices by their
label, dates as 29/11/2026, yes/no), one row per entry with when and by whom it last changed.
The CLI listing, the dashboard page and every export (PDF, ODS, XLSX) read this one table.

Also the other way: what a person typed (a form field, `champ=valeur` on a command line) into
the typed values the schemas check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from officine.dates import day, moment
from officine.errors import UserError
from officine.registers import breaches, schemas
from officine.registers.book import RegisterBook
from officine.store import Store

YES = ("oui", "o", "on", "1", "true", "vrai", "yes")
NO = ("non", "n", "off", "0", "false", "faux", "no", "")


@dataclass(frozen=True)
class Table:
    register: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    numbers: list[int]


def fields(register: str) -> list[str]:
    if register == "violations":
        return list(breaches.LABELS)
    return list(schemas.model_for(register).model_fields)


def column_title(register: str, field: str) -> str:
    return breaches.LABELS.get(field, field) if register == "violations" else schemas.label(register, field)


def show(field: str, value: Any) -> str:
    """One value in French."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return " ; ".join(schemas.choice_label(field, v) for v in value)
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return day(value)
    text = str(value)
    if field in schemas.words()["choices"]:
        return schemas.choice_label(field, text)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return day(date.fromisoformat(text))
        except ValueError:
            return text
    return text


def table(store: Store, register: str, include_withdrawn: bool = False) -> Table:
    """Every entry of a register, as people read it."""
    if register == "violations":
        views = breaches.views()
        cols = [*(breaches.LABELS[f] for f in breaches.LABELS), "Dernière modification"]
        rows = []
        for v in views:
            form = breaches.form_of(v.breach)
            values = [show(f, form[f]) for f in breaches.LABELS]
            values[list(breaches.LABELS).index("decision")] = breaches.DECISIONS[v.decision]
            values[list(breaches.LABELS).index("decouverte")] = moment(v.breach.discovered_at)
            rows.append([*values, f"{moment(v.changed_at) if v.changed_at else ''} {v.changed_by}".strip()])
        return Table(register, schemas.register_title(register), cols, rows, [v.number for v in views])
    names = fields(register)
    entries = RegisterBook(store).entries(register, include_withdrawn)
    cols = ["N°", *(column_title(register, f) for f in names), "Relu le", "Dernière modification"]
    rows = [
        [
            str(e.number),
            *(show(f, e.data.get(f)) for f in names),
            f"{day(e.reviewed_at)} ({e.reviewed_by})" if e.reviewed_at else "jamais relu",
            f"{moment(e.changed_at)} ({e.changed_by})" + (" — retiré" if e.withdrawn else ""),
        ]
        for e in entries
    ]
    return Table(register, schemas.register_title(register), cols, rows, [e.number for e in entries])


def typed(register: str, raw: dict[str, Any]) -> dict[str, Any]:
    """What a person typed, as the schema's types: yes/no for booleans, lists from several values
    or from a comma-separated line, an empty optional field as absent. Unknown fields are kept so
    the schema refuses them by name."""
    if register == "violations":
        return {k: v for k, v in raw.items()}
    model = schemas.model_for(register)
    result: dict[str, Any] = {}
    for key, value in raw.items():
        info = model.model_fields.get(key)
        if info is None:
            result[key] = value
            continue
        kind = str(info.annotation)
        if info.annotation is bool:
            text = str(value).strip().lower()
            if text not in YES + NO:
                raise UserError(
                    f"{schemas.label(register, key)} : répondez « oui » ou « non ». Rien n'a été enregistré."
                )
            result[key] = text in YES
        elif kind.startswith("list["):
            items = value if isinstance(value, list) else str(value).split(",")
            result[key] = [str(x).strip() for x in items if str(x).strip()]
        elif isinstance(value, str) and not value.strip() and not info.is_required():
            continue  # left empty: the field's default (nothing, or its usual value)
        else:
            result[key] = value
    return result


def pairs(items: list[str]) -> dict[str, Any]:
    """`champ=valeur` arguments of the command line (a field given twice collects a list)."""
    found: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f'« {item[:60]} » : écrivez champ=valeur (par exemple titulaire="Marie Curie").')
        if key in found:
            previous = found[key]
            found[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[key] = value
    return found
