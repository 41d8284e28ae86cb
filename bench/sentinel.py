"""Benchmark of the ransomware sentinel: files lost, false alarms, latency, CPU and memory.

Run (root, for fanotify and process suspension):
    .venv/bin/python bench/sentinel.py [--runs 10] [--files 300] [--day-files 100000]

1. Files lost: for each simulator mode and rate (40, 400, unlimited files/s), `--runs` runs on a
   fresh corpus: the sentinel runs (fanotify), the simulator attacks, the sentinel suspends it.
   Files lost = the corpus's original files (decoys excluded) whose content changed or that
   vanished by the time the simulator was suspended; a run without alarm is "missed". Also the
   time from the first encrypted file (simulator's log) to the alarm, and whether the suspended
   simulator really stopped (no file changes during 1 s after suspension).
   Goals (issue 13): median <= 3 at 40 files/s, <= 10 at 400 files/s, none missed.
   Anchor: CryptoDrop's median of 10 files lost (../shared/reference/sentinel-backup.md §1.1).
2. False alarms: the benign suite (bench/sentinel_benign.py) under fanotify and inotify. Goal 0.
3. Cost: the sentinel as a separate process (`officine sentinel watch`) on `--day-files` files,
   while an ordinary pharmacy day is replayed; CPU (utime+stime from /proc) and resident memory.
   Goal: under 5 % of one core, under 150 MB.
Results: bench/results/sentinel.json (and the table in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from officine.sentinel.engine import Options, Sentinel
from officine.sentinel.processes import state

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = ROOT / "bench/results/sentinel.json"
SIM = [sys.executable, str(BENCH / "sentinel_simulator.py")]
BENIGN = [sys.executable, str(BENCH / "sentinel_benign.py")]
MODES = ("full", "inplace", "intermittent", "small", "avoid")
RATES = (40, 400, 0)
GOALS = {40: 3, 400: 10}


def _prepare(files: int, folders: int, seed: int, max_kib: int = 1024) -> Path:
    out = subprocess.run(
        [
            *SIM,
            "prepare",
            "--files",
            str(files),
            "--folders",
            str(folders),
            "--seed",
            str(seed),
            "--max-kib",
            str(max_kib),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def _hashes(root: Path, skip: set[str]) -> dict[str, str]:
    found = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            if path in skip or name == ".officine-simulateur":
                continue
            with open(path, "rb") as fh:
                found[path] = hashlib.sha256(fh.read()).hexdigest()
    return found


def _changed(before: dict[str, str]) -> int:
    lost = 0
    for path, digest in before.items():
        try:
            with open(path, "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() != digest:
                    lost += 1
        except FileNotFoundError:
            lost += 1
    return lost


def attack_run(mode: str, rate: int, files: int, seed: int, work: Path, canaries: bool = True) -> dict[str, Any]:
    corpus = _prepare(files, 10, seed)
    state_dir = work / f"state-{mode}-{rate}-{seed}"
    events = work / f"events-{mode}-{rate}-{seed}.jsonl"
    log = work / f"sim-{mode}-{rate}-{seed}.jsonl"
    sentinel = Sentinel(
        [str(corpus)],
        Options(
            events_file=events,
            use_store=False,
            journal=False,
            state_dir=state_dir,
            canaries=canaries,
            say=lambda _t: None,
        ),
    )
    sentinel.start()
    sentinel.wait_ready(120)
    before = _hashes(corpus, set(sentinel.index.canaries))
    proc = subprocess.Popen(
        [
            *SIM,
            "attack",
            str(corpus),
            "--mode",
            mode,
            "--rate",
            str(rate),
            "--log",
            str(log),
            "--leurres",
            str(state_dir / "leurres.json"),
            "--seed",
            str(seed),
        ],
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and not sentinel.reactions and time.monotonic() < deadline:
        time.sleep(0.005)
    suspended = any(r.get("result") == "stopped" and r["pid"] == proc.pid for r in sentinel.reactions)
    stopped_state = state(proc.pid) if suspended else None
    lost_at_suspension = _changed(before)
    time.sleep(1.0)
    lost_after_1s = _changed(before)
    while not sentinel.idle():
        time.sleep(0.01)
    alarm = sentinel.alarms[0] if sentinel.alarms else None
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    first = entries[0]["at"] if entries else None
    latency = None
    if alarm is not None and first is not None:
        latency = datetime.fromisoformat(alarm["at"]).timestamp() - first
    proc.kill()
    proc.wait()
    sentinel.stop()
    subprocess.run([*SIM, "discard", str(corpus)], check=False, capture_output=True)
    return {
        "mode": mode,
        "rate": rate,
        "seed": seed,
        "alarm": alarm is not None,
        "suspended": suspended,
        "stopped_state": stopped_state,
        "files_lost": lost_at_suspension if alarm is not None else None,
        "changes_after_suspension": lost_after_1s - lost_at_suspension,
        "latency_s": None if latency is None else round(latency, 4),
        "indicators": alarm["indicators"] if alarm else {},
        "simulator_files_done": len(entries),
    }


def files_lost(
    runs: int, files: int, work: Path, modes: tuple[str, ...], rates: tuple[int, ...], canaries: bool = True
) -> list[dict[str, Any]]:
    summary = []
    for rate in rates:
        for mode in modes:
            results = [attack_run(mode, rate, files, seed, work, canaries) for seed in range(1, runs + 1)]
            lost = [r["files_lost"] for r in results if r["files_lost"] is not None]
            lat = sorted(r["latency_s"] for r in results if r["latency_s"] is not None)
            row = {
                "mode": mode,
                "rate": rate or "illimité",
                "runs": runs,
                "missed": sum(1 for r in results if not r["alarm"]),
                "median_lost": statistics.median(lost) if lost else None,
                "worst_lost": max(lost) if lost else None,
                "median_latency_s": round(statistics.median(lat), 3) if lat else None,
                "worst_latency_s": round(lat[-1], 3) if lat else None,
                "all_suspended": all(r["suspended"] for r in results),
                "changes_after_suspension": sum(r["changes_after_suspension"] for r in results),
                "goal_median": GOALS.get(rate),
                "runs_detail": results,
            }
            if rate in GOALS:
                row["goal_met"] = row["missed"] == 0 and lost != [] and row["median_lost"] <= GOALS[rate]
            print(
                f"{mode:12s} {row['rate']!s:>8} files/s: median {row['median_lost']} worst {row['worst_lost']} "
                f"missed {row['missed']} latency {row['median_latency_s']} s",
                flush=True,
            )
            summary.append(row)
    return summary


def benign(work: Path, watchers: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for watcher in watchers:
        corpus = _prepare(300, 10, 99)
        sentinel = Sentinel(
            [str(corpus)],
            Options(
                events_file=work / f"benign-{watcher}.jsonl",
                use_store=False,
                journal=False,
                watcher=watcher,
                state_dir=work / f"benign-state-{watcher}",
                say=lambda _t: None,
            ),
        )
        sentinel.start()
        sentinel.wait_ready(120)
        per_activity = {}
        from sentinel_benign import ACTIVITIES  # noqa: PLC0415

        for activity in ACTIVITIES:
            before = len(sentinel.alarms)
            started = time.monotonic()
            proc = subprocess.Popen([*BENIGN, activity, str(corpus)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while proc.poll() is None:
                for reaction in sentinel.reactions:  # a false alarm: let the activity finish anyway
                    if reaction.get("result") == "stopped":
                        os.kill(int(reaction["pid"]), signal.SIGCONT)
                time.sleep(0.05)
            while not sentinel.idle():
                time.sleep(0.05)
            per_activity[activity] = {
                "exit_code": proc.returncode,
                "alarms": len(sentinel.alarms) - before,
                "seconds": round(time.monotonic() - started, 2),
            }
        sentinel.stop()
        subprocess.run([*SIM, "discard", str(corpus)], check=False, capture_output=True)
        rows.append({"watcher": watcher, "false_alarms": len(sentinel.alarms), "activities": per_activity})
        print(f"benign ({watcher}): {len(sentinel.alarms)} false alarm(s)", flush=True)
    return rows


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _day(corpus: Path, scale: int, work: Path) -> None:
    """An ordinary day, compressed: saves, exports, scans, the LGO database, the evening backup."""
    for _ in range(scale):
        for activity in ("office", "pdf", "scans", "sqlite"):
            subprocess.run([*BENIGN, activity, str(corpus)], check=True, capture_output=True)
    env = {**os.environ, "RESTIC_REPOSITORY": str(work / "restic-day"), "RESTIC_PASSWORD": "banc-d-essai"}
    subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)
    subprocess.run(["restic", "backup", str(corpus)], env=env, check=True, capture_output=True)


def cost(day_files: int, work: Path, scale: int) -> dict[str, Any]:
    corpus = _prepare(day_files, max(10, day_files // 100), 5, max_kib=16)
    env = {**os.environ, "OFFICINE_DATA_DIR": str(work / "cost-data"), "OFFICINE_CONFIG_DIR": str(work / "cost-config")}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "officine", "sentinel", "watch", "--evenements", str(work / "cost.jsonl"), str(corpus)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    status_file = work / "cost-data/sentinelle/etat.json"
    indexed = None
    while time.monotonic() - started < 900:
        time.sleep(0.5)
        try:
            status = json.loads(status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not status.get("indexing") and status.get("files_indexed"):
            indexed = status["files_indexed"]
            break
    index_s = time.monotonic() - started
    cpu_index = _cpu_seconds(proc.pid)
    rss_after_index = _memory_kib(proc.pid, "VmRSS")
    idle_start, cpu0 = time.monotonic(), _cpu_seconds(proc.pid)
    time.sleep(30)
    idle_pct = 100 * (_cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - idle_start)
    day_start, cpu1 = time.monotonic(), _cpu_seconds(proc.pid)
    _day(corpus, scale, work)
    time.sleep(2)
    day_wall = time.monotonic() - day_start
    day_cpu = _cpu_seconds(proc.pid) - cpu1
    peak = _memory_kib(proc.pid, "VmHWM")
    alarms = 0
    events_path = work / "cost.jsonl"
    if events_path.exists():
        alarms = sum(1 for line in events_path.read_text(encoding="utf-8").splitlines() if '"type": "alarm"' in line)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    subprocess.run([*SIM, "discard", str(corpus)], check=False, capture_output=True)
    result = {
        "files_watched": indexed,
        "index_seconds": round(index_s, 1),
        "index_cpu_seconds": round(cpu_index, 1),
        "idle_cpu_percent": round(idle_pct, 2),
        "day_replay_wall_seconds": round(day_wall, 1),
        "day_replay_cpu_seconds": round(day_cpu, 2),
        "day_replay_cpu_percent_of_one_core": round(100 * day_cpu / day_wall, 2),
        "day_cpu_percent_over_24h": round(100 * day_cpu / 86400, 4),
        "rss_after_index_mb": round(rss_after_index / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "false_alarms": alarms,
        "goal": "CPU < 5 % of one core, memory < 150 MB",
    }
    print(f"cost: {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES))
    parser.add_argument("--day-files", type=int, default=100_000)
    parser.add_argument("--day-scale", type=int, default=3, help="how many rounds of office work in the day")
    parser.add_argument("--skip", default="", help="parts to skip: lost,benign,cost")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--sans-leurres", action="store_true", help="files lost with the decoys switched off (content indicators only)"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("Ce banc d'essai demande root (fanotify et suspension des processus).")
    sys.path.insert(0, str(BENCH))
    skip = set(filter(None, args.skip.split(",")))
    load_before = os.getloadavg()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_before],
            "kernel": os.uname().release,
        },
    }
    with tempfile.TemporaryDirectory(prefix="officine-bench-sentinel-") as tmp:
        work = Path(tmp)
        modes = tuple(m for m in args.modes.split(",") if m)
        rates = tuple(int(r) for r in args.rates.split(",") if r)
        if "lost" not in skip:
            key = "files_lost_without_canaries" if args.sans_leurres else "files_lost"
            report[key] = files_lost(args.runs, args.files, work, modes, rates, canaries=not args.sans_leurres)
        if "benign" not in skip:
            report["benign"] = benign(work, ("fanotify", "inotify"))
        if "cost" not in skip:
            report["cost"] = cost(args.day_files, work, args.day_scale)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"Résultats : {args.out}")


if __name__ == "__main__":
    main()
