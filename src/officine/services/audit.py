"""Collect, judge, store: the audit as every surface runs it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from officine import snapshot as snapshots_mod
from officine.answers import Answers, load_answers
from officine.catalogue.loader import CatalogueError, Messages, load_catalogue, load_messages
from officine.catalogue.model import Catalogue
from officine.checks import CheckSpec, load_checks
from officine.evaluate import Assessment, evaluate
from officine.host.local import LocalHost
from officine.reference import load_reference
from officine.snapshot import Snapshot


@dataclass
class Knowledge:
    """Everything the judgement needs besides facts and answers, validated together."""

    catalogue: Catalogue
    messages: Messages
    checks: dict[str, CheckSpec]


def load_knowledge() -> Knowledge:
    catalogue, messages, checks = load_catalogue(), load_messages(), load_checks()
    validate_consistency(catalogue, messages, checks)
    return Knowledge(catalogue, messages, checks)


def validate_consistency(catalogue: Catalogue, messages: Messages, checks: dict[str, CheckSpec]) -> None:
    """A broken catalogue fails at start-up, naming the measure and the field."""
    measures = {m.id: m for p in catalogue.practices for m in p.measures}
    for mid, measure in measures.items():
        if measure.verification != "question" and mid not in checks:
            raise CatalogueError(
                f"Catalogue invalide — mesure {mid}, champ verification : "
                f"« {measure.verification} » mais aucune vérification n'est programmée"
            )
    for mid, spec in checks.items():
        if mid not in measures:
            raise CatalogueError(
                f"Catalogue invalide — mesure {mid} : vérification programmée pour une mesure absente du catalogue"
            )
        if measures[mid].verification == "question":
            raise CatalogueError(
                f"Catalogue invalide — mesure {mid}, champ verification : « question » "
                "alors qu'une vérification automatique existe"
            )
        templates = messages.measures.get(mid, {})
        for reason in spec.reasons:
            if reason not in templates:
                raise CatalogueError(f"Messages incomplets — mesure {mid}, champ {reason} : texte manquant")


@dataclass
class AuditResult:
    assessment: Assessment
    snapshots: list[Snapshot]
    answers: Answers
    audit_id: int | None


def on_windows() -> bool:
    return sys.platform == "win32"


def collect_windows(progress: Callable[[str], None] | None = None) -> Snapshot:
    """Windows with Python: the manifest's items read directly (same snapshot as collect.ps1)."""
    from officine.collectors.windows import live, native  # noqa: PLC0415

    return native.collect_snapshot(live.LiveWindows(), progress=progress)


def collect_local(root: Path | None = None, progress: Callable[[str], None] | None = None) -> Snapshot:
    if root is None and on_windows():
        return collect_windows(progress)
    if root is not None and not root.is_dir():
        from officine.errors import UserError  # noqa: PLC0415

        raise UserError(f"Le dossier {root} n'existe pas : indiquez la racine du système monté.")
    return snapshots_mod.collect(LocalHost(root), progress)


def run_audit(
    *,
    from_files: list[Path] | None = None,
    root: Path | None = None,
    answers_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
    store_url: str | None = None,
    save: bool = True,
    today: datetime | None = None,
) -> AuditResult:
    knowledge = load_knowledge()
    # Read every input first: bad input must change nothing (not even create the database).
    from_file = load_answers(answers_path, knowledge.catalogue) if answers_path else None
    if from_files:
        snaps = [snapshots_mod.reanalyse(snapshots_mod.load(p)) for p in from_files]
    else:
        snaps = [collect_local(root, progress)]
    store = None
    if save:
        from officine.store import Store  # noqa: PLC0415 - the database is only opened when needed

        store = Store(store_url)
    if from_file is not None:
        answers = from_file
    elif store is not None:
        from officine.services.assessments import Pharmacy  # noqa: PLC0415

        answers = Pharmacy(store, knowledge).answers()  # given on the dashboard
    else:
        answers = Answers()
    now = today or datetime.now(UTC)
    from officine.services.backup import site_facts  # noqa: PLC0415 - opens the store only with a plan
    from officine.services.passwords import site_facts as password_facts  # noqa: PLC0415

    site = {**answers.site_facts(), **site_facts(store_url, now=now, store=store), **password_facts(store, now)}
    assessment = evaluate(
        knowledge.catalogue,
        snaps,
        answers,
        knowledge.checks,
        knowledge.messages,
        load_reference(),
        now.date(),
        site,
    )
    audit_id = None
    if store is not None:
        audit_id = store.record_audit([s.to_json() for s in snaps], assessment.to_json(), answers_json(answers))
    return AuditResult(assessment, snaps, answers, audit_id)


def answers_json(answers: Answers) -> dict[str, Any]:
    return {
        "answered_by": answers.answered_by,
        "answered_at": answers.answered_at.isoformat() if answers.answered_at else None,
        "answers": answers.values,
        "exceptions": [e.model_dump(mode="json") for e in answers.exceptions.values()],
        "approved_usb_devices": answers.approved_usb_devices,
    }
