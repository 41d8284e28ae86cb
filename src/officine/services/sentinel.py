"""The sentinel's alarms as the dashboard shows them (the red banner that opens the incident page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from officine import dates
from officine.sentinel.records import unacknowledged_alarms
from officine.store import Store

# French names of the indicators, for people.
INDICATOR_LABELS = {
    "canary_modified": "fichier-leurre modifié",
    "canary_deleted": "fichier-leurre supprimé",
    "type_changed": "fichiers devenus illisibles",
    "random_interior": "contenu chiffré",
    "ransom_note": "demande de rançon déposée",
    "renamed_unknown_extension": "fichiers renommés avec une extension inconnue",
    "new_random_file": "nouveaux fichiers chiffrés",
    "deleted_original": "fichiers supprimés",
    "rewrite_rate": "réécritures en rafale",
    "overflow": "événements perdus",
}


@dataclass(frozen=True)
class SentinelAlarm:
    id: int
    at: datetime
    hostname: str
    pid: int | None
    process: str
    indicators: list[str]
    files: int
    suspended: bool

    @property
    def when(self) -> str:
        """French date and time, Paris time as everywhere a person reads (29/11/2026 à 16:05)."""
        return dates.moment(self.at)


def banner_alarms(store: Store) -> list[SentinelAlarm]:
    """Alarms nobody has acknowledged yet, newest first."""
    alarms = []
    for row in unacknowledged_alarms(store):
        processes = row.details.get("processes") or []
        first = processes[0] if processes else {}
        command = " ".join(first.get("cmdline") or []) or str(first.get("name") or "")
        alarms.append(
            SentinelAlarm(
                id=row.id,
                at=row.at,
                hostname=row.hostname,
                pid=row.pid,
                process=command[:120] or "inconnu",
                indicators=[f"{INDICATOR_LABELS.get(k, k)} ({v})" for k, v in row.indicators.items()],
                files=len(row.paths),
                suspended=bool(row.details.get("suspended")),
            )
        )
    return alarms
