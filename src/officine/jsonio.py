"""JSON from outside (snapshots, answers files): parsed with a nesting bound and French errors.

Python's parser stops near a thousand levels, but a document just under that passes and
then overflows the stack of whatever walks it recursively later (copies, serialisers,
templates). No document of ours goes deeper than a handful of levels: refuse more at once.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64


class JsonError(ValueError):
    """`reason` is French, without the file name (the caller knows it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JsonTooDeep(JsonError):
    """Well-formed, but nested deeper than any document of ours."""


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests lists and objects deeper than `limit` (iterative: no recursion)."""
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        children: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                children.extend(v for v in item.values() if isinstance(v, dict | list))
            elif isinstance(item, list):
                children.extend(v for v in item if isinstance(v, dict | list))
        level = children
    return False


def load_json(text: str, max_depth: int = MAX_DEPTH) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonError(f"JSON incorrect ligne {exc.lineno}, colonne {exc.colno}") from exc
    except RecursionError as exc:
        raise JsonTooDeep(f"imbrication trop profonde ({max_depth} niveaux au plus)") from exc
    except ValueError as exc:  # an integer of thousands of digits
        raise JsonError("nombre trop long") from exc
    if depth_exceeds(data, max_depth):
        raise JsonTooDeep(f"imbrication trop profonde ({max_depth} niveaux au plus)")
    return data


# A lone UTF-16 surrogate can only come from a `\uD800`-style escape in the JSON text.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def may_hold_lone_surrogates(raw: bytes) -> bool:
    """Cheap test on the raw text: false means no string of the document holds a lone surrogate."""
    return _SURROGATE_ESCAPE.search(raw) is not None


def _scrub(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def scrub_surrogates(value: Any) -> Any:
    """The same document with every lone surrogate replaced by U+FFFD (they cannot be encoded)."""
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, list):
        return [scrub_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): scrub_surrogates(v) for k, v in value.items()}
    return value
