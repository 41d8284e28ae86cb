"""The store on a real SQLite file and a real PostgreSQL server started for the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from conftest import RootTree
from officine.services.audit import run_audit
from officine.store import Store


def _pg_bin() -> Path | None:
    base = Path("/usr/lib/postgresql")
    versions = sorted(base.iterdir(), reverse=True) if base.is_dir() else []
    return next((v / "bin" for v in versions if (v / "bin/initdb").exists()), None)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a Unix socket and a loopback port."""
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    # Not under pytest's own temp folder: the postgres account must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="officine-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "officine"],
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            *as_user,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-k",
            str(sock),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://officine@127.0.0.1:{port}/postgres"
    for _ in range(100):
        if (
            subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        ):
            break
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def _exercise(url: str, tree: RootTree) -> None:
    tree.debian()
    first = run_audit(root=tree.path, store_url=url)
    second = run_audit(root=tree.path, store_url=url)
    store = Store(url)
    history = store.history()
    assert [h.id for h in history][:2] == [second.audit_id, first.audit_id]
    assert history[0].hosts == ["comptoir-1"]
    stored = store.audit(first.audit_id)  # type: ignore[arg-type]
    assert stored is not None and stored["score"] == first.assessment.score
    tables = set(inspect(store.engine).get_table_names())
    assert {"hosts", "snapshots", "audits", "measure_results", "alembic_version"} <= tables


def test_sqlite_store(tmp_path: Path, tree: RootTree) -> None:
    _exercise(f"sqlite:///{tmp_path / 'o.db'}", tree)


@pytest.mark.postgres
def test_postgresql_store(postgres: str, tree: RootTree) -> None:
    _exercise(postgres, tree)


def test_head_revision_constant_matches_migrations() -> None:
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from officine.store.db import HEAD_REVISION

    config = Config()
    config.set_main_option("script_location", str(resources.files("officine.store") / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrations_build_exactly_the_tables_the_models_describe(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from officine.store.models import Base

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
