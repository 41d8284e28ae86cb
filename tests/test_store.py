"""The store on a real SQLite file and a real PostgreSQL server started for the test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from conftest import RootTree
from officine.services.audit import run_audit
from officine.store import Store
from pgserver import pg_bin, throwaway_postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on loopback."""
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        yield url


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


def test_a_database_from_a_newer_version_is_refused_in_french(tmp_path: Path) -> None:
    from sqlalchemy import text

    from officine.errors import UserError

    url = f"sqlite:///{tmp_path / 'n.db'}"
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(UserError, match="version plus récente"):
        Store(url)
    with store.engine.connect() as conn:  # nothing was changed
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
