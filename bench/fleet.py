"""Benchmark: the fleet's server on a real PostgreSQL.

Run: .venv/bin/python bench/fleet.py [--judged 10] [--sizes 30,300] [--requests 30] [--out FILE]

1. `judged` pharmacies are created (each with its own schema, migrated), each gets an agent
   and one signed message with a real Windows snapshot (tests/fixtures): the time to receive a
   message (signature, parsing, seal, storage) and to judge a pharmacy (the same evaluate() as
   the dashboard, the console's summary, the alerts) are measured per message / pharmacy.
2. The console's table ("/") and "which pharmacies have this problem" are then timed side by
   side for each fleet size in `sizes`: more pharmacies are added as copies of the judged ones'
   status and findings rows (what these two pages read), so the ratio between sizes shows how
   the pages grow with the fleet.
Goal: a page of the console under 150 ms at p95 with 300 pharmacies (as the dashboard's pages).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("OFFICINE_DATA_DIR", tempfile.mkdtemp(prefix="officine-bench-data-"))
os.environ.setdefault("OFFICINE_CONFIG_DIR", tempfile.mkdtemp(prefix="officine-bench-config-"))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from fleet_helpers import (  # noqa: E402 - test helpers shared with the benchmark
    PASSWORD,
    Agent,
    enrolment_token,
    fixture_document,
    new_database,
    provider,
    run_jobs,
    variant,
)
from officine.fleet import directory, ingest  # noqa: E402
from officine.fleet.models import FindingRow, FleetPharmacyRow, PharmacyStatusRow  # noqa: E402
from officine.fleet.tenancy import Fleet  # noqa: E402
from officine.fleet.web.app import create_fleet_app  # noqa: E402
from pgserver import throwaway_postgres  # noqa: E402

RESULTS = ROOT / "bench/results/fleet.json"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def grow(fleet: Fleet, organisation: int, size: int) -> None:
    """Add copies of the judged pharmacies' status and findings until the fleet has `size`."""
    with fleet.transaction() as session:
        count = len(session.scalars(select(FleetPharmacyRow.id)).all())
        models = (
            session.execute(select(PharmacyStatusRow).where(PharmacyStatusRow.audit_id.is_not(None))).scalars().all()
        )
        findings = {
            m.pharmacy_id: session.scalars(select(FindingRow).where(FindingRow.pharmacy_id == m.pharmacy_id)).all()
            for m in models
        }
        for n in range(count, size):
            model = models[n % len(models)]
            row = FleetPharmacyRow(
                organisation_id=organisation,
                name=f"Pharmacie copie {n:04d}",
                city="Ailleurs",
                tenant=f"{n:024x}",
                schema_name=f"pharmacie_copie_{n}",
                created_at=datetime.now(UTC),
                created_by="bench",
            )
            session.add(row)
            session.flush()
            columns = {c.key: getattr(model, c.key) for c in PharmacyStatusRow.__table__.columns}
            session.add(PharmacyStatusRow(**{**columns, "pharmacy_id": row.id}))
            session.add_all(
                FindingRow(
                    pharmacy_id=row.id, hostname=f.hostname, measure_id=f.measure_id, verdict=f.verdict, text=f.text
                )
                for f in findings[model.pharmacy_id]
            )


def time_pages(client: TestClient, measure: str, requests: int) -> dict[str, Any]:
    pages = {"table": "/", "problem": f"/problemes?mesure={measure}"}
    timings: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(requests):
        for name, path in pages.items():
            started = time.perf_counter()
            response = client.get(path)
            timings[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
    return {name: percentiles(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judged", type=int, default=10)
    parser.add_argument("--sizes", default="30,300")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()[0]},
        "judged": args.judged,
    }
    with throwaway_postgres() as server:
        fleet = Fleet(new_database(server))
        organisation, admin = provider(fleet, "Banc d'essai")
        created, received = [], []
        document = fixture_document("windows10-fr-non-conforme")
        for n in range(args.judged):
            started = time.perf_counter()
            pharmacy = directory.create_pharmacy(fleet, admin, f"Pharmacie jugée {n:03d}", "Ici")
            created.append(time.perf_counter() - started)
            agent = Agent(fleet, enrolment_token(fleet, admin, pharmacy), f"poste-{n}")
            body = agent.body(variant(document, hostname=f"poste-{n}", machine=f"poste-{n}"))
            headers = agent.headers(body)
            started = time.perf_counter()
            ingest.receive(fleet, headers, body, "127.0.0.1")
            received.append(time.perf_counter() - started)
        started = time.perf_counter()
        jobs = run_jobs(fleet)
        judging = time.perf_counter() - started
        results["message_bytes"] = len(body)
        results["create_pharmacy"] = percentiles(created)
        results["receive_message"] = percentiles(received)
        results["judge_per_pharmacy_ms"] = round(judging / args.judged * 1000, 1)
        results["jobs"] = jobs
        with fleet.session() as session:
            measure = session.scalar(
                select(FindingRow.measure_id).where(FindingRow.verdict == "fail").order_by(FindingRow.measure_id)
            )
        assert measure is not None
        app = create_fleet_app(fleet, allowed_hosts=["testserver"], worker=False)
        client = TestClient(app, base_url="https://testserver")
        page = client.get("/connexion").text
        signed = client.post(
            "/connexion",
            data={"csrf": CSRF.search(page).group(1), "username": admin.user.username, "password": PASSWORD},  # type: ignore[union-attr]
            follow_redirects=False,
        )
        assert signed.status_code == 303
        results["pages"] = {}
        for size in sizes:
            grow(fleet, organisation, size)
            time_pages(client, measure, 3)  # warm
            results["pages"][str(size)] = time_pages(client, measure, args.requests)
        if len(sizes) > 1:
            small, large = results["pages"][str(sizes[0])], results["pages"][str(sizes[-1])]
            results["ratio_p50_largest_to_smallest"] = {
                name: round(large[name]["p50_ms"] / max(small[name]["p50_ms"], 0.1), 2) for name in small
            }
        fleet.engine.dispose()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
