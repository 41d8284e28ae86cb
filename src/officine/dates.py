"""Dates and times as people read them: French, in Paris time, never ISO inside a sentence.
Stored values stay ISO 8601 in UTC; only the text shown to a person goes through here."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")


def paris(moment: datetime) -> datetime:
    """A moment in Paris time; a naive one is taken as UTC (as the database keeps them)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PARIS)


def today_in_paris(now: datetime | None = None) -> date:
    return paris(now or datetime.now(UTC)).date()


def day(value: date | datetime | str | None) -> str:
    """29/11/2026 (a moment is taken in Paris time)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = parse(value)
    if isinstance(value, datetime):
        value = paris(value).date()
    return f"{value:%d/%m/%Y}"


def moment(value: datetime | str | None) -> str:
    """29/11/2026 à 14:05, Paris time."""
    if value is None or value == "":
        return "—"
    parsed = parse(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        return day(parsed)
    return f"{paris(parsed):%d/%m/%Y à %H:%M}"


def long_day(value: date | datetime) -> str:
    """29 novembre 2026 (1er for the first day of a month)."""
    d = paris(value).date() if isinstance(value, datetime) else value
    first = "1er" if d.day == 1 else str(d.day)
    return f"{first} {MONTHS[d.month - 1]} {d.year}"


def parse(value: str) -> date | datetime:
    text = value.strip()
    if ISO_DATE.match(text):
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def french_if_iso(value: object) -> object:
    """A value about to go into a French sentence: an ISO date or moment becomes French."""
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return day(value)
    if isinstance(value, str) and (ISO_DATE.match(value) or ISO_DATETIME.match(value)):
        try:
            return day(value) if ISO_DATE.match(value) else moment(value)
        except ValueError:
            return value
    return value
