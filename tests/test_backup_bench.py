"""The backup drill benchmark stays runnable: a tiny run (5 MB) that CI can afford."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("restic") is None, reason="restic not installed")
def test_backup_drill_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "drill.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/backup_drill.py"),
            "--size-gb",
            "0.005",
            "--work",
            str(tmp_path),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["drill_status"] == "passed"
    assert report["files"] > 10 and report["bytes"] > 4_000_000
    for key in ("compare_vs_raw_read_speed", "compare_vs_parallel_raw_read_speed", "drill_vs_restic_restore"):
        assert report[key] > 0, key
    assert set(report["drill_timings_s"]) >= {"check", "restore", "compare"}
