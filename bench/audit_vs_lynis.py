"""Benchmark: our full Linux audit (collect + judge + store) side by side with Lynis.

Run: .venv/bin/python bench/audit_vs_lynis.py [--runs N]
Both tools run alternately in the same session on the same machine; wall time and CPU time
(user + system, including child processes) are measured per run, and the ratio of medians is
what counts (these machines are noisy). Results go to bench/results/audit_vs_lynis.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results/audit_vs_lynis.json"


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "exit": proc.returncode,
        "max_rss_mb": round(after.ru_maxrss / 1024, 1),
    }


def in_process(runs: int, data_dir: str) -> dict[str, float]:
    """The audit's own work (collect + judge + store) in a process that has already imported
    everything: what a resident agent or the dashboard pays per audit."""
    code = (
        "import json, resource, time\n"
        "from officine.services.audit import run_audit\n"
        "def cpu():\n"
        "    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime\n"
        "run_audit()\n"
        "rows = []\n"
        f"for _ in range({runs}):\n"
        "    w, c = time.perf_counter(), cpu()\n"
        "    run_audit()\n"
        "    rows.append((time.perf_counter() - w, cpu() - c))\n"
        "print(json.dumps(rows))\n"
    )
    env = {**os.environ, "OFFICINE_DATA_DIR": data_dir, "OFFICINE_DATABASE_URL": ""}
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    rows = json.loads(out)
    return {
        "median_wall_s": round(statistics.median(r[0] for r in rows), 3),
        "median_cpu_s": round(statistics.median(r[1] for r in rows), 3),
        "runs": len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lynis = shutil.which("lynis")
    if lynis is None:
        sys.exit("lynis absent : apt-get install lynis")
    data_dir = tempfile.mkdtemp(prefix="officine-bench-")
    env = {**os.environ, "OFFICINE_DATA_DIR": data_dir, "OFFICINE_DATABASE_URL": ""}
    ours_cmd = [str(ROOT / ".venv/bin/officine"), "audit", "--json"]
    lynis_cmd = [lynis, "audit", "system", "--quick", "--no-colors"]
    measure(ours_cmd, env)  # warm-up: creates the database and APT's private cache
    ours, theirs = [], []
    for _ in range(args.runs):
        ours.append(measure(ours_cmd, env))
        theirs.append(measure(lynis_cmd))
    warm = in_process(args.runs, data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)

    def med(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python bench/audit_vs_lynis.py --runs {args.runs}",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "uid": os.geteuid(),
        },
        "officine": {
            "cmd": " ".join(ours_cmd[1:]),
            "runs": ours,
            "median_wall_s": med(ours, "wall_s"),
            "median_cpu_s": med(ours, "cpu_s"),
        },
        "lynis": {
            "cmd": " ".join(lynis_cmd[1:]),
            "runs": theirs,
            "median_wall_s": med(theirs, "wall_s"),
            "median_cpu_s": med(theirs, "cpu_s"),
        },
    }
    summary["officine_in_process"] = warm
    o, ly = summary["officine"], summary["lynis"]
    summary["speedup_wall"] = round(ly["median_wall_s"] / o["median_wall_s"], 1)
    summary["speedup_cpu"] = round(ly["median_cpu_s"] / o["median_cpu_s"], 1)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"officine : {o['median_wall_s']} s mur, {o['median_cpu_s']} s CPU")
    print(f"lynis    : {ly['median_wall_s']} s mur, {ly['median_cpu_s']} s CPU")
    print(f"officine, processus déjà chargé : {warm['median_wall_s']} s mur, {warm['median_cpu_s']} s CPU")
    print(f"rapport  : x{summary['speedup_wall']} (mur), x{summary['speedup_cpu']} (CPU)")


if __name__ == "__main__":
    main()
