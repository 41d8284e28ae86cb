"""Backups as a person reads them: the plan, each destination's last run, last drill and its
proof, and the SAV verdicts, from the backup state fact and the guardian's records."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from officine.backup.plan import KIND_FR, PLACE_FR, Plan
from officine.backup.records import BackupRecords, VerificationRecord
from officine.backup.state import FACT
from officine.facts import Fact, FactStatus
from officine.services.backup import BACKUP_MEASURES
from officine.services.story import excepted


@dataclass
class DestinationView:
    id: str
    label: str
    kind: str
    place: str
    repository: str
    immutable: bool
    hds: dict[str, Any] | None
    state: dict[str, Any]  # the destination as the backup.state fact describes it
    proof: VerificationRecord | None  # the last drill, with what it restored and compared


@dataclass
class BackupOverview:
    plan: Plan | None
    plan_error: str | None  # a plan that exists but cannot be read
    destinations: list[DestinationView] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)  # SAV-* of the current assessment
    restic_installed: bool = True
    declared_folders: list[dict[str, str]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """A plan with somewhere to write: the page can run and drill."""
        return self.plan is not None and bool(self.plan.destinations)


def overview(
    plan: Plan | None,
    plan_error: str | None,
    facts: dict[str, Fact],
    records: BackupRecords | None,
    assessment: dict[str, Any] | None,
    declared_folders: list[dict[str, str]],
) -> BackupOverview:
    state = facts.get(FACT)
    by_id = (
        {d["id"]: d for d in state.value["destinations"]}
        if state is not None and state.status is FactStatus.observed
        else {}
    )
    destinations = []
    for d in plan.destinations if plan else []:
        drills = records.verifications(d.id, limit=5) if records else []
        proof = next((v for v in drills if v.error_code != "absent"), None)
        destinations.append(
            DestinationView(
                d.id,
                d.label,
                KIND_FR[d.kind],
                PLACE_FR[d.place],
                d.repository,
                d.immutable,
                None if d.hds is None else d.hds.model_dump(mode="json"),
                by_id.get(d.id, {}),
                proof,
            )
        )
    measures = [m for m in (assessment or {}).get("measures", []) if m["id"] in BACKUP_MEASURES]
    return BackupOverview(
        plan,
        plan_error,
        destinations,
        [{**m, "excepted": excepted(m)} for m in measures],
        shutil.which("restic") is not None,
        declared_folders,
    )
