"""The database on a bad day: audits starting together on a fresh install, a full data disk,
a damaged database file. Real SQLite files (on a small tmpfs the test mounts) and a real
PostgreSQL server; each command runs as a person runs it, in its own process."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import RootTree, is_root
from hostile import english_in, officine_bounded
from officine import snapshot
from officine.host import LocalHost
from officine.store import Store
from pgserver import pg_bin, throwaway_postgres


@pytest.fixture
def snap_file(tree: RootTree, tmp_path: Path) -> Path:
    tree.debian()
    path = tmp_path / "poste.json"
    snapshot.save(snapshot.collect(LocalHost(tree.path)), path)
    return path


def _eight_audits_at_once(snap: Path, url: str) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "OFFICINE_DATABASE_URL": url, "COLUMNS": "400"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "officine", "audit", "--from", str(snap), "--bref"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _all_kept(results: list[subprocess.CompletedProcess[str]], url: str) -> None:
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results if r.returncode]
    assert len(Store(url).history()) == 8


def test_eight_audits_on_a_fresh_sqlite_database_are_all_kept(snap_file: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'neuve' / 'officine.db'}"
    _all_kept(_eight_audits_at_once(snap_file, url), url)


@pytest.mark.postgres
def test_eight_audits_on_a_fresh_postgresql_database_are_all_kept(snap_file: Path) -> None:
    if pg_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup --test installs it)")
        pytest.skip("PostgreSQL not installed")
    with throwaway_postgres() as url:
        _all_kept(_eight_audits_at_once(snap_file, url), url)


# -- a full data disk ------------------------------------------------------------------------------


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 4 MB tmpfs mounted for this test only, removed after."""
    if not is_root() or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mountpoint = Path(tempfile.mkdtemp(prefix="officine-disque-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        mountpoint.rmdir()


def _fill(disk: Path, leave_kb: int) -> Path:
    filler = disk / "remplissage"
    free_blocks = os.statvfs(disk).f_bavail
    block = os.statvfs(disk).f_frsize
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free_blocks * block - leave_kb * 1024))
    return filler


def test_a_full_data_disk_is_a_french_message_and_nothing_is_lost(
    small_disk: Path, snap_file: Path, tree: RootTree, tmp_path: Path
) -> None:
    env = {"OFFICINE_DATA_DIR": str(small_disk / "donnees")}
    first = officine_bounded("audit", "--from", str(snap_file), "--bref", env=env)
    assert first.returncode == 0, first.stderr
    # A second workstation whose snapshot holds 1.5 MB that does not compress: it cannot fit.
    tree.write("/var/lib/dpkg/status", os.urandom(1_100_000).hex() + "\n")
    big = tmp_path / "gros.json"
    snapshot.save(snapshot.collect(LocalHost(tree.path)), big)
    for leave_kb in (100, 0):  # little room left (the write fails), then none (even opening fails)
        filler = _fill(small_disk, leave_kb)
        proc = officine_bounded("audit", "--from", str(big), "--bref", env=env)
        said = " ".join(proc.stderr.split())
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "plein" in said and "Libérez de la place" in said and english_in(said) == []
        filler.unlink()
    history = officine_bounded("history", "--json", env=env)
    assert history.returncode == 0, history.stderr
    assert len(history.stdout.split('"id"')) - 1 == 1  # the first audit is still there, and only it
    again = officine_bounded("audit", "--from", str(big), "--bref", env=env)
    assert again.returncode == 0, again.stderr  # space freed: it works again


# -- a damaged database file ----------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_a_damaged_database_is_a_french_message_that_says_to_restore(
    snap_file: Path, tmp_path: Path, damage: str
) -> None:
    env = {"OFFICINE_DATA_DIR": str(tmp_path / "donnees")}
    assert officine_bounded("audit", "--from", str(snap_file), "--bref", env=env).returncode == 0
    database = tmp_path / "donnees" / "officine.db"
    with database.open("r+b") as fh:
        if damage == "header":
            fh.write(b"ceci n'est pas une base SQLite")
        else:
            fh.seek(3 * 4096)
            fh.write(os.urandom(20 * 4096))
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    for args in (["history"], ["audit", "--from", str(snap_file), "--bref"]):
        proc = officine_bounded(*args, env=env)
        said = " ".join(proc.stderr.split())
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "abîmée" in said and "Restaurez le fichier" in said and str(database) in said
        assert english_in(said) == []
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before  # left as it was, for the restore
