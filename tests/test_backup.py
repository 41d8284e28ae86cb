"""The backup guardian with real restic and real repositories in temporary folders."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backup_fixtures import Site
from officine.backup.plan import load_plan
from officine.backup.restic import Restic, ResticError
from officine.errors import UserError
from officine.services.backup import restore

pytestmark = pytest.mark.skipif(shutil.which("restic") is None, reason="restic not installed")


def test_two_destinations_back_up_then_the_drill_passes(backup_site: Site) -> None:
    runs = backup_site.run()
    assert [r.status for r in runs] == ["success", "success"]
    assert all(r.snapshot_id and r.files_total == 51 for r in runs)
    for d in backup_site.g.plan.destinations:
        record = backup_site.drill(d.id, full=True)
        assert record.status == "passed", record.message
        assert record.files_checked == 51
        assert record.bytes_checked == sum(p.stat().st_size for p in backup_site.src.rglob("*") if p.is_file())
        assert (record.details or {})["compared"] == 51  # nothing changed since: every file compared
    verdicts = backup_site.verdicts()
    assert verdicts["SAV-01"] == "pass" and verdicts["SAV-03"] == "pass"
    assert verdicts["SAV-05"] == "pass"  # original + two proven disks, one at home
    assert "51 fichiers restaurés et vérifiés" in backup_site.evidence("SAV-03")
    assert "dont 51 comparés octet par octet" in backup_site.evidence("SAV-03")


def test_sampled_drill_checks_a_sample(backup_site: Site) -> None:
    backup_site.run("disque-1")
    backup_site.g.plan = backup_site.g.plan.model_copy(
        update={"thresholds": backup_site.g.plan.thresholds.model_copy(update={"sample_files": 5})}
    )
    record = backup_site.drill(full=False, rng=random.Random(1))
    assert record.status == "passed" and record.files_checked == 5 and not record.full


def _largest_pack(repo: Path) -> Path:
    return max((p for p in (repo / "data").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)


def test_drill_detects_a_silently_corrupted_pack_and_the_copy_stops_counting(backup_site: Site) -> None:
    backup_site.run()
    for d in ("disque-1", "disque-2"):
        assert backup_site.drill(d).status == "passed"
    assert backup_site.verdicts()["SAV-05"] == "pass"
    pack = _largest_pack(backup_site.repos["disque-1"])
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    record = backup_site.drill(full=True)
    assert record.status == "failed"
    assert record.error_code == "corrupted", record.message
    verdicts = backup_site.verdicts()
    assert verdicts["SAV-03"] == "fail" and "abîmées" in backup_site.evidence("SAV-03")
    assert verdicts["SAV-05"] == "fail"  # one proven disk left: original + 1 copy
    # A new backup onto the damaged repository may lean on the damaged data: it does not count.
    [run] = backup_site.run("disque-1")
    assert run.status == "failed" and run.error_code == "repository_untrusted"
    assert "n'est plus fiable" in (run.message or "")


def test_a_deleted_snapshot_means_the_repository_wins(backup_site: Site) -> None:
    """The run records say disque-1 holds a copy; restic says it does not: the copy is gone."""
    [run] = backup_site.run("disque-1")
    assert backup_site.drill().status == "passed"
    assert backup_site.verdicts()["SAV-01"] == "pass"
    assert backup_site.restic("disque-1", "forget", str(run.snapshot_id)).returncode == 0
    record = backup_site.drill()
    assert record.error_code == "snapshot_missing"
    assert str(run.snapshot_id) in (record.message or "")
    verdicts = backup_site.verdicts()
    assert verdicts["SAV-01"] == "fail" and "ne contient plus" in backup_site.evidence("SAV-01")
    assert verdicts["SAV-03"] == "fail"
    assert "il y en a 1" in backup_site.evidence("SAV-05")  # only the original is left


def test_a_run_notices_a_deleted_snapshot_by_itself(backup_site: Site) -> None:
    [first] = backup_site.run("disque-1")
    assert backup_site.drill().status == "passed"
    assert backup_site.restic("disque-1", "forget", str(first.snapshot_id)).returncode == 0
    [second] = backup_site.run("disque-1")
    assert second.status == "failed" and second.error_code == "repository_untrusted"
    found = backup_site.g.records.verifications("disque-1")[0]
    assert found.error_code == "snapshot_missing" and (found.details or {}).get("found_by") == "run"
    assert backup_site.verdicts()["SAV-01"] == "fail"
    # The new snapshot is there and a drill proves it: trust comes back, for what came after.
    assert backup_site.drill().status == "passed"
    assert backup_site.verdicts()["SAV-01"] == "pass"


def test_drill_detects_a_changed_repository_password(backup_site: Site, tmp_path: Path) -> None:
    backup_site.run("disque-1")
    new_pw = tmp_path / "intrus.pass"
    new_pw.write_text("mot-de-passe-de-l-intrus\n", encoding="utf-8")
    assert backup_site.restic("disque-1", "key", "add", "--new-password-file", str(new_pw)).returncode == 0
    keys = json.loads(backup_site.restic("disque-1", "key", "list", "--json").stdout)
    old = next(k["id"] for k in keys if k["current"])
    assert backup_site.restic("disque-1", "key", "remove", old, password_file=new_pw).returncode == 0
    record = backup_site.drill()
    assert record.error_code == "wrong_password"
    assert "Mot de passe refusé par le dépôt « Disque 1 »" in (record.message or "")


def test_a_source_changed_after_the_snapshot_is_not_corruption(backup_site: Site) -> None:
    backup_site.run("disque-1")
    changed = backup_site.src / "docs" / "factures" / "facture-3.txt"
    changed.write_text("modifiée après la sauvegarde\n", encoding="utf-8")
    (backup_site.src / "docs" / "factures" / "facture-4.txt").unlink()
    record = backup_site.drill(full=True)
    assert record.status == "passed", record.message
    details = record.details or {}
    assert details["changed_since"] == 1 and details["deleted_since"] == 1 and details["compared"] == 49


def test_bit_rot_in_an_unchanged_source_is_reported_with_the_file_name(backup_site: Site) -> None:
    """Same size and mtime but different bytes: either the source or the backup is damaged."""
    backup_site.run("disque-1")
    victim = backup_site.src / "lgo" / "base" / "table5.dat"
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[0] ^= 1
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    record = backup_site.drill(full=True)
    assert record.status == "failed" and record.error_code == "mismatch"
    assert "table5.dat" in (record.message or "")


def test_a_missing_source_fails_the_run_for_that_folder(backup_site: Site) -> None:
    shutil.rmtree(backup_site.src / "docs")  # restic 0.14 alone would exit 0 here
    [run] = backup_site.run("disque-1")
    assert run.status == "failed" and run.error_code == "source_missing"
    assert str(backup_site.src / "docs") in (run.message or "") and "introuvable" in (run.message or "")
    assert (run.details or {})["tag"] == "officine-suspect"  # the LGO folder was still saved, apart
    assert backup_site.verdicts()["SAV-01"] == "fail"


def test_a_destination_never_seen_is_not_counted_as_unplugged(backup_site: Site) -> None:
    shutil.rmtree(backup_site.repos["disque-2"].parent)
    runs = backup_site.run()
    assert [r.status for r in runs] == ["success", "absent"]
    assert runs[1].error_code == "unseen" and "introuvable" in (runs[1].message or "")
    # Nothing proves the disk was unplugged rather than wiped: no sighting either way.
    assert backup_site.g.records.sightings("disque-2", datetime.now(UTC) - timedelta(hours=1)) == []


def test_a_vanished_repository_on_the_system_disk_is_a_loud_failure(backup_site: Site) -> None:
    backup_site.run()
    shutil.rmtree(backup_site.repos["disque-2"])  # plain folder on the system disk: no disk to unplug
    runs = backup_site.run()
    assert [r.status for r in runs] == ["success", "failed"]
    assert runs[1].error_code == "repository_gone" and "a disparu" in (runs[1].message or "")
    sightings = backup_site.g.records.sightings("disque-2", datetime.now(UTC) - timedelta(hours=1))
    assert [s.present for s in sightings] == [True, True]  # never an "absence" sighting


def test_wrong_password_file_content_gives_a_french_error(backup_site: Site) -> None:
    Path(backup_site.dest().password_file).write_text("pas le bon\n", encoding="utf-8")
    [run] = backup_site.run("disque-1")
    assert run.status == "failed" and run.error_code == "wrong_password"


def test_password_file_readable_by_others_is_refused(backup_site: Site) -> None:
    Path(backup_site.dest().password_file).chmod(0o644)
    [run] = backup_site.run("disque-1")
    assert run.status == "failed" and "chmod 600" in (run.message or "")


def _hold_exclusive_lock(backup_site: Site, dest_id: str) -> subprocess.Popen[bytes]:
    """`restic key passwd` takes the repository's exclusive lock, then waits for the new password
    on its input: a live operation holding the lock for as long as the pipe stays open."""
    holder = subprocess.Popen(
        ["restic", "key", "passwd"],
        stdin=subprocess.PIPE,
        env=backup_site.g.restic.env(backup_site.dest(dest_id)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lock_dir = backup_site.repos[dest_id] / "locks"
    for _ in range(500):
        if any(lock_dir.iterdir()):
            return holder
        threading.Event().wait(0.02)
    holder.kill()
    raise AssertionError("restic did not take its lock")


def test_a_live_lock_is_explained_and_a_stale_one_removed(backup_site: Site) -> None:
    backup_site.run("disque-1")
    holder = _hold_exclusive_lock(backup_site, "disque-1")
    try:
        record = backup_site.drill()
        [run] = backup_site.run("disque-1")
    finally:
        holder.kill()
        holder.wait()
    assert record.error_code == "locked" and "verrouillé" in (record.message or "")
    assert run.error_code == "locked"
    # The holder was killed: its lock is stale (its process is gone) and is removed by itself.
    assert any((backup_site.repos["disque-1"] / "locks").iterdir())
    assert backup_site.drill().status == "passed"


def test_restic_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ResticError, match="apt-get install restic"):
        Restic.find()


def test_restore_never_over_live_data_by_default(backup_site: Site, tmp_path: Path) -> None:
    backup_site.run("disque-1")
    with pytest.raises(UserError, match="données en service"):
        restore(backup_site.g, "disque-1", backup_site.src / "docs" / "ici")
    target = restore(backup_site.g, "disque-1", tmp_path / "restauration")
    restored = target / str(backup_site.src / "docs" / "factures" / "facture-7.txt").lstrip("/")
    assert restored.read_text(encoding="utf-8") == (backup_site.src / "docs/factures/facture-7.txt").read_text(
        encoding="utf-8"
    )
    with pytest.raises(UserError, match="pas vide"):
        restore(backup_site.g, "disque-1", target)


def test_no_password_in_ps_database_reports_or_plan(backup_site: Site, tmp_path: Path) -> None:
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False).stdout)
            stop.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        backup_site.run()
        for d in backup_site.g.plan.destinations:
            backup_site.drill(d.id, full=True)
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
    passwords = [Path(d.password_file).read_text(encoding="utf-8").strip() for d in backup_site.g.plan.destinations]
    for password in passwords:
        for name, text in (
            ("ps", "\n".join(seen)),
            ("database", dump),
            ("status", cli.stdout + cli.stderr),
            ("audit", audit.stdout + audit.stderr),
            ("plan", plan_text),
        ):
            assert password not in text, name


def test_status_command_exit_codes(backup_site: Site) -> None:
    cwd = Path(__file__).parents[1]
    proc = subprocess.run(
        [".venv/bin/officine", "backup", "status"], capture_output=True, text=True, check=False, cwd=cwd
    )
    assert proc.returncode == 1  # nothing backed up yet
    assert "SAV-01" in proc.stdout
    assert load_plan().destinations[0].id == "disque-1"
