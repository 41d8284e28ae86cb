"""Text from outside (a snapshot, a file, a backup repository) made harmless for a terminal.

A hostname or an os-release line can carry escape sequences that clear the screen, retitle
the window or recolour the report; bidirectional overrides that display text in another
order than it is; and Rich markup (`[bold]`, `[/]`) that restyles the report or stops it with
an error. Every such character is shown as a visible escape (`\\x1b`, `\\u202e`), so the
evidence still quotes what was observed, and markup is escaped before printing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console
from rich.text import Text

# C0 controls but tab and newline, DEL and C1 controls, invisible format characters (bidi
# embeddings, overrides and isolates, zero-width characters, the byte-order mark, Unicode tag
# characters), line and paragraph separators, and lone surrogates (which cannot be written).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f]"
)
_UNSAFE_ONE_LINE = re.compile(_UNSAFE.pattern[:-1] + "\t\n]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "\\n"
    if code == 0x09:
        return "\\t"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal_text(text: str, one_line: bool = False) -> str:
    """`text` with every control or invisible formatting character shown as an escape.
    `one_line`: newlines and tabs too (a hostname, a path, a name)."""
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(_visible, text)


_BRACKET = re.compile(r"(\\*)\[")
_TAG = re.compile(r"[a-z#/@][^[]*?]")  # what Rich takes for a tag after "[" (rich.markup.RE_TAGS)


def _escape_markup(text: str) -> str:
    """`text` shown as it is inside Rich markup. rich.markup.escape is not enough: Rich turns any
    backslash-bracket outside a tag into a bare bracket, and a run of three backslashes before a
    tag loses one; a trailing run would escape the tag that follows."""

    def bracket(match: re.Match[str]) -> str:
        slashes = match.group(1)
        if _TAG.match(text, match.end()):  # a tag to Rich: escaped, the backslashes before it kept
            return slashes * 2 + "\\["
        return slashes + "\\[" if slashes else "["

    out = _BRACKET.sub(bracket, text)
    trailing = len(out) - len(out.rstrip("\\"))
    return out + "\\" * trailing  # exact when a tag follows, as in "[bold]{value}[/bold]"


def markup(value: Any) -> str:
    """A value from outside, ready to be placed inside Rich markup on one line."""
    return _escape_markup(terminal_text(str(value), one_line=True))


class SafeConsole(Console):
    """A Rich console that never lets a control character through, whatever it is given.

    Values from outside must still be passed through `markup()` (escaping is the caller's
    job: only the caller knows which part is markup); this is the second line of defence
    for what is printed as markup text, and emoji codes (`:x:`) are left as typed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("highlight", False)
        kwargs.setdefault("emoji", False)
        super().__init__(**kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(terminal_text(text), **kwargs)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # JSON escapes astral characters as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_text(value: Any, indent: int | None = 2) -> str:
    """JSON for a terminal or a pipe: readable accents, but every character `terminal_text`
    would escape written as a JSON escape (they can only occur inside strings, so the
    document means exactly the same)."""
    return _UNSAFE.sub(_json_escape, json.dumps(value, ensure_ascii=False, indent=indent))
