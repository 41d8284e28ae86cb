"""Pydantic's refusals in plain French: which field, what is expected, what was given.

Pydantic words its errors in English ("Input should be a valid string"); every surface that
validates a file or a form goes through `explain` so a person reads one language, and the
same words for the same problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

# What is expected, by pydantic error type. `{name}` fields come from the error's context.
EXPECTED = {
    "missing": "champ obligatoire absent",
    "extra_forbidden": "champ inconnu (retirez-le ou corrigez son nom)",
    "string_type": "texte attendu",
    "string_unicode": "texte attendu",
    "string_too_short": "au moins {min_length} caractère(s) attendu(s)",
    "string_too_long": "{max_length} caractères au plus",
    "string_pattern_mismatch": "format non reconnu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu (sans virgule)",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "finite_number": "nombre attendu",
    "bool_type": "oui ou non attendu (true ou false)",
    "bool_parsing": "oui ou non attendu (true ou false)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_inexact": "date sans heure attendue (AAAA-MM-JJ)",
    "datetime_type": "date et heure attendues (AAAA-MM-JJTHH:MM:SS+01:00)",
    "datetime_parsing": "date et heure attendues (AAAA-MM-JJTHH:MM:SS+01:00)",
    "datetime_from_date_parsing": "date et heure attendues (AAAA-MM-JJTHH:MM:SS+01:00)",
    "timezone_aware": "date et heure avec fuseau horaire attendues (…+01:00)",
    "list_type": "liste attendue",
    "tuple_type": "liste attendue",
    "set_type": "liste attendue",
    "dict_type": "ensemble « clé : valeur » attendu",
    "model_type": "ensemble « clé : valeur » attendu",
    "model_attributes_type": "ensemble « clé : valeur » attendu",
    "literal_error": "une de ces valeurs attendue : {expected}",
    "enum": "une de ces valeurs attendue : {expected}",
    "greater_than": "nombre supérieur à {gt} attendu",
    "greater_than_equal": "nombre supérieur ou égal à {ge} attendu",
    "less_than": "nombre inférieur à {lt} attendu",
    "less_than_equal": "nombre inférieur ou égal à {le} attendu",
    "too_short": "au moins {min_length} élément(s) attendu(s)",
    "too_long": "{max_length} élément(s) au plus",
    "none_required": "doit rester vide",
    "recursion_loop": "structure qui se contient elle-même",
}
FALLBACK = "valeur refusée"


def _context(ctx: Mapping[str, Any]) -> dict[str, str]:
    values = {}
    for key, value in ctx.items():
        text = str(value)
        if key == "expected":  # pydantic: "'a', 'b' or 'c'"
            text = text.replace(" or ", ", ")
        values[key] = text
    return values


def expected(err: ErrorDetails) -> str:
    """What the field should hold, in French."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        # Our own validators raise ValueError with a French reason.
        return str(ctx["error"])
    template = EXPECTED.get(kind)
    if template is None:
        return FALLBACK
    try:
        return template.format(**_context(ctx))
    except (KeyError, IndexError, ValueError):
        return FALLBACK


def field_name(loc: Sequence[int | str], labels: Mapping[str, str] | None = None) -> str:
    """`('exceptions', 0, 'date')` -> `exceptions › n° 1 › date` (items counted from 1)."""
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"n° {part + 1}")
        else:
            parts.append((labels or {}).get(part, part))
    return " › ".join(parts)


def _given(value: Any) -> str:
    if isinstance(value, bool):
        return " (reçu : " + ("true" if value else "false") + ")"
    if isinstance(value, int | float) or (isinstance(value, str) and value):
        text = str(value)
        text = text if len(text) <= 40 else text[:39] + "…"
        return f" (reçu : « {text} »)"
    return ""


def describe(err: ErrorDetails, labels: Mapping[str, str] | None = None) -> str:
    """One refusal: « field » : what is expected (what was given)."""
    given = "" if err["type"] in ("missing", "extra_forbidden") else _given(err.get("input"))
    where = field_name(err["loc"], labels)
    prefix = f"champ « {where} » : " if where else ""
    return f"{prefix}{expected(err)}{given}"


def explain(
    exc: ValidationError,
    labels: Mapping[str, str] | None = None,
    where: Callable[[Sequence[int | str]], int | None] | None = None,
) -> str:
    """The first refusal in French (and how many more), with its line when `where` can tell it."""
    errors = exc.errors(include_url=False)
    if not errors:
        return FALLBACK
    first = errors[0]
    text = describe(first, labels)
    line = where(first["loc"]) if where is not None else None
    if line is not None:
        text = f"ligne {line}, {text}"
    if len(errors) > 1:
        text += f" (et {len(errors) - 1} autre(s) problème(s))"
    return text
