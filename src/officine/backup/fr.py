"""Dates and sizes as a French reader expects them (Paris time, "29/11/2026 20:30", "1,2 Go")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def when(value: datetime | str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{(moment.astimezone(PARIS) if moment.tzinfo else moment):%d/%m/%Y %H:%M}"


def day(value: datetime | str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{(moment.astimezone(PARIS) if moment.tzinfo else moment):%d/%m/%Y}"


def size(n: int) -> str:
    value = float(n)
    for unit in ("octets", "Ko", "Mo", "Go"):
        if value < 1024 or unit == "Go":
            return f"{value:.0f} {unit}" if unit == "octets" else f"{value:.1f} {unit}".replace(".", ",")
        value /= 1024
    return str(n)
