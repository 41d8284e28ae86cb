"""The benchmarks stay runnable: a tiny run of each one that CI can afford."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_web_latency_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "web.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/web_latency.py"),
            "--hours",
            "24",
            "--hosts",
            "2",
            "--clients",
            "2",
            "--requests",
            "2",
            "--processes",
            "2",  # the served app built in each process from the environment (serve --processus)
            "--backends",
            "sqlite",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    run = report["runs"][0]
    assert run["audits"] == 24 and run["snapshots"] == 48
    pages = {k: v for k, v in run["2_process"].items() if isinstance(v, dict)}
    assert set(pages) == {
        "home",
        "practice",
        "workstations",
        "history",
        "report",
        "backups",
        "incident",
        "static_baseline",
    }
    # Two clients, two rounds each: every page answered every time, without error.
    assert all(p["requests"] == 4 and p["errors"] == 0 and p["p95_ms"] > 0 for p in pages.values())
    assert all(0 < n <= 8 for n in run["sessions_per_page"].values())


def test_snapshot_storage_benchmark_runs_and_packing_saves_space(tmp_path: Path) -> None:
    out = tmp_path / "storage.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench/snapshot_storage.py"), "--snapshots", "4", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["snapshots"] == 4
    assert report["packed"]["kb_per_snapshot"] < report["plain"]["kb_per_snapshot"]


def test_import_memory_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "import.json"
    command = [sys.executable, str(ROOT / "bench/import_memory.py"), "--mb", "2", "--over", "17"]
    proc = subprocess.run(
        [*command, "--kinds", "objects,real,over", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    cases = {c["file"]: c for c in json.loads(out.read_text(encoding="utf-8"))["cases"]}
    assert cases["objects"]["bounded"]["status"] == 400 and cases["real"]["bounded"]["status"] == 303
    assert cases["over"]["bounded"]["status"] == 413
    assert cases["objects"]["bounded"]["peak_mb"] <= cases["objects"]["unbounded"]["peak_mb"]


def test_password_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "passwords.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench/passwords.py"), "--entries", "60", "--repeat", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    tester, audit = report["tester"], report["audit"]
    assert tester["max_length"] == 128 and tester["ours_ms"]["p95"] > 0 and tester["plain_zxcvbn_ms"]["p95"] > 0
    assert audit["entries"] == 60 and audit["key_derivation_s"] > 0 and audit["judge_s"] > 0
    assert sum(audit["counts"].values()) > 0


@pytest.mark.skipif(os.geteuid() != 0, reason="the sentinel benchmark needs root (fanotify, suspension)")
def test_sentinel_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "sentinel.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/sentinel.py"),
            *("--runs", "1", "--files", "40", "--modes", "full,avoid", "--rates", "400"),
            *("--skip", "benign,cost", "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text(encoding="utf-8"))["files_lost"]
    assert [(r["mode"], r["rate"]) for r in rows] == [("full", 400), ("avoid", 400)]
    assert all(r["missed"] == 0 and r["all_suspended"] and r["changes_after_suspension"] == 0 for r in rows)


def test_mail_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "mail.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench/mail.py"), "--repeat", "1", "--big-mb", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["corpus"]["messages"] >= 65 and report["corpus"]["analyser_ms"]["p95"] > 0
    assert (
        report["big_message_fresh_process"]["size_kb"] > 2000
        and report["first_message_fresh_process"]["verdict"] == "dangereux"
    )


@pytest.mark.postgres
def test_fleet_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    command = [sys.executable, str(ROOT / "bench/fleet.py"), "--judged", "2", "--sizes", "3,6", "--requests", "2"]
    proc = subprocess.run(
        [*command, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["jobs"] >= 2 and set(result["pages"]) == {"3", "6"}
    assert result["receive_message"]["p50_ms"] > 0 and result["judge_per_pharmacy_ms"] > 0
