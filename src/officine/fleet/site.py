"""The facts about a whole pharmacy of the fleet, from what its agents sent: the backup plan and
the guardian's records (copied into the pharmacy's schema, so the same `build_state` reads them
with the server's clock: a backup that stops ages on the server too), and the incident journals'
entries and verification. The same site facts as on the pharmacy's own machine; evaluate()
judges them the same way."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from officine.answers import Answers
from officine.backup.plan import Plan
from officine.backup.records import BackupRecords
from officine.backup.state import SIGHTING_WINDOW, build_state, unreadable_plan
from officine.facts import Fact, observed
from officine.fleet.models import AgentEventRow
from officine.incident.runbook import OPENED
from officine.incident.verification import ALTERED
from officine.services import incidents
from officine.services.passwords import site_facts as password_site_facts
from officine.store import Store
from officine.store.models import BackupRunRow, BackupVerificationRow, DestinationSightingRow, PasswordAuditRow
from officine.validation import explain

PLAN = "plan"
INCIDENT = "incident"  # one journal entry
JOURNAL = "journal"  # a journal's verification on the workstation


@dataclass
class FleetSite:
    engine: Engine  # the fleet's schema
    pharmacy_id: int

    def facts(self, store: Store, answers: Answers, now: datetime) -> dict[str, Fact]:
        return {
            **answers.site_facts(),
            **self.backup_facts(store, now),
            **self.incident_facts(),
            **password_site_facts(store, now),
        }

    def signature(self, store: Store, session: Session) -> str:
        with Session(self.engine) as fleet_session:  # the fleet's own schema: the events received
            parts: list[object] = [
                fleet_session.scalar(
                    select(func.max(AgentEventRow.id)).where(AgentEventRow.pharmacy_id == self.pharmacy_id)
                )
            ]
        parts += [  # the pharmacy's schema, in the caller's session
            session.scalar(select(func.max(row.id)))
            for row in (BackupRunRow, BackupVerificationRow, DestinationSightingRow, PasswordAuditRow)
        ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]

    def _latest(self, kind: str) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(AgentEventRow.payload)
                .where(AgentEventRow.pharmacy_id == self.pharmacy_id, AgentEventRow.kind == kind)
                .order_by(AgentEventRow.at, AgentEventRow.id)
            )
            return [dict(r) for r in rows]

    def plan(self) -> dict[str, Any] | None:
        """The backup plan a workstation sent last (the one that makes the backups)."""
        with Session(self.engine) as session:
            payload = session.scalar(
                select(AgentEventRow.payload)
                .where(AgentEventRow.pharmacy_id == self.pharmacy_id, AgentEventRow.kind == PLAN)
                .order_by(AgentEventRow.at.desc(), AgentEventRow.id.desc())
                .limit(1)
            )
        return None if payload is None else dict(payload)

    def backup_facts(self, store: Store, now: datetime) -> dict[str, Fact]:
        document = self.plan()
        if document is None:
            return build_state(None, [], [], {}, {}, now)
        try:
            plan = Plan.model_validate(document.get("plan"))
        except ValidationError as exc:
            return unreadable_plan(f"Le plan de sauvegarde envoyé par le poste est invalide : {explain(exc)}")
        records = BackupRecords(store)
        since = now - SIGHTING_WINDOW
        return build_state(
            plan,
            records.runs(),
            records.verifications(),
            {d.id: records.sightings(d.id, since) for d in plan.destinations},
            {d.id: records.first_sighting(d.id) for d in plan.destinations},
            now,
        )

    def incident_facts(self) -> dict[str, Fact]:
        """`incident.journal` as `services.incidents.journal_fact` builds it on the workstation:
        how many incidents, the last opened, and the journals the workstation found altered."""
        opened = [str(e["at"]) for e in self._latest(INCIDENT) if e.get("action") == OPENED and e.get("at")]
        names = {str(e.get("incident")) for e in self._latest(INCIDENT)}
        checks: dict[str, dict[str, Any]] = {}
        for check in self._latest(JOURNAL):  # the newest verification of each journal counts
            checks[str(check.get("incident"))] = check
            names.add(str(check.get("incident")))
        altered = [
            {"incident": name, "problem": str(c.get("problem") or "")}
            for name, c in sorted(checks.items())
            if c.get("status") == ALTERED
        ]
        return {
            incidents.FACT: observed(
                {"incidents": len(names), "last_opened": max(opened, default=None), "altered": altered}
            )
        }
