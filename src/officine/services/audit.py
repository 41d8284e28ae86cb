"""Collect, judge, store: the audit as the command line runs it, through the pharmacy's service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from officine import snapshot as snapshots_mod
from officine.answers import Answers, load_answers
from officine.services.collect import collect_local
from officine.services.knowledge import Knowledge, load_knowledge, validate_consistency
from officine.services.pharmacy import AuditResult, Pharmacy, site_facts

__all__ = ["AuditResult", "Knowledge", "load_knowledge", "run_audit", "validate_consistency"]


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
    now = today or datetime.now(UTC)
    if save:
        # The answers given on the dashboard count unless a file gives them.
        return Pharmacy.open(store_url, knowledge).audit(snaps, from_file, now)
    answers = from_file or Answers()
    facts = site_facts(answers, now, store_url=store_url)
    return AuditResult(knowledge.judge(snaps, answers, facts, now.date()), snaps, answers, None)
