"""Benchmark: database space per stored snapshot, plain JSON (before migration 0004) vs packed.

Run: .venv/bin/python bench/snapshot_storage.py [--snapshots 100]
This machine is collected once; the same observations are then stored `snapshots` times under
new ids and times (what hourly or daily audits of an unchanged workstation produce), once as
plain JSON rows and once through Store.record_audit (packed). Both SQLite files are measured
side by side; reading the newest document back is timed too. Results go to
bench/results/snapshot_storage.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from officine import snapshot
from officine.host.local import LocalHost
from officine.store import Store
from officine.store.models import HostRow, SnapshotRow

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results/snapshot_storage.json"


def size_mb(folder: Path, name: str) -> float:
    return round(sum(p.stat().st_size for p in folder.glob(f"{name}*")) / 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--snapshots", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    base = snapshot.collect(LocalHost(None))
    start = datetime.now(UTC) - timedelta(hours=args.snapshots)
    docs = []
    for i in range(args.snapshots):
        snap = copy.deepcopy(base)
        snap.snapshot_id, snap.collected_at = str(uuid.uuid4()), start + timedelta(hours=i)
        docs.append(snap.to_json())
    folder = Path(tempfile.mkdtemp(prefix="officine-bench-storage-"))
    try:
        plain = Store(f"sqlite:///{folder / 'plain.db'}")
        t0 = time.perf_counter()
        with plain.engine.begin() as conn:
            conn.execute(
                insert(HostRow),
                [
                    {
                        "id": 1,
                        "hostname": "poste",
                        "platform": "linux",
                        "machine_key": "k",
                        "first_seen": start,
                        "last_seen": start,
                    }
                ],
            )
            for d in docs:
                conn.execute(
                    insert(SnapshotRow),
                    [
                        {
                            "id": d["snapshot_id"],
                            "host_id": 1,
                            "collected_at": datetime.fromisoformat(d["collected_at"]),
                            "mode": "live",
                            "document": json.dumps(d, ensure_ascii=False),
                        }
                    ],
                )
        plain_s = time.perf_counter() - t0
        packed = Store(f"sqlite:///{folder / 'packed.db'}")
        t0 = time.perf_counter()
        for d in docs:
            packed.record_audit([d], {"score": 0, "catalogue_version": "bench", "measures": []}, {})
        packed_s = time.perf_counter() - t0
        read = {}
        for name, store in (("plain", plain), ("packed", packed)):
            with Session(store.engine) as session:
                row = session.execute(
                    select(SnapshotRow.id, SnapshotRow.document, SnapshotRow.packed).where(
                        SnapshotRow.id == docs[-1]["snapshot_id"]
                    )
                ).one()
            t0 = time.perf_counter()
            for _ in range(20):
                got = store.snapshot_documents([(row.id, row.document, row.packed)])[row.id]
            read[name] = round((time.perf_counter() - t0) / 20 * 1000, 1)
            assert got == docs[-1]
        for store in (plain, packed):  # fold the write-ahead log into the file before measuring
            with store.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        plain_mb, packed_mb = size_mb(folder, "plain.db"), size_mb(folder, "packed.db")
        report = {
            "benchmark": "snapshot_storage",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "snapshots": args.snapshots,
            "snapshot_json_kb": round(len(json.dumps(docs[0], ensure_ascii=False)) / 1024),
            "plain": {
                "db_mb": plain_mb,
                "kb_per_snapshot": round(plain_mb * 1000 / args.snapshots, 1),
                "write_s": round(plain_s, 2),
                "read_newest_ms": read["plain"],
            },
            "packed": {
                "db_mb": packed_mb,
                "kb_per_snapshot": round(packed_mb * 1000 / args.snapshots, 1),
                "write_s": round(packed_s, 2),
                "read_newest_ms": read["packed"],
            },
            "space_ratio_plain_over_packed": round(plain_mb / packed_mb, 1),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
