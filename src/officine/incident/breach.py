"""Personal data breaches: the 72-hour clock, the register (GDPR art. 33.5) and the CNIL draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
NOTIFICATION_DELAY = timedelta(hours=72)  # GDPR art. 33.1: 72 hours of elapsed time, not of wall clock


def deadline(discovered_at: datetime) -> datetime:
    """When the CNIL must have been notified. Computed in UTC so that a daylight-saving change in
    between neither adds nor removes an hour; returned in Paris time for display."""
    if discovered_at.tzinfo is None:
        raise ValueError("l'heure de découverte doit avoir un fuseau horaire")
    return (discovered_at.astimezone(UTC) + NOTIFICATION_DELAY).astimezone(PARIS)


def remaining(discovered_at: datetime, now: datetime) -> timedelta:
    return deadline(discovered_at).astimezone(UTC) - now.astimezone(UTC)


def describe_remaining(discovered_at: datetime, now: datetime) -> str:
    left = remaining(discovered_at, now)
    due = deadline(discovered_at)
    when = f"{due:%d/%m/%Y à %H:%M} (heure de Paris)"
    if left.total_seconds() <= 0:
        late = -left
        return (
            f"Délai de 72 heures dépassé depuis {int(late.total_seconds() // 3600)} h (échéance le {when}) : "
            "notifiez sans attendre et indiquez la raison du retard."
        )
    hours, rest = divmod(int(left.total_seconds()), 3600)
    return f"Il reste {hours} h {rest // 60:02d} min pour notifier la CNIL (échéance le {when})."


@dataclass
class Breach:
    """One entry of the breach register: every breach, notified or not."""

    discovered_at: datetime
    nature: str  # what happened: ransomware, loss of a laptop, e-mail sent to the wrong person…
    occurred_at: datetime | None = None
    categories_people: str = ""  # patients, staff…
    approx_people: int | None = None
    categories_records: str = ""  # prescriptions, social security numbers…
    approx_records: int | None = None
    consequences: str = ""
    measures: str = ""  # taken or planned, including mitigation
    contact: str = ""  # DPO or contact point
    notified: bool = False
    notified_at: datetime | None = None
    not_notified_reason: str = ""  # required when the breach is not notified
    stage: str = "initiale"  # initiale or complémentaire (art. 33.4: in phases)
    id: int | None = None


def cnil_draft(b: Breach, pharmacy: str, now: datetime) -> str:
    """The content the CNIL's online notification asks for, ready to copy (art. 33.3)."""
    due = deadline(b.discovered_at)
    late = now.astimezone(UTC) > due.astimezone(UTC)

    def val(text: str | int | None, missing: str = "à compléter") -> str:
        return str(text) if text not in (None, "") else f"[{missing}]"

    lines = [
        f"Notification de violation de données personnelles — {pharmacy}",
        f"Type de notification : {b.stage}",
        f"Date et heure de découverte : {b.discovered_at.astimezone(PARIS):%d/%m/%Y %H:%M} (heure de Paris)",
        "Date de la violation : "
        + (f"{b.occurred_at.astimezone(PARIS):%d/%m/%Y %H:%M}" if b.occurred_at else "[inconnue à ce stade]"),
        f"Nature de la violation : {val(b.nature)}",
        f"Catégories de personnes concernées : {val(b.categories_people)}",
        f"Nombre approximatif de personnes : {val(b.approx_people)}",
        f"Catégories de données concernées : {val(b.categories_records)}",
        f"Nombre approximatif d'enregistrements : {val(b.approx_records)}",
        f"Conséquences probables : {val(b.consequences)}",
        f"Mesures prises ou envisagées (y compris pour limiter les effets) : {val(b.measures)}",
        f"Contact (DPO ou autre point de contact) : {val(b.contact)}",
    ]
    if late:
        lines.append("Raison du retard (notification après 72 heures) : [à compléter]")
    return "\n".join(lines) + "\n"
