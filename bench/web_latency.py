"""Benchmark: dashboard pages under concurrent signed-in clients, on one year of hourly audits
of 10 workstations.

Run: .venv/bin/python bench/web_latency.py [--hours 8760] [--hosts 10] [--clients 20]
     [--requests 40] [--processes 1,2] [--backends sqlite,postgresql] [--drivers processes,asyncio]

For each database: fill it with `hours` audits of `hosts` workstations (real snapshots of this
machine under ten identities, real assessments from evaluate()), count the database sessions
each page opens (in-process, on the same database), then for each number of server processes
start `officine serve` on loopback and let `clients` signed-in clients request the main pages
in turn, all at once, with the stylesheet timed in the same loop as the server's floor.
p50/p95/max and errors per page go to bench/results/web_latency.json.
Goal: p95 under 150 ms for every main page under 20 clients, with no error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import event, insert

from officine import snapshot
from officine.answers import Answers
from officine.host.local import LocalHost
from officine.services import accounts, site
from officine.services.knowledge import load_knowledge
from officine.store import Store
from officine.store.db import scope_of
from officine.store.models import AuditRow, AuditSnapshotRow, BlobRow, HostRow, MeasureResultRow, SnapshotRow
from officine.store.packing import pack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from pgserver import throwaway_postgres  # noqa: E402 - test helper shared with the benchmark

RESULTS = ROOT / "bench/results/web_latency.json"
PASSWORD = "Lavande-Comptoir-Pilon-42"  # noqa: S105 - the bench account of a throw-away database
# The main pages: the goal applies to each. The practice page with the most findings per workstation.
PAGES = {
    "home": "/",
    "practice": "/pratique/MAJ",
    "workstations": "/postes",
    "history": "/historique",
    "report": "/bilan",
    "backups": "/sauvegardes",
    "incident": "/incident",
}
BASELINE = "/static/style.css"  # the server's floor on this machine, timed in the same loop
WARM_UP = 3
GOAL_MS = 150
BATCH = 500


def real_snapshots(hosts: int, at: datetime) -> list[Any]:
    """This machine's real observations under `hosts` identities (hostname and machine id)."""

    base = snapshot.collect(LocalHost(None))
    snaps = []
    for i in range(hosts):
        snap = copy.deepcopy(base)
        snap.snapshot_id = str(uuid.uuid4())
        snap.collected_at = at
        snap.host = {
            **snap.host,
            "hostname": f"poste-{i + 1:02d}",
            "machine_id_sha256": hashlib.sha256(f"{i}".encode()).hexdigest(),
        }
        snaps.append(snap)
    return snaps


def assessments(snaps: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Real assessments of these snapshots with more and more questions answered."""

    k = load_knowledge()
    questions = [q for p in k.catalogue.practices for m in p.measures for q in m.questions]
    docs = []
    for share in (0, 4, 8, 12):
        values = {q.id: q.choices[0].value for q in questions[: share * len(questions) // 12]}
        a = k.judge(snaps, Answers(values=values), {}, now.date())
        docs.append(a.to_json())
    return docs


def fill(url: str, hours: int, hosts: int) -> dict[str, Any]:

    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    last = now - timedelta(minutes=5)
    first = last - timedelta(hours=hours - 1)
    store = Store(url)
    accounts.create_admin(store, "marie", PASSWORD, PASSWORD, [])
    site.save_profile(store, site.parse_profile({"name": "Pharmacie du banc d'essai"}), "bench")
    snaps = real_snapshots(hosts, last)
    docs = assessments(snaps, now)
    packed_docs = [pack(s.to_json()) for s in snaps]  # as Store.record_audit keeps them
    blobs = {sha: data for _, b in packed_docs for sha, data in b.items()}
    # Older snapshots: a stand-in document (pages never read them).
    stand_in = json.dumps({"format": "officine-cyber/snapshot", "note": "bench stand-in"})
    with store.engine.begin() as conn:
        conn.execute(insert(BlobRow), [{"sha256": k, "size": len(v), "data": v} for k, v in blobs.items()])
        conn.execute(
            insert(HostRow),
            [
                {
                    "id": i + 1,
                    "hostname": s.hostname,
                    "platform": s.platform,
                    "machine_key": s.host["machine_id_sha256"],
                    "first_seen": first,
                    "last_seen": last,
                }
                for i, s in enumerate(snaps)
            ],
        )
    scope = scope_of([s.host["machine_id_sha256"] for s in snaps])
    snapshot_rows: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []

    def flush(force: bool = False) -> None:
        if len(audit_rows) < BATCH and not force:
            return
        with store.engine.begin() as conn:
            for model, rows in (
                (SnapshotRow, snapshot_rows),
                (AuditRow, audit_rows),
                (AuditSnapshotRow, links),
                (MeasureResultRow, results),
            ):
                if rows:
                    conn.execute(insert(model), rows)
                rows.clear()

    for h in range(hours):
        at = first + timedelta(hours=h)
        newest = h == hours - 1
        doc = (
            copy.deepcopy(docs[min(h * len(docs) // hours, len(docs) - 1)])
            if newest
            else docs[min(h * len(docs) // hours, len(docs) - 1)]
        )
        ids = []
        for i, s in enumerate(snaps):
            sid = s.snapshot_id if newest else f"h{h:05d}-{i:02d}"
            ids.append(sid)
            snapshot_rows.append(
                {
                    "id": sid,
                    "host_id": i + 1,
                    "collected_at": at,
                    "mode": "live",
                    "document": None if newest else stand_in,
                    "packed": packed_docs[i][0] if newest else None,
                }
            )
        if newest:
            for host, sid in zip(doc["hosts"], ids, strict=True):
                host["snapshot_id"] = sid
        audit_id = h + 1
        audit_rows.append(
            {
                "id": audit_id,
                "created_at": at + timedelta(minutes=4),
                "score": doc["score"],
                "catalogue_version": doc["catalogue_version"],
                "scope": scope,
                "host_count": hosts,
                "kind": "pharmacy",
                "assessment": doc,
                "answers": {},
            }
        )
        links += [{"audit_id": audit_id, "snapshot_id": sid} for sid in ids]
        results += [
            {
                "audit_id": audit_id,
                "measure_id": m["id"],
                "practice_id": m["practice"],
                "verdict": m["verdict"],
                "excepted": 0,
            }
            for m in doc["measures"]
        ]
        flush()
    flush(force=True)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('audits_id_seq', (SELECT max(id) FROM audits))")
            conn.exec_driver_sql("ANALYZE")
    return {
        "fill_s": round(time.perf_counter() - started, 1),
        "audits": hours,
        "snapshots": hours * hosts,
        "measure_results": hours * len(docs[0]["measures"]),
        "assessment_kb": round(len(json.dumps(docs[-1])) / 1024),
    }


def session_cpu_seconds(sid: int) -> float:
    """CPU time (user + system) of every live process of this session: the server and its workers."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[3]) == sid:  # field 6 of proc(5): the session id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(url: str, data_dir: Path, processes: int) -> Iterator[tuple[int, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OFFICINE_DATA_DIR": str(data_dir), "OFFICINE_CONFIG_DIR": str(data_dir / "config")}
    args = [str(ROOT / ".venv/bin/officine"), "serve", "--db", url, "--port", str(port), "--processus", str(processes)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(600):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        time.sleep(1.0 * processes)  # every process up
        yield port, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its worker processes
        proc.wait(30)


def request(
    conn: http.client.HTTPConnection, method: str, path: str, cookies: dict[str, str], body: str | None = None
) -> tuple[int, str, dict[str, str]]:
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode()
    for header, value in resp.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    return resp.status, text, dict(resp.getheaders())


def sign_in(port: int) -> tuple[http.client.HTTPConnection, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    cookies: dict[str, str] = {}
    _, page, _ = request(conn, "GET", "/connexion", cookies)
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    status, _, _ = request(
        conn,
        "POST",
        "/connexion",
        cookies,
        urlencode({"csrf": token.group(1), "username": "marie", "password": PASSWORD}),
    )
    assert status == 303 and "officine_session" in cookies, status
    return conn, cookies


def _client(port: int, requests: int, start: Any, results: Any) -> None:
    """One signed-in client, in its own process (client threads would queue on one interpreter
    lock and add their own waiting to the server's): every page in turn, without pause."""
    targets = {**PAGES, "static_baseline": BASELINE}
    conn, cookies = sign_in(port)
    start.wait()
    timings: dict[str, list[float]] = {name: [] for name in targets}
    errors = dict.fromkeys(targets, 0)
    for i in range(requests + WARM_UP):
        for name, path in targets.items():
            began = time.perf_counter()
            try:
                status, text, _ = request(conn, "GET", path, cookies)
                ok = status == 200 and ("officine-cyber" in text or path == BASELINE)
            except (OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                ok = False
            if i >= WARM_UP:
                timings[name].append((time.perf_counter() - began) * 1000)
                errors[name] += 0 if ok else 1
    results.put((timings, errors))


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response: status and body (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    body = bytearray()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
    return status, bytes(body)


async def _async_client(port: int, cookies: dict[str, str], requests: int, start: asyncio.Event) -> Any:
    """One signed-in client on its own keep-alive connection: every page in turn, without pause."""
    targets = {**PAGES, "static_baseline": BASELINE}
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    timings: dict[str, list[float]] = {name: [] for name in targets}
    errors = dict.fromkeys(targets, 0)
    await start.wait()
    for i in range(requests + WARM_UP):
        for name, path in targets.items():
            began = time.perf_counter()
            try:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode())
                status, body = await _read_response(reader)
                ok = status == 200 and (b"officine-cyber" in body or path == BASELINE)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                ok = False
            if i >= WARM_UP:
                timings[name].append((time.perf_counter() - began) * 1000)
                errors[name] += 0 if ok else 1
    writer.close()
    return timings, errors


async def _async_clients(port: int, signed_in: list[dict[str, str]], requests: int) -> tuple[list[Any], float]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(_async_client(port, c, requests, start)) for c in signed_in]
    await asyncio.sleep(0.5)  # every connection open
    began = time.perf_counter()
    start.set()
    gathered = await asyncio.gather(*tasks)
    return list(gathered), time.perf_counter() - began


def time_pages(port: int, clients: int, requests: int, driver: str = "processes", sid: int = 0) -> dict[str, Any]:
    """`clients` signed-in clients, all at once, each requesting every page in turn. With the
    "processes" driver each client is its own Python process (20 interpreters competing with the
    server for the 2 cores); with "asyncio" all clients are coroutines of one process, so the load
    generator takes far less of the CPU the server needs, as browsers on other machines would."""
    if driver == "asyncio":
        signed_in = []
        for _ in range(clients):
            conn, cookies = sign_in(port)
            conn.close()
            signed_in.append(cookies)
        cpu = session_cpu_seconds(sid)
        gathered, wall = asyncio.run(_async_clients(port, signed_in, requests))
    else:
        ctx = multiprocessing.get_context("fork")
        start, results = ctx.Barrier(clients + 1), ctx.Queue()
        procs = [ctx.Process(target=_client, args=(port, requests, start, results)) for _ in range(clients)]
        for p in procs:
            p.start()
        start.wait()
        cpu = session_cpu_seconds(sid)
        began = time.perf_counter()
        gathered = [results.get(timeout=3600) for _ in procs]
        wall = time.perf_counter() - began
        for p in procs:
            p.join()
    out: dict[str, Any] = {}
    for name in (*PAGES, "static_baseline"):
        values = sorted(v for timings, _ in gathered for v in timings[name])
        out[name] = {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))], 1),
            "max_ms": round(values[-1], 1),
            "requests": len(values),
            "errors": sum(errors[name] for _, errors in gathered),
        }
    floor = out["static_baseline"]["p50_ms"] or 0.1
    for name in PAGES:
        out[name]["p50_vs_static"] = round(out[name]["p50_ms"] / floor, 1)
    # Load-independent: the server's CPU per request (the pages and the stylesheet, warm-up
    # rounds included, sign-ins not), whatever else the machine was doing meanwhile.
    served = clients * (requests + WARM_UP) * (len(PAGES) + 1)
    out["server_cpu_ms_per_request"] = round((session_cpu_seconds(sid) - cpu) * 1000 / served, 2) if sid else None
    out["pages_per_second"] = round(sum(out[n]["requests"] for n in (*PAGES, "static_baseline")) / wall, 1)
    return out


def sessions_per_page(url: str, data_dir: Path) -> dict[str, int]:
    """Database sessions (connections taken from the pool) each page opens, warm, in-process."""
    os.environ["OFFICINE_DATA_DIR"] = str(data_dir)
    os.environ["OFFICINE_CONFIG_DIR"] = str(data_dir / "config")
    from fastapi.testclient import TestClient  # noqa: PLC0415 - only for this count

    from officine.web.app import create_app  # noqa: PLC0415

    app = create_app(url, allowed_hosts=["testserver"])
    engine = app.state.web.store.engine
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/connexion").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    client.post("/connexion", data={"csrf": token.group(1), "username": "marie", "password": PASSWORD})
    checkouts = [0]
    event.listen(engine, "checkout", lambda *_: checkouts.__setitem__(0, checkouts[0] + 1))
    counts = {}
    for name, path in PAGES.items():
        client.get(path)  # warm: caches filled, as under load
        checkouts[0] = 0
        assert client.get(path).status_code == 200, path
        counts[name] = checkouts[0]
    engine.dispose()
    return counts


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="officine-bench-web-"))
    try:
        with contextlib.ExitStack() as stack:
            if backend == "sqlite":
                url = f"sqlite:///{base / 'officine.db'}"
            else:
                url = stack.enter_context(throwaway_postgres())
            filled = fill(url, args.hours, args.hosts)
            if backend == "sqlite":
                filled["db_mb"] = round(sum(p.stat().st_size for p in base.glob("officine.db*")) / 1e6)
            result: dict[str, Any] = {"backend": backend, **filled, "sessions_per_page": sessions_per_page(url, base)}
            for processes in args.processes:
                with server(url, base, processes) as (port, sid):
                    for driver in args.drivers:
                        suffix = "" if driver == "processes" else f"_{driver}"
                        timed = time_pages(port, args.clients, args.requests, driver, sid)
                        result[f"{processes}_process{suffix}"] = timed
            return result
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=24 * 365)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=40, help="timed rounds of every page, per client")
    parser.add_argument("--processes", default="1,2", help="server processes to compare, side by side")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--drivers",
        default="processes,asyncio",
        help="load generators: a process per client, or one asyncio process",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.processes = [int(n) for n in args.processes.split(",")]
    args.drivers = args.drivers.split(",")
    os.environ.setdefault("OFFICINE_DATA_DIR", tempfile.mkdtemp(prefix="officine-bench-data-"))
    load_before = os.getloadavg()
    runs = [run_backend(b, args) for b in args.backends.split(",")]
    load_after = os.getloadavg()
    report = {
        "benchmark": "web_latency",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1_5_15_min": {"before": load_before, "after": load_after},
        },
        "params": {
            "hours": args.hours,
            "hosts": args.hosts,
            "clients": args.clients,
            "rounds_per_client": args.requests,
            "processes": args.processes,
        },
        "goal": f"p95 < {GOAL_MS} ms for every main page under {args.clients} concurrent clients, no error",
        "notes": (
            "Real snapshots (this machine under N identities) for the newest audit; older snapshot "
            "documents are stand-ins, never read by these pages. Assessments are real evaluate() outputs. "
            "Each client signs in, then requests every page in turn, without pause, all clients at once."
        ),
        "runs": runs,
        "goal_met": {
            f"{r['backend']}, {n} process{'es' if n > 1 else ''}, {d} clients": all(
                r[key][name]["p95_ms"] < GOAL_MS and not r[key][name]["errors"] for name in PAGES
            )
            for r in runs
            for n in args.processes
            for d in args.drivers
            if (key := f"{n}_process" + ("" if d == "processes" else f"_{d}")) in r
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
