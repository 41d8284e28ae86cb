"""Dates and sizes as a French reader expects them in backup messages ("29/11/2026 20:30",
"1,2 Go"). Paris time and the day come from `officine.dates`, the one place dates are worded."""

from __future__ import annotations

from datetime import datetime

from officine.dates import PARIS, day

__all__ = ["PARIS", "day", "size", "when"]


def when(value: datetime | str) -> str:
    """29/11/2026 20:30, Paris time (the compact form used in tables and backup lines)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{(moment.astimezone(PARIS) if moment.tzinfo else moment):%d/%m/%Y %H:%M}"


def size(n: int) -> str:
    value = float(n)
    for unit in ("octets", "Ko", "Mo", "Go"):
        if value < 1024 or unit == "Go":
            return f"{value:.0f} {unit}" if unit == "octets" else f"{value:.1f} {unit}".replace(".", ",")
        value /= 1024
    return str(n)
