"""Keeping passwords out of tracebacks. An unexpected error while a password is in hand (a bug)
is re-raised without its message and without the chained exceptions: a message may quote a
value (KeyError('Doudou2024!')), and the CLI writes tracebacks to a file, the server to its log.
What stays is where it happened (files, lines, functions), enough to find the bug."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from officine.errors import UserError


class ScrubbedError(RuntimeError):
    """A bug met while handling a password: its type and where, never its message."""


@contextmanager
def scrubbed(what: str) -> Iterator[None]:
    try:
        yield
    except UserError:
        raise  # our own French messages never quote a password
    except Exception as exc:  # every other error is re-raised scrubbed
        where = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__))
        raise ScrubbedError(f"{what}: {type(exc).__name__} at {where}") from None
