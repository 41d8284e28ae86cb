"""Small helpers for tests: run an audit and index its verdicts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from officine.evaluate import Assessment, MeasureResult
from officine.services.audit import run_audit


def audit_root(root: Path, answers: Path | None = None) -> dict[str, MeasureResult]:
    result = run_audit(root=root, answers_path=answers, save=False)
    return by_id(result.assessment)


def audit_files(*files: Path, answers: Path | None = None, today: datetime | None = None) -> dict[str, MeasureResult]:
    result = run_audit(from_files=list(files), answers_path=answers, save=False, today=today or datetime.now(UTC))
    return by_id(result.assessment)


def by_id(assessment: Assessment) -> dict[str, MeasureResult]:
    return {m.measure.id: m for m in assessment.measures}


def verdict(results: dict[str, MeasureResult], measure: str) -> str:
    return results[measure].verdict.value


def evidence(results: dict[str, MeasureResult], measure: str) -> str:
    return " | ".join(e.text for e in results[measure].evidence)


def values(results: dict[str, MeasureResult], measure: str) -> dict[str, Any]:
    return next(e.values for e in results[measure].evidence if e.source == "machine")


def windows_envelope(
    observations: list[dict[str, Any]], hostname: str, collected_at: str, privileged: bool = True
) -> dict[str, Any]:
    """A Windows snapshot sealed the way collect.ps1 seals it (base64 payload + SHA-256)."""
    import uuid

    from snapshot_fixtures import envelope

    body = {
        "format": "officine-cyber/snapshot",
        "schema_version": 1,
        "snapshot_id": str(uuid.uuid4()),
        "tool_version": "0.1.0",
        "platform": "windows",
        "mode": "live",
        "collected_at": collected_at,
        "host": {"hostname": hostname},
        "collector": {"privileged": privileged},
        "facts": {},
        "observations": observations,
    }
    return envelope(body)


def officine(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as a person runs it: a new process, French messages on stderr, an exit code."""
    return subprocess.run(
        [sys.executable, "-m", "officine", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
    )


def stderr_until(proc: subprocess.Popen[str], marker: str, seconds: float = 120) -> str:
    """What a started command wrote on stderr, up to the line holding `marker` (or its end)."""
    import time

    output = ""
    deadline = time.monotonic() + seconds
    while marker not in output and time.monotonic() < deadline:
        line = proc.stderr.readline() if proc.stderr else ""
        if not line and proc.poll() is not None:
            break
        output += line
    return output


def database_at(url: str, revision: str, *statements: tuple[str, dict[str, Any]]) -> None:
    """A database migrated only up to `revision` (an installation of an older version), with
    rows written by `statements` (SQL text and its parameters)."""
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(resources.files("officine.store") / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        for sql, params in statements:
            conn.execute(text(sql), params)
    engine.dispose()
