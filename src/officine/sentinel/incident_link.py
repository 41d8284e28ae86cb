"""The sentinel's use of the incident assistant, through its public functions only.

An alarm opens (or joins) the current incident and writes its evidence to the incident's
tamper-evident journal; isolation goes through the same `isolate` as `officine incident isolate`.
Kept in one place so that a change of the incident package's API touches only this module.
"""

from __future__ import annotations

from typing import Any

ACTOR = "sentinelle"


def journal(action: str, summary: str, **details: Any) -> str:
    """Append to the current incident's journal (opening one if none is open); returns its ID."""
    from officine.incident.runbook import current_incident, open_incident  # noqa: PLC0415

    incident = current_incident() or open_incident(ACTOR, summary)
    incident.record(ACTOR, action, **details)
    return incident.id


def isolate_network() -> str:
    """Cut the network (keeping the machine on) and journal it; returns the French result."""
    from officine.incident import isolate  # noqa: PLC0415
    from officine.incident.runbook import current_incident, open_incident  # noqa: PLC0415

    incident = current_incident() or open_incident(ACTOR, "isolement déclenché par la sentinelle")
    result = isolate.isolate(incident.folder / "isolation.json")
    text = result.describe()
    incident.record(ACTOR, "isolated", result=text, interfaces=result.interfaces, already=result.already)
    return text
