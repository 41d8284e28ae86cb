"""Alerts: what a provider must hear about without opening the console. Read from what the
judgement and the agents already said (a verdict, a drill record, a sentinel alarm, an incident
entry, the last contact), never judged a second way.

One open alert per pharmacy, kind and key: the same thing again adds an occurrence. New alerts
of an organisation are sent together after `GROUP_DELAY` (one e-mail, one webhook call for all
of them), so that a bad day across a hundred pharmacies is one message, not a hundred."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from officine import dates
from officine.fleet import jobs
from officine.fleet.directory import Access, NotFound, log
from officine.fleet.models import AgentRow, AlertRow, FleetJobRow, FleetPharmacyRow
from officine.fleet.tenancy import Fleet
from officine.incident.runbook import OPENED

ENV_GROUP_DELAY = "OFFICINE_FLEET_ALERT_DELAY_S"
GROUP_DELAY = timedelta(minutes=2)
SILENCE = timedelta(hours=48)
LATE_BACKUP = ("backup_late", "no_recent_backup")  # SAV-01: older than the plan allows
BACKUP_MEASURE = "SAV-01"
KINDS = {
    "mesure_critique": "Mesure critique non conforme",
    "sauvegarde_ancienne": "Sauvegarde trop ancienne",
    "exercice_echoue": "Exercice de restauration échoué",
    "sentinelle": "Alarme de la sentinelle",
    "incident": "Incident déclaré",
    "agent_muet": "Poste silencieux depuis plus de 48 heures",
}


def group_delay() -> timedelta:
    value = os.environ.get(ENV_GROUP_DELAY)
    return timedelta(seconds=float(value)) if value else GROUP_DELAY


def raise_alert(
    session: Session, organisation_id: int, pharmacy_id: int, kind: str, key: str, text: str, now: datetime
) -> bool:
    """Open an alert, or count one more occurrence of the open one. True when it is new."""
    key = key[:120]
    row: Row[Any] | None = session.execute(
        insert(AlertRow)
        .values(
            organisation_id=organisation_id,
            pharmacy_id=pharmacy_id,
            kind=kind,
            key=key,
            text=text[:2000],
            open_key=f"{pharmacy_id}:{kind}:{key}",
            first_at=now,
            last_at=now,
            occurrences=1,
        )
        .on_conflict_do_update(
            index_elements=["open_key"],
            set_={"occurrences": AlertRow.occurrences + 1, "last_at": now},
        )
        .returning(literal_column("xmax = 0"))
    ).first()
    new = bool(row and row[0])
    if new:
        _schedule_notification(session, organisation_id, now)
    return new


def _schedule_notification(session: Session, organisation_id: int, now: datetime) -> None:
    waiting = session.scalar(
        select(FleetJobRow.id).where(
            FleetJobRow.kind == jobs.NOTIFY,
            FleetJobRow.organisation_id == organisation_id,
            FleetJobRow.state == "pending",
        )
    )
    if waiting is None:
        jobs.enqueue(session, jobs.NOTIFY, now, organisation_id=organisation_id, run_after=now + group_delay())


def _verdicts(document: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in (document or {}).get("measures", [])}


def _reasons(measure: dict[str, Any] | None) -> set[str]:
    return {str(e.get("reason")) for e in (measure or {}).get("evidence", [])}


def after_judgement(
    fleet: Fleet,
    pharmacy_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    events: list[tuple[str, str, dict[str, Any]]],
    now: datetime | None = None,
) -> int:
    """Alerts from one judgement: what newly fails, and the events the agents just sent
    (kind, key, data). Returns how many alerts are new."""
    now = now or datetime.now(UTC)
    found: list[tuple[str, str, str]] = []
    old, new = _verdicts(before), _verdicts(after)
    for mid, m in new.items():
        excepted = bool(m.get("exception") and not m["exception"].get("expired"))
        if excepted or m["verdict"] != "fail":
            continue
        was = old.get(mid)
        if m["severity"] == "critical" and (was is None or was["verdict"] != "fail"):
            hosts = sorted({str(e["host"]) for e in m.get("evidence", []) if e.get("host") and e["verdict"] == "fail"})
            where = f" (postes : {', '.join(hosts)})" if hosts else ""
            found.append(("mesure_critique", mid, f"{mid} « {m['title']} » n'est plus conforme{where}."))
    late = _reasons(new.get(BACKUP_MEASURE)) & set(LATE_BACKUP)
    if late and not _reasons(old.get(BACKUP_MEASURE)) & set(LATE_BACKUP):
        texts = [str(e["text"]) for e in new[BACKUP_MEASURE]["evidence"] if e.get("reason") in LATE_BACKUP]
        found.append(("sauvegarde_ancienne", BACKUP_MEASURE, texts[0] if texts else KINDS["sauvegarde_ancienne"]))
    for kind, key, data in events:
        if kind == "verification" and data.get("status") == "failed":
            message = str(data.get("message") or "")
            found.append(
                (
                    "exercice_echoue",
                    key,
                    f"L'exercice de restauration de « {data.get('destination_id')} » a échoué. {message}".strip(),
                )
            )
        elif kind == "sentinel" and data.get("type") == "alarm":
            found.append(
                (
                    "sentinelle",
                    key,
                    f"La sentinelle de {data.get('hostname')} a donné l'alarme "
                    f"({_files(len(data.get('paths') or []))}) : chiffrement en cours possible.",
                )
            )
        elif kind == "incident" and data.get("action") == OPENED:
            summary = str(data.get("summary") or "")
            found.append(("incident", str(data.get("incident")), f"Incident déclaré : {summary}".strip()))
    return _open_all(fleet, pharmacy_id, found, now)


def _files(n: int) -> str:
    return f"{n} fichier touché" if n <= 1 else f"{n} fichiers touchés"


def _open_all(fleet: Fleet, pharmacy_id: int, found: list[tuple[str, str, str]], now: datetime) -> int:
    if not found:
        return 0
    with fleet.transaction() as session:
        pharmacy = session.get_one(FleetPharmacyRow, pharmacy_id)
        return sum(
            raise_alert(session, pharmacy.organisation_id, pharmacy_id, kind, key, text, now)
            for kind, key, text in found
        )


def silent_agents(fleet: Fleet, now: datetime | None = None) -> int:
    """Agents (not revoked) not heard of for more than 48 hours: one alert each."""
    now = now or datetime.now(UTC)
    with fleet.transaction() as session:
        rows = session.execute(
            select(AgentRow, FleetPharmacyRow.organisation_id)
            .join(FleetPharmacyRow, FleetPharmacyRow.id == AgentRow.pharmacy_id)
            .where(AgentRow.revoked_at.is_(None))
        ).all()
        new = 0
        for agent, organisation_id in rows:
            last = agent.last_contact_at or agent.enrolled_at
            if now - last > SILENCE:
                text = (
                    f"Le poste {agent.hostname} n'a rien envoyé depuis plus de 48 heures "
                    f"(dernier contact : {dates.moment(last)})."
                )
                new += raise_alert(
                    session, organisation_id, agent.pharmacy_id, "agent_muet", agent.public_id, text, now
                )
        return new


@dataclass(frozen=True)
class AlertLine:
    id: int
    pharmacy_id: int
    pharmacy: str
    kind: str
    text: str
    first_at: datetime
    last_at: datetime
    occurrences: int
    notified_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @property
    def title(self) -> str:
        return KINDS.get(self.kind, self.kind)


def alerts(fleet: Fleet, access: Access, open_only: bool = True, pharmacy_id: int | None = None) -> list[AlertLine]:
    with fleet.session() as session:
        query = (
            select(AlertRow, FleetPharmacyRow.name)
            .join(FleetPharmacyRow, FleetPharmacyRow.id == AlertRow.pharmacy_id)
            .where(access.pharmacies())
            .order_by(AlertRow.acknowledged_at.is_not(None), AlertRow.last_at.desc())
            .limit(500)
        )
        if open_only:
            query = query.where(AlertRow.acknowledged_at.is_(None))
        if pharmacy_id is not None:
            query = query.where(AlertRow.pharmacy_id == pharmacy_id)
        return [
            AlertLine(
                a.id,
                a.pharmacy_id,
                name,
                a.kind,
                a.text,
                a.first_at,
                a.last_at,
                a.occurrences,
                a.notified_at,
                a.acknowledged_at,
                a.acknowledged_by,
            )
            for a, name in session.execute(query).all()
        ]


def acknowledge(fleet: Fleet, access: Access, alert_id: int, client: str = "") -> None:
    """Seen and taken in hand: closed. The same event again opens a new alert."""
    access.require("acquitter")
    with fleet.transaction() as session:
        row = session.get(AlertRow, alert_id, with_for_update=True)
        if row is None or not access.sees(row.organisation_id, row.pharmacy_id):
            raise NotFound
        if row.acknowledged_at is not None:
            return
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id)
            .values(acknowledged_at=datetime.now(UTC), acknowledged_by=access.user.username, open_key=None)
        )
        log(fleet, access, "alerte_acquittee", row.pharmacy_id, {"alerte": alert_id, "type": row.kind}, client, session)
