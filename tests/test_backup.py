"""The backup guardian with real restic and real repositories in temporary folders."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from officine.backup.guardian import drill_destination, run_plan
from officine.backup.plan import load_plan
from officine.backup.restic import Restic, ResticError
from officine.errors import UserError
from officine.services.backup import Guardian, add_destination, backup_status, plan_init, restore

pytestmark = pytest.mark.skipif(
    shutil.which("restic") is None and not os.environ.get("CI"),
    reason="restic not installed (scripts/setup --test installs it)",
)


@dataclass
class Site:
    src: Path
    disk1: Path
    disk2: Path
    g: Guardian
    passwords: dict[str, str]

    def reload(self) -> Guardian:
        self.g = Guardian.open()
        return self.g

    def verdicts(self) -> dict[str, str]:
        results, _ = backup_status()
        return {r.measure.id: r.verdict.value for r in results}

    def evidence(self, measure: str) -> str:
        results, _ = backup_status()
        return " | ".join(e.text for r in results if r.measure.id == measure for e in r.evidence)


def _files(src: Path) -> None:
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


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    src = tmp_path / "donnees"
    _files(src)
    disk1, disk2 = tmp_path / "disque-comptoir" / "restic", tmp_path / "disque-maison" / "restic"
    plan_init([src / "docs"], [src / "lgo"])
    passwords = {}
    for dest_id, path, kind, place in (
        ("disque-1", disk1, "disk", "pharmacie"),
        ("disque-2", disk2, "rotated_disk", "domicile"),
    ):
        path.parent.mkdir(parents=True)
        pw_file, generated = add_destination(
            dest_id=dest_id,
            label=f"Disque {dest_id[-1]}",
            kind=kind,
            place=place,
            repository=str(path),
            password_file=None,
        )
        assert generated is not None and oct(pw_file.stat().st_mode & 0o777) == "0o600"
        passwords[dest_id] = generated
    g = Guardian.open()
    from officine.backup.guardian import init_destination

    for d in g.plan.destinations:
        assert init_destination(d, g.restic) == "initialisé"
    yield Site(src, disk1, disk2, g, passwords)


def _restic(site: Site, dest_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    dest = site.g.plan.destination(dest_id)
    return subprocess.run(["restic", *args], env=site.g.restic.env(dest), capture_output=True, text=True, check=False)


def test_two_destinations_back_up_then_the_drill_passes(site: Site) -> None:
    runs = run_plan(site.g.plan, site.g.restic, site.g.records)
    assert [r.status for r in runs] == ["success", "success"]
    assert all(r.snapshot_id and r.files_total == 51 for r in runs)
    for d in site.g.plan.destinations:
        outcome = drill_destination(site.g.plan, d, site.g.restic, site.g.records, full=True)
        assert outcome.record.status == "passed", outcome.record.message
        assert outcome.record.files_checked == 51
        assert outcome.record.bytes_checked == sum(p.stat().st_size for p in site.src.rglob("*") if p.is_file())
    verdicts = site.verdicts()
    assert verdicts["SAV-01"] == "pass" and verdicts["SAV-03"] == "pass"
    assert verdicts["SAV-05"] == "pass"  # original + two disks, one at home
    assert "(51 fichiers, " in site.evidence("SAV-03")


def test_sampled_drill_checks_a_sample(site: Site) -> None:
    run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    plan = site.g.plan.model_copy(update={"thresholds": site.g.plan.thresholds.model_copy(update={"sample_files": 5})})
    outcome = drill_destination(
        plan, plan.destination("disque-1"), site.g.restic, site.g.records, full=False, rng=random.Random(1)
    )
    assert outcome.record.status == "passed" and outcome.record.files_checked == 5 and not outcome.record.full


def _largest_pack(repo: Path) -> Path:
    return max((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)


def test_drill_detects_a_silently_corrupted_pack(site: Site) -> None:
    run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    pack = _largest_pack(site.disk1)
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    outcome = drill_destination(
        site.g.plan, site.g.plan.destination("disque-1"), site.g.restic, site.g.records, full=True
    )
    assert outcome.record.status == "failed"
    assert outcome.record.error_code == "corrupted", outcome.record.message
    assert site.verdicts()["SAV-03"] == "fail"
    assert "abîmées" in site.evidence("SAV-03")


def test_drill_detects_a_deleted_snapshot(site: Site) -> None:
    [run] = run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    assert _restic(site, "disque-1", "forget", str(run.snapshot_id)).returncode == 0
    outcome = drill_destination(site.g.plan, site.g.plan.destination("disque-1"), site.g.restic, site.g.records)
    assert outcome.record.error_code == "snapshot_missing"
    assert str(run.snapshot_id) in (outcome.record.message or "")


def test_drill_detects_a_changed_repository_password(site: Site, tmp_path: Path) -> None:
    run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    new_pw = tmp_path / "intrus.pass"
    new_pw.write_text("mot-de-passe-de-l-intrus\n", encoding="utf-8")
    assert _restic(site, "disque-1", "key", "add", "--new-password-file", str(new_pw)).returncode == 0
    keys = _restic(site, "disque-1", "key", "list", "--json")
    old = next(k["id"] for k in __import__("json").loads(keys.stdout) if k["current"])
    env = {**site.g.restic.env(site.g.plan.destination("disque-1")), "RESTIC_PASSWORD_FILE": str(new_pw)}
    assert subprocess.run(["restic", "key", "remove", old], env=env, capture_output=True, check=False).returncode == 0
    outcome = drill_destination(site.g.plan, site.g.plan.destination("disque-1"), site.g.restic, site.g.records)
    assert outcome.record.error_code == "wrong_password"
    assert "Mot de passe refusé par le dépôt « Disque 1 »" in (outcome.record.message or "")


def test_a_source_changed_after_the_snapshot_is_not_corruption(site: Site) -> None:
    run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    changed = site.src / "docs" / "factures" / "facture-3.txt"
    changed.write_text("modifiée après la sauvegarde\n", encoding="utf-8")
    (site.src / "docs" / "factures" / "facture-4.txt").unlink()
    outcome = drill_destination(
        site.g.plan, site.g.plan.destination("disque-1"), site.g.restic, site.g.records, full=True
    )
    assert outcome.record.status == "passed"
    details = outcome.record.details or {}
    assert details["changed_since"] == 1 and details["deleted_since"] == 1


def test_bit_rot_in_an_unchanged_source_is_reported_with_the_file_name(site: Site) -> None:
    """Same size and mtime but different bytes: either the source or the backup is damaged."""
    run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    victim = site.src / "lgo" / "base" / "table5.dat"
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[0] ^= 1
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    outcome = drill_destination(
        site.g.plan, site.g.plan.destination("disque-1"), site.g.restic, site.g.records, full=True
    )
    assert outcome.record.status == "failed" and outcome.record.error_code == "mismatch"
    assert "table5.dat" in (outcome.record.message or "")


def test_a_missing_source_is_a_partial_backup_not_a_success(site: Site) -> None:
    shutil.rmtree(site.src / "docs")  # restic 0.14 alone would exit 0 here
    runs = run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    assert runs[0].status == "partial"
    assert "dossier(s) absent(s)" in (runs[0].message or "")
    assert site.verdicts()["SAV-01"] == "warn"


def test_an_absent_destination_is_recorded_and_skipped(site: Site) -> None:
    site.disk2.parent.rename(site.disk2.parent.with_name("rangé-au-coffre"))
    runs = run_plan(site.g.plan, site.g.restic, site.g.records)
    assert [r.status for r in runs] == ["success", "absent"]
    assert "pas branché" in (runs[1].message or "")
    sightings = site.g.records.sightings("disque-2", datetime.now(UTC) - timedelta(hours=1))
    assert [s.present for s in sightings] == [False]


def test_wrong_password_file_content_gives_a_french_error(site: Site) -> None:
    pw = Path(site.g.plan.destination("disque-1").password_file)
    pw.write_text("pas le bon\n", encoding="utf-8")
    [run] = run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    assert run.status == "failed" and run.error_code == "wrong_password"


def test_password_file_readable_by_others_is_refused(site: Site) -> None:
    pw = Path(site.g.plan.destination("disque-1").password_file)
    pw.chmod(0o644)
    [run] = run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    assert run.status == "failed" and "chmod 600" in (run.message or "")


def test_locked_repository_is_explained(site: Site) -> None:
    run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    lock_dir = site.disk1 / "locks"
    # A backup reading from a pipe that stays open holds its lock until the pipe closes.
    holder = subprocess.Popen(
        ["restic", "backup", "--stdin"],
        stdin=subprocess.PIPE,
        env=site.g.restic.env(site.g.plan.destination("disque-1")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(500):
            if any(lock_dir.iterdir()):
                break
            threading.Event().wait(0.02)
        assert any(lock_dir.iterdir()), "restic did not take its lock"
        outcome = drill_destination(site.g.plan, site.g.plan.destination("disque-1"), site.g.restic, site.g.records)
    finally:
        holder.kill()
        holder.wait()
    assert outcome.record.error_code == "locked"
    assert "verrouillé" in (outcome.record.message or "")


def test_restic_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ResticError, match="apt-get install restic"):
        Restic.find()


def test_restore_never_over_live_data_by_default(site: Site, tmp_path: Path) -> None:
    run_plan(site.g.plan, site.g.restic, site.g.records, ["disque-1"])
    with pytest.raises(UserError, match="données en service"):
        restore(site.g, "disque-1", site.src / "docs" / "ici")
    target = restore(site.g, "disque-1", tmp_path / "restauration")
    restored = target / str(site.src / "docs" / "factures" / "facture-7.txt").lstrip("/")
    assert restored.read_text(encoding="utf-8") == (site.src / "docs/factures/facture-7.txt").read_text(
        encoding="utf-8"
    )
    with pytest.raises(UserError, match="pas vide"):
        restore(site.g, "disque-1", target)


def test_no_password_in_ps_database_reports_or_plan(site: Site, tmp_path: Path) -> None:
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False).stdout)
            stop.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run_plan(site.g.plan, site.g.restic, site.g.records)
        for d in site.g.plan.destinations:
            drill_destination(site.g.plan, d, site.g.restic, site.g.records, full=True)
    finally:
        stop.set()
        watcher.join()
    assert any("restic" in s for s in seen), "the watcher never saw restic running"
    data_dir = Path(os.environ["OFFICINE_DATA_DIR"])
    dump = "\n".join(sqlite3.connect(data_dir / "officine.db").iterdump())
    cli = subprocess.run(
        [".venv/bin/officine", "backup", "status", "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    audit = subprocess.run(
        [".venv/bin/officine", "audit", "--json", "--sans-enregistrer"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    plan_text = (Path(os.environ["OFFICINE_CONFIG_DIR"]) / "backup-plan.yaml").read_text(encoding="utf-8")
    for password in site.passwords.values():
        for name, text in (
            ("ps", "\n".join(seen)),
            ("database", dump),
            ("status", cli.stdout + cli.stderr),
            ("audit", audit.stdout + audit.stderr),
            ("plan", plan_text),
        ):
            assert password not in text, name


def test_status_command_exit_codes(site: Site) -> None:
    cwd = Path(__file__).parents[1]
    proc = subprocess.run(
        [".venv/bin/officine", "backup", "status"], capture_output=True, text=True, check=False, cwd=cwd
    )
    assert proc.returncode == 1  # nothing backed up yet
    assert "SAV-01" in proc.stdout
    assert load_plan().destinations[0].id == "disque-1"
