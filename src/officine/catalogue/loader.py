"""Load and validate the catalogue and the message templates shipped in the package."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from officine.catalogue.model import Catalogue
from officine.dates import french_if_iso
from officine.errors import UserError
from officine.validation import expected
from officine.yamlio import load_yaml


class CatalogueError(UserError):
    pass


def _read_yaml(name: str, path: Path | None) -> Any:
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else resources.files("officine.catalogue.data").joinpath(name).read_text(encoding="utf-8")
        )
        return load_yaml(text)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"Catalogue illisible ({name}) : {exc}") from exc


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location into 'mesure MDP-01, champ severity'."""
    node = data
    label = "catalogue"
    fields: list[str] = []
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            fields.append(str(part))
            continue
        if isinstance(node, dict) and "id" in node and isinstance(node["id"], str):
            kind = "mesure" if "severity" in node or "-" in node["id"] else "pratique"
            if ".q" in node["id"]:
                kind = "question"
            label = f"{kind} {node['id']}"
            fields = []
        elif isinstance(part, str):
            fields.append(part)
    return f"{label}, champ {'.'.join(fields) or '(racine)'}"


@cache
def load_catalogue(path: Path | None = None) -> Catalogue:
    data = _read_yaml("catalogue.yaml", path)
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CatalogueError(f"Catalogue invalide — {_where(data, tuple(first['loc']))} : {expected(first)}") from exc


@dataclass(frozen=True)
class Messages:
    """French templates: generic phrases, unknown reasons, and per-measure evidence texts."""

    generic: dict[str, str]
    unknown_reasons: dict[str, str]
    verdicts: dict[str, str]
    measures: dict[str, dict[str, str]]

    def render(self, template: str, values: dict[str, Any]) -> str:
        return _FRENCH.vformat(template, (), _Safe(values))

    def evidence(self, measure_id: str, reason: str, values: dict[str, Any]) -> str:
        template = self.measures.get(measure_id, {}).get(reason) or self.generic.get(reason)
        if template is None:
            return f"{reason} {values}" if values else reason
        return self.render(template, values)


class _French(string.Formatter):
    """str.format with French plurals: `{n:|# fichier|# fichiers}` gives "1 fichier", "3 fichiers"
    (0 takes the singular, as in French); a third form is for zero:
    `{n:|aucun fichier|# fichier|# fichiers}`. `#` stands for the number. A code shown to a
    person gets its words: `{action:=lock>la session est verrouillée|none>rien ne se passe}`."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.startswith("="):  # words for a code: `{action:=lock>verrouillée|none>rien}`
            words = dict(pair.split(">", 1) for pair in format_spec[1:].split("|") if ">" in pair)
            return words.get(str(value), str(value))
        if not format_spec.startswith("|"):
            return str(super().format_field(value, format_spec))
        forms = format_spec[1:].split("|")
        try:
            n = int(value)
        except (TypeError, ValueError):
            return str(value)
        if len(forms) == 3:
            form = forms[0] if n == 0 else forms[1] if n == 1 else forms[2]
        else:
            form = forms[0] if n <= 1 else forms[-1]
        return form.replace("#", str(n))


_FRENCH = _French()


class _Safe(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key) if key in self else self.__missing__(key)
        # Values stay ISO in the data; in a French sentence a date reads 29/11/2026.
        return "?" if value is None else french_if_iso(value)


def _check_templates(section: str, templates: dict[str, Any]) -> None:
    for key, template in templates.items():
        if not isinstance(template, str):
            raise CatalogueError(f"Messages invalides : {section}.{key} n'est pas un texte")
        try:
            list(string.Formatter().parse(template))
        except ValueError as exc:
            raise CatalogueError(f"Messages invalides : {section}.{key} : {exc}") from exc


@cache
def load_messages(path: Path | None = None) -> Messages:
    data = _read_yaml("messages.yaml", path)
    if not isinstance(data, dict):
        raise CatalogueError("Messages invalides : le fichier doit être un dictionnaire")
    for section in ("generic", "unknown_reasons", "verdicts"):
        _check_templates(section, data.get(section) or {})
    measures = data.get("measures") or {}
    for measure_id, templates in measures.items():
        if not isinstance(templates, dict):
            raise CatalogueError(f"Messages invalides : mesure {measure_id} : dictionnaire attendu")
        _check_templates(measure_id, templates)
    return Messages(data.get("generic") or {}, data.get("unknown_reasons") or {}, data.get("verdicts") or {}, measures)
