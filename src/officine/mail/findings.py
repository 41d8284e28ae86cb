"""What each check returns: a reason code and the observed values its French text quotes."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_QUOTE = 200  # an observed value quoted in a reason (a URL can be kilobytes long)


def quote(value: str, limit: int = MAX_QUOTE) -> str:
    """One line, cut to `limit` characters; a leading space (a clause joined to a text) is kept."""
    lead = " " if value[:1] == " " else ""
    value = lead + " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class Finding:
    code: str
    fields: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def of(code: str, **fields: str) -> Finding:
        return Finding(code, {k: quote(v) for k, v in fields.items()})
