"""A pharmacy's backup set-up in temporary folders, with real restic 0.14 repositories.

Repositories are initialised once per test session (restic's key derivation makes `init` slow)
and copied for each test; each template has its own repository id, so two destinations of one
test never share restic's cache. Disks that must be unplugged or filled are real filesystems:
a small tmpfs mounted by the test (root only) and unmounted at the end.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.backup.guardian import drill_destination, run_plan
from officine.backup.plan import Destination
from officine.backup.records import RunRecord, VerificationRecord
from officine.services.backup import Guardian, add_destination, backup_status, plan_init
from officine.store.models import BackupRunRow, BackupVerificationRow, DestinationSightingRow

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a test filesystem needs root")


@dataclass(frozen=True)
class Template:
    repo: Path
    password: str


def make_templates(base: Path, count: int = 2) -> list[Template]:
    templates = []
    for i in range(count):
        password = f"mot-de-passe-de-test-{i}-" + "x" * 12
        pw = base / f"template-{i}.pass"
        pw.write_text(password + "\n", encoding="utf-8")
        pw.chmod(0o600)
        repo = base / f"template-{i}"
        env = {**os.environ, "RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(pw)}
        subprocess.run(["restic", "init", "-q"], env=env, check=True, capture_output=True)
        templates.append(Template(repo, password))
    return templates


def write_files(src: Path) -> None:
    """The pharmacy's data: an LGO database folder and office documents (51 files)."""
    rnd = random.Random(7)
    (src / "lgo" / "base").mkdir(parents=True)
    (src / "docs" / "factures").mkdir(parents=True)
    for i in range(30):
        (src / "lgo" / "base" / f"table{i}.dat").write_bytes(rnd.randbytes(rnd.randint(100, 40_000)))
    for i in range(20):
        (src / "docs" / "factures" / f"facture-{i}.txt").write_text(
            f"Facture n°{i} — pharmacie\n" * (i + 1), encoding="utf-8"
        )
    (src / "docs" / "vide.txt").write_bytes(b"")


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(*args: str) -> CliResult:
    """`officine ARGS` in this process (same entry point, same exit codes, no start-up cost)."""
    from officine.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "10000"  # one message, one line: no wrapping inside a path
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                run(list(args))
            except SystemExit as exc:
                code = exc.code
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return CliResult(int(code or 0), out.getvalue(), err.getvalue())


@dataclass
class Site:
    base: Path
    src: Path
    g: Guardian
    repos: dict[str, Path]
    mounts: dict[str, Path] = field(default_factory=dict)

    @property
    def lgo(self) -> Path:
        return self.src / "lgo"

    def reload(self) -> Guardian:
        self.g = Guardian.open()
        return self.g

    def dest(self, dest_id: str = "disque-1") -> Destination:
        return self.g.plan.destination(dest_id)

    def run(self, *only: str, accept_drop: bool = False) -> list[RunRecord]:
        return run_plan(self.g.plan, self.g.restic, self.g.records, list(only) or None, accept_drop=accept_drop)

    def drill(
        self, dest_id: str = "disque-1", *, full: bool | None = None, rng: random.Random | None = None
    ) -> VerificationRecord:
        return drill_destination(
            self.g.plan, self.dest(dest_id), self.g.restic, self.g.records, full=full, rng=rng
        ).record

    def verdicts(self, now: datetime | None = None) -> dict[str, str]:
        results, _ = backup_status(now=now)
        return {r.measure.id: r.verdict.value for r in results}

    def evidence(self, measure: str) -> str:
        results, _ = backup_status()
        return " | ".join(e.text for r in results if r.measure.id == measure for e in r.evidence)

    def restic(self, dest_id: str, *args: str, password_file: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = self.g.restic.env(self.dest(dest_id))
        if password_file is not None:
            env["RESTIC_PASSWORD_FILE"] = str(password_file)
        return subprocess.run(["restic", *args], env=env, capture_output=True, text=True, check=False)

    def unplug(self, dest_id: str) -> None:
        subprocess.run(["umount", str(self.mounts[dest_id])], check=True)

    def plug(self, dest_id: str, size: str = "64m") -> None:
        mount_tmpfs(self.mounts[dest_id], size)

    def age(self, hours: float) -> None:
        """Move every backup record `hours` into the past: what happened so far happened then."""
        shift = timedelta(hours=hours)
        with Session(self.g.records.engine) as s, s.begin():
            for row in s.scalars(select(BackupRunRow)):
                row.started_at -= shift
                row.finished_at -= shift
            for row in s.scalars(select(BackupVerificationRow)):
                row.at -= shift
            for row in s.scalars(select(DestinationSightingRow)):
                row.at -= shift


def mount_tmpfs(point: Path, size: str) -> None:
    point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(point)], check=True)


def unmount_all(points: Iterator[Path] | list[Path]) -> None:
    mounted = Path("/proc/self/mounts").read_text(encoding="utf-8")
    for point in points:
        if f" {point} " in mounted:
            subprocess.run(["umount", "-l", str(point)], check=False)


def build_site(
    base: Path,
    templates: list[Template],
    destinations: list[tuple[str, str, str]] | None = None,
    *,
    mounted: bool = False,
    disk_size: str = "64m",
) -> Site:
    """A plan with two folders (LGO and documents) and destinations (id, kind, place), each with a
    copy of a template repository, on its own mounted tmpfs when `mounted`."""
    destinations = destinations or [("disque-1", "disk", "pharmacie"), ("disque-2", "rotated_disk", "domicile")]
    src = base / "donnees"
    write_files(src)
    plan_init([src / "docs"], [src / "lgo"])
    repos, mounts = {}, {}
    for (dest_id, kind, place), template in zip(destinations, templates, strict=False):
        disk = base / f"disque-{dest_id}"
        if mounted:
            mount_tmpfs(disk, disk_size)
            mounts[dest_id] = disk
        disk.mkdir(parents=True, exist_ok=True)
        repo = disk / "restic"
        shutil.copytree(template.repo, repo)
        pw = base / "secrets" / f"{dest_id}.pass"
        pw.parent.mkdir(exist_ok=True, mode=0o700)
        pw.write_text(template.password + "\n", encoding="utf-8")
        pw.chmod(0o600)
        add_destination(
            dest_id=dest_id,
            label=f"Disque {dest_id[-1]}",
            kind=kind,
            place=place,
            repository=str(repo),
            password_file=pw,
        )
        repos[dest_id] = repo
    return Site(base, src, Guardian.open(), repos, mounts)


@pytest.fixture(scope="session")
def restic_templates(tmp_path_factory: pytest.TempPathFactory) -> list[Template]:
    if shutil.which("restic") is None:
        pytest.skip("restic not installed")
    return make_templates(tmp_path_factory.mktemp("restic-templates"))


@pytest.fixture
def restic_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """restic's cache in the test's folder, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def backup_site(tmp_path: Path, restic_templates: list[Template], restic_cache: Path) -> Site:
    """Two destinations in plain folders of the system disk."""
    return build_site(tmp_path, restic_templates)


@pytest.fixture
def backup_disks(tmp_path: Path, restic_templates: list[Template], restic_cache: Path) -> Iterator[Site]:
    """Two destinations, each on its own mounted filesystem that tests can unplug."""
    if os.geteuid() != 0:
        pytest.skip("mounting a test filesystem needs root")
    s = build_site(tmp_path, restic_templates, mounted=True)
    try:
        yield s
    finally:
        unmount_all(list(s.mounts.values()))
