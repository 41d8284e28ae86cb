"""The store on a real SQLite file and a real PostgreSQL server started for the test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from conftest import RootTree
from helpers import database_at
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


# -- packed snapshots -----------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from officine.store.packing import BLOB_MIN_CHARS, PackingError, blob_refs, pack, unpack  # noqa: E402

# Large outputs are built by repetition: drawing 4,000+ random characters trips Hypothesis's
# data-size health check on slow machines, and repetition is what package lists look like anyway.
_large = st.tuples(st.text(min_size=1, max_size=30), st.integers(0, 300)).map(
    lambda t: (t[0] * (BLOB_MIN_CHARS // len(t[0]) + 1))[: BLOB_MIN_CHARS + t[1]]
)
_outputs = st.one_of(st.none(), st.text(max_size=50), _large)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "kind": st.sampled_from(["file", "command"]),
                "target": st.text(max_size=20),
                "status": st.just("ok"),
                "output": _outputs,
            }
        ),
        max_size=6,
    )
)
@settings(max_examples=60, deadline=None)
def test_packing_gives_back_exactly_the_document(observations: list[dict[str, object]]) -> None:
    document = {"format": "officine-cyber/snapshot", "snapshot_id": "x", "observations": observations}
    packed, blobs = pack(document)
    assert unpack(packed, blobs) == document
    assert blob_refs(packed) == set(blobs)
    large = {o["output"] for o in observations if isinstance(o["output"], str) and len(o["output"]) >= BLOB_MIN_CHARS}
    assert len(blobs) == len(large)  # each distinct large output once, small ones inline


def test_packed_data_that_is_damaged_is_refused() -> None:
    document = {
        "observations": [{"kind": "file", "target": "/var/lib/dpkg/status", "status": "ok", "output": "P" * 5000}]
    }
    packed, blobs = pack(document)
    with pytest.raises(PackingError):
        unpack(packed, {})
    with pytest.raises(PackingError):
        unpack(packed[:-5], blobs)
    with pytest.raises(PackingError):
        unpack(packed, {sha: b"not zlib" for sha in blobs})


def test_a_large_output_is_stored_once_for_every_snapshot(tree: RootTree, tmp_path: Path) -> None:
    from sqlalchemy import func, select, text
    from sqlalchemy.orm import Session

    from officine.store.models import BlobRow, SnapshotRow

    tree.debian()
    tree.packages(*[f"paquet-{i}" for i in range(400)])  # a dpkg status well over the blob threshold
    url = f"sqlite:///{tmp_path / 'p.db'}"
    first = run_audit(root=tree.path, store_url=url)
    tree.write("/etc/hostname", "comptoir-2\n")
    second = run_audit(root=tree.path, store_url=url)
    store = Store(url)
    with Session(store.engine) as session:
        assert session.scalar(select(func.count()).select_from(SnapshotRow)) == 2
        blobs = session.scalar(select(func.count()).select_from(BlobRow))
        rows = session.execute(select(SnapshotRow.id, SnapshotRow.document, SnapshotRow.packed)).all()
    assert blobs is not None and 1 <= blobs < 2 * len(blob_refs(rows[0][2]))  # shared, not doubled
    documents = store.snapshot_documents([(r.id, r.document, r.packed) for r in rows])
    originals = {s.snapshot_id: s.to_json() for s in (*first.snapshots, *second.snapshots)}
    assert documents == originals
    # Rows written before packing existed (plain JSON) are still read.
    sid = rows[0][0]
    legacy = json.dumps(originals[sid], ensure_ascii=False)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE snapshots SET document = :d, packed = NULL WHERE id = :i"), {"d": legacy, "i": sid})
    with Session(store.engine) as session:
        row = session.execute(
            select(SnapshotRow.id, SnapshotRow.document, SnapshotRow.packed).where(SnapshotRow.id == sid)
        ).one()
    assert store.snapshot_documents([(row.id, row.document, row.packed)])[sid] == originals[sid]


def test_upgrading_a_0003_database_keeps_its_snapshots_readable(tree: RootTree, tmp_path: Path) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from officine.store.models import SnapshotRow

    tree.debian()
    snap = run_audit(root=tree.path, save=False).snapshots[0]
    url = f"sqlite:///{tmp_path / 'old.db'}"
    database_at(
        url,
        "0003",
        (
            "INSERT INTO hosts (id, hostname, platform, machine_key, first_seen, last_seen) VALUES (1, 'comptoir-1', 'linux', 'k', '2026-01-01', '2026-01-01')",
            {},
        ),
        (
            "INSERT INTO snapshots (id, host_id, collected_at, mode, document) VALUES (:i, 1, '2026-01-01', 'live', :d)",
            {"i": snap.snapshot_id, "d": json.dumps(snap.to_json(), ensure_ascii=False)},
        ),
    )
    store = Store(url)  # migrates to the head revision
    with Session(store.engine) as session:
        row = session.execute(select(SnapshotRow.id, SnapshotRow.document, SnapshotRow.packed)).one()
    assert store.snapshot_documents([(row.id, row.document, row.packed)])[snap.snapshot_id] == snap.to_json()
