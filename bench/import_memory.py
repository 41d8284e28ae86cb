"""Benchmark: peak memory of the server while it imports a snapshot file from the page, with the
value bound (officine.snapshot.MAX_JSON_VALUES) and without it, side by side.

Run: .venv/bin/python bench/import_memory.py [--mb 15] [--over 30]
Each case runs in a fresh process: a dashboard on a temporary SQLite database, signed in, then
one POST /postes/importer of the file through the real HTTP stack (in-process client, multipart
parsing included). The process reports its peak resident memory (ru_maxrss) and the answer.
"unbounded" sets MAX_JSON_VALUES to 10**12, which is how the code behaved before the bound.
Junk files of --mb megabytes (under the page's 16 MB limit) show the value bound; one of --over
megabytes shows the body limit (refused with 413 before it is read). "real" is this machine's
snapshot as collected; "real_grown" the same with its largest output grown to --mb megabytes
(a package database that large, sealed again). Results go to bench/results/import_memory.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results/import_memory.json"
sys.path.insert(0, str(ROOT / "tests"))  # web_helpers: the signed-in client of the tests

from officine import snapshot  # noqa: E402
from officine.host.local import LocalHost  # noqa: E402
from web_helpers import post, signed_in  # noqa: E402


def junk(kind: str, size: int) -> bytes:
    """Files a careless or hostile person could upload, `size` bytes each."""
    if kind == "objects":  # valid JSON, millions of tiny objects: the worst amplification
        return b"[" + b"{}," * (size // 3) + b"{}]"
    if kind == "snapshot_shaped":  # a snapshot's envelope around millions of observations
        head = b'{"format":"officine-cyber/snapshot","schema_version":1,"observations":['
        return head + b'{"kind":"file","target":"x"},' * (size // 30) + b"{}]}"
    if kind == "numbers":
        return b"[" + b"1," * (size // 2) + b"1]"
    if kind == "strings":
        return b"[" + b'"ab",' * (size // 5) + b'""]'
    if kind == "baseline":
        return b"{}"
    raise ValueError(kind)


def real_snapshot(size: int | None) -> bytes:
    """This machine's snapshot with one observation output grown to about `size` bytes (a large
    package database), sealed again: a legitimate file of that size."""
    snap = snapshot.collect(LocalHost(None))
    if size is None:
        return snap.dumps().encode()
    biggest = max(snap.observations, key=lambda o: len(o.output or ""))
    line = "Package: exemple\nStatus: install ok installed\nVersion: 1.0\n\n"
    biggest.output = (biggest.output or "") + line * (size // len(line))
    return snap.dumps().encode()


def child(path: str, bounded: bool) -> None:
    """One import in this process; prints its peak memory, the answer and the time."""
    if not bounded:
        snapshot.MAX_JSON_VALUES = 10**12
    data = Path(path).read_bytes()
    with tempfile.TemporaryDirectory(prefix="officine-bench-import-") as tmp:
        client = signed_in(Path(tmp) / "officine.db")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", data)})
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"peak_mb": round(peak / 1024), "before_import_mb": round(before / 1024), "status": r.status_code}
    print(json.dumps({**result, "seconds": round(seconds, 2)}))


def run_case(path: Path, bounded: bool) -> dict[str, int | float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--bounded" if bounded else "--unbounded"],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    result: dict[str, int | float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=15)
    parser.add_argument("--over", type=int, default=30)
    parser.add_argument("--kinds", default="baseline,objects,snapshot_shaped,numbers,strings,real,real_grown,over")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child")
    parser.add_argument("--bounded", action="store_true")
    parser.add_argument("--unbounded", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bounded)
        return
    size = args.mb * 1024 * 1024
    cases = []
    with tempfile.TemporaryDirectory(prefix="officine-bench-files-") as tmp:
        for kind in args.kinds.split(","):
            path = Path(tmp) / f"{kind}.json"
            if kind.startswith("real"):
                path.write_bytes(real_snapshot(int(size * 0.85) if kind == "real_grown" else None))
            else:
                path.write_bytes(junk("objects", args.over * 2**20) if kind == "over" else junk(kind, size))
            unbounded, bounded = run_case(path, bounded=False), run_case(path, bounded=True)
            cases.append(
                {
                    "file": kind,
                    "file_mb": round(path.stat().st_size / 2**20, 1),
                    "unbounded": unbounded,
                    "bounded": bounded,
                    "peak_ratio_bounded_to_unbounded": round(bounded["peak_mb"] / max(1, unbounded["peak_mb"]), 2),
                }
            )
            print(json.dumps(cases[-1]), flush=True)
    report = {
        "benchmark": "import_memory",
        "machine": {"python": platform.python_version(), "system": platform.platform()},
        "file_mb": args.mb,
        "max_json_values": snapshot.MAX_JSON_VALUES,
        "cases": cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
