"""Benchmark: restic backup and restore alone, our restore drill, and a raw read of the same data.

Run: .venv/bin/python bench/backup_drill.py [--size-gb 2] [--work DIR]
Everything happens in one run on the same data set (mixed files, generated once) so that the
ratios are comparable; results go to bench/results/backup_drill.json.
Goals (issue 6): whole drill within 2x a plain restic restore; source comparison at least
0.8x the speed of a raw read of the source (one reader, file after file), without weakening what
is compared: the drill's own comparison (`officine.backup.compare.compare_all`) runs on every
file, every byte. A raw read with the same parallel readers is timed too, for information.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from officine.backup.compare import LARGE_READERS, SMALL_READERS, Planned, compare_all
from officine.backup.guardian import drill_destination, init_destination, run_plan
from officine.services.backup import Guardian, add_destination, plan_init

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results/backup_drill.json"


def make_dataset(base: Path, size: int, seed: int = 42) -> tuple[int, int]:
    """Mixed pharmacy-like data: many small documents, medium scans, a few large database files."""
    rnd = random.Random(seed)
    words = [
        b"ordonnance",
        b"patient",
        b"facture",
        b"stock",
        b"lot",
        b"pharmacie",
        b"vitale",
        b"tiers-payant",
    ]
    total = files = 0
    shares = (
        (0.15, 2_000, 60_000, "docs", True),
        (0.35, 200_000, 3_000_000, "scans", False),
        (0.50, 50_000_000, 200_000_000, "lgo", False),
    )
    for share, lo, hi, folder, text in shares:
        target = int(size * share)
        done = 0
        (base / folder).mkdir(parents=True, exist_ok=True)
        while done < target:
            n = min(rnd.randint(lo, hi), target - done)
            path = base / folder / f"{folder}-{files:06d}.{'txt' if text else 'bin'}"
            with path.open("wb") as fh:
                if text:
                    fh.write(b" ".join(rnd.choice(words) for _ in range(n // 9 + 1))[:n])
                else:
                    remaining = n
                    while remaining:
                        chunk = min(remaining, 8 << 20)
                        fh.write(rnd.randbytes(chunk))
                        remaining -= chunk
            done += n
            files += 1
        total += done
    return total, files


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n", encoding="utf-8")
        return True
    except OSError:
        return False


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="officine-bench-", dir=args.work))
    os.environ["OFFICINE_DATA_DIR"] = str(work / "data")
    os.environ["OFFICINE_CONFIG_DIR"] = str(work / "config")
    src, repo = work / "source", work / "disque" / "restic"
    try:
        size, count = make_dataset(src, int(args.size_gb * 1024**3))
        plan_init([src], [])
        repo.parent.mkdir(parents=True)
        add_destination(
            dest_id="disque",
            label="Disque",
            kind="disk",
            place="pharmacie",
            repository=str(repo),
            password_file=None,
        )
        g = Guardian.open()
        dest = g.plan.destination("disque")
        init_destination(dest, g.restic)
        env = g.restic.env(dest)
        results: dict[str, object] = {"bytes": size, "files": count}
        cold = drop_caches()
        results["backup_s"] = timed(lambda: run_plan(g.plan, g.restic, g.records))
        target = work / "restore"
        drop_caches()
        results["restic_restore_s"] = timed(
            lambda: subprocess.run(
                ["restic", "restore", "latest", "--target", str(target)],
                env=env,
                check=True,
                capture_output=True,
            )
        )
        shutil.rmtree(target)
        drop_caches()
        results["restic_restore_verify_s"] = timed(
            lambda: subprocess.run(
                ["restic", "restore", "latest", "--target", str(target), "--verify"],
                env=env,
                check=True,
                capture_output=True,
            )
        )
        # The comparison step alone, on the restored copy, against a raw read of the source.
        files = [p for p in src.rglob("*") if p.is_file()]
        planned = [Planned(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        drop_caches()
        results["raw_read_s"] = timed(lambda: [p.read_bytes() and None for p in src.rglob("*") if p.is_file()])

        def compare() -> None:
            outcome = compare_all(planned, target)
            assert all(state == "ok" for state, _ in outcome.values()) and len(outcome) == len(planned)

        drop_caches()
        # As in a drill, the restored copy has just been written: it is in the page cache.
        for p in target.rglob("*"):
            if p.is_file():
                p.read_bytes()
        results["compare_s"] = timed(compare)

        def parallel_read() -> None:
            small = [p for p in files if p.stat().st_size <= 2 * 1024 * 1024]
            large = [p for p in files if p.stat().st_size > 2 * 1024 * 1024]
            with ThreadPoolExecutor(SMALL_READERS) as sp, ThreadPoolExecutor(LARGE_READERS) as lp:
                pending = lp.map(Path.read_bytes, large)
                for _ in sp.map(Path.read_bytes, small):
                    pass
                for _ in pending:
                    pass

        drop_caches()
        results["raw_read_parallel_s"] = timed(parallel_read)
        shutil.rmtree(target)
        drop_caches()
        results["drill_full_s"] = timed(lambda: drill_destination(g.plan, dest, g.restic, g.records, full=True))
        record = g.records.verifications("disque")[0]
        results["drill_status"] = record.status
        results["drill_timings_s"] = (record.details or {}).get("timings_s")
        r = results
        summary = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": f"python bench/backup_drill.py --size-gb {args.size_gb}",
            "cold_cache": cold,
            "cpus": os.cpu_count(),
            **r,
            "drill_vs_restic_restore": round(float(r["drill_full_s"]) / float(r["restic_restore_s"]), 2),  # type: ignore[arg-type]
            "compare_vs_raw_read_speed": round(float(r["raw_read_s"]) / float(r["compare_s"]), 2),  # type: ignore[arg-type]
            "compare_vs_parallel_raw_read_speed": round(
                float(r["raw_read_parallel_s"]) / float(r["compare_s"]),  # type: ignore[arg-type]
                2,
            ),
            "drill_compare_vs_raw_read_speed": round(
                float(r["raw_read_s"]) / float((r["drill_timings_s"] or {}).get("compare", 0) or 1e9),
                2,  # type: ignore[union-attr, arg-type]
            ),
        }
        args.out.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        print(json.dumps(summary, indent=2, default=str))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
