"""Backups on a bad day, one fault at a time: unplugged or wiped disks, full disks, corrupt plans,
concurrent runs, restores that would lose something. Real restic, real filesystems (root)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer

from backup_fixtures import Site, cli, mount_tmpfs, needs_root, unmount_all
from officine.backup.guardian import exclusive
from officine.backup.plan import default_plan_path, load_plan
from officine.errors import UserError
from officine.services.backup import backup_status, restore

ROOT = Path(__file__).parents[1]


def _sightings(site: Site, dest_id: str) -> list[bool]:
    return [s.present for s in site.g.records.sightings(dest_id, datetime.now(UTC) - timedelta(hours=1))]


# -- is the disk here? --------------------------------------------------------------------------
@needs_root
def test_an_unplugged_disk_is_absent_and_a_wiped_one_is_not(backup_disks: Site) -> None:
    site = backup_disks
    assert [r.status for r in site.run()] == ["success", "success"]
    site.unplug("disque-2")  # the rotated disk goes home
    shutil.rmtree(site.repos["disque-1"])  # the counter's disk stays plugged in, its repository wiped
    runs = site.run()
    assert [(r.status, r.error_code) for r in runs] == [("failed", "repository_gone"), ("absent", "absent")]
    assert "branché" in (runs[0].message or "") and "a disparu" in (runs[0].message or "")
    assert "n'est pas branché" in (runs[1].message or "")
    assert _sightings(site, "disque-1") == [True, True]  # a wiped disk is still an attached disk
    assert _sightings(site, "disque-2") == [True, False]  # only a real unplug is an absence
    drill = cli("backup", "drill")
    assert drill.code == 1 and "a disparu" in drill.text


@needs_root
def test_another_disk_at_the_same_place_is_not_our_disk(backup_disks: Site) -> None:
    site = backup_disks
    site.run("disque-2")
    site.unplug("disque-2")
    point = site.mounts["disque-2"]
    subprocess.run(["mount", "-t", "ramfs", "ramfs", str(point)], check=True)  # some other disk
    try:
        [run] = site.run("disque-2")
    finally:
        subprocess.run(["umount", str(point)], check=False)
    assert run.status == "absent" and "un autre disque" in (run.message or "")


@needs_root
def test_nothing_plugged_in_says_nothing_was_done(backup_disks: Site) -> None:
    site = backup_disks
    site.run()
    for dest_id in ("disque-1", "disque-2"):
        site.unplug(dest_id)
    run, drill = cli("backup", "run"), cli("backup", "drill")
    assert run.code == 5 and "Rien n'a été sauvegardé" in run.text
    assert drill.code == 5 and "Rien n'a été vérifié" in drill.text


def test_an_unreachable_server_is_absent(backup_site: Site) -> None:
    """rest: on a closed loopback port: restic says 'connection refused' (and, misleadingly, 'Is
    there a repository'): the server is unreachable, the repository is not declared gone."""
    cli("backup", "plan", "remove-destination", "disque-2")
    pw = backup_site.dest().password_file
    cli(
        "backup",
        *("plan", "add-destination", "serveur", "--depot", "rest:http://127.0.0.1:9/"),
        *("--type", "network", "--lieu", "autre_site", "--fichier-mot-de-passe", pw),
    )
    backup_site.reload()
    runs = backup_site.run("serveur")
    assert [(r.status, r.error_code) for r in runs] == [("absent", "absent")]
    assert "ne répond pas" in (runs[0].message or "")


# -- what the commands say when there is nothing to work on -----------------------------------
def test_no_destination_and_unknown_destination(backup_site: Site) -> None:
    run = cli("backup", "run", "--destination", "disque-9")
    assert run.code == 2 and "Aucune destination « disque-9 »" in run.text
    for dest_id in ("disque-1", "disque-2"):
        assert cli("backup", "plan", "remove-destination", dest_id).code == 0
    run, drill = cli("backup", "run"), cli("backup", "drill")
    assert run.code == 5 and "aucune destination" in run.text and "add-destination" in run.text
    assert drill.code == 5 and "rien n'a été vérifié" in drill.text


def test_one_run_at_a_time(backup_site: Site) -> None:
    with exclusive():  # a run already in progress on this machine
        run = cli("backup", "run")
        drill = cli("backup", "drill")
    assert run.code == 5 and "déjà en cours" in run.text
    assert drill.code == 5 and "déjà en cours" in drill.text
    assert backup_site.g.records.runs() == []  # nothing was attempted, nothing recorded
    assert cli("backup", "run", "--destination", "disque-1").code == 0


def test_the_scheduled_job_drills_even_after_a_failed_run(backup_site: Site) -> None:
    assert cli("backup", "run", "--verifier").code == 0
    os.rename(backup_site.src / "docs", backup_site.base / "docs-ailleurs")
    job = cli("backup", "run", "--verifier")
    assert job.code == 1
    assert "est introuvable" in job.text  # the run names the folder
    assert len(backup_site.g.records.verifications("disque-1")) == 2  # and the drill still ran


# -- folders that shrink ----------------------------------------------------------------------
def test_a_wanted_drop_is_accepted_once_and_becomes_the_new_normal(backup_site: Site) -> None:
    site = backup_site
    site.run("disque-1")
    for path in sorted((site.lgo / "base").iterdir())[:20]:
        path.unlink()  # old database files archived elsewhere, on purpose
    refused = cli("backup", "run", "--destination", "disque-1")
    assert refused.code == 1 and "--accepter-baisse" in refused.text and str(site.lgo) in refused.text
    accepted = cli("backup", "run", "--destination", "disque-1", "--accepter-baisse")
    assert accepted.code == 0, accepted.text
    assert cli("backup", "run", "--destination", "disque-1").code == 0  # compared with the new normal


def test_a_suspect_snapshot_is_never_the_latest_to_restore(backup_site: Site, tmp_path: Path) -> None:
    site = backup_site
    site.run("disque-1")
    for path in (site.lgo / "base").iterdir():
        path.unlink()
    [run] = site.run("disque-1")
    assert run.status == "failed" and (run.details or {})["tag"] == "officine-suspect"
    listing = cli("backup", "snapshots", "disque-1")
    assert listing.text.count("douteuse") == 1 and len(listing.out.strip().splitlines()) == 2
    target = restore(site.g, "disque-1", tmp_path / "restauration")
    restored = target / str(site.lgo / "base" / "table3.dat").lstrip("/")
    assert restored.is_file()  # from the last good snapshot, not the emptied one


def test_a_drill_of_a_snapshot_with_no_file_proves_nothing(backup_site: Site, tmp_path: Path) -> None:
    """What versions before this one recorded after an emptied source: a valid snapshot of nothing."""
    empty = tmp_path / "vide"
    empty.mkdir()
    assert backup_site.restic("disque-1", "backup", "--tag", "officine", str(empty)).returncode == 0
    drill = cli("backup", "drill", "--destination", "disque-1")
    assert drill.code == 1 and "ne contient aucun fichier" in drill.text
    results, _ = backup_status()
    assert {r.measure.id: r.verdict.value for r in results}["SAV-03"] == "fail"


# -- disks that fill up, restores that would lose something -----------------------------------
@needs_root
def test_a_full_backup_disk_loses_nothing_and_says_what_to_do(backup_disks: Site, tmp_path: Path) -> None:
    site = backup_disks
    site.unplug("disque-2")
    small = site.mounts["disque-1"]
    [first] = site.run("disque-1")
    assert site.drill("disque-1").status == "passed"
    before = site.restic("disque-1", "snapshots", "--json").stdout
    subprocess.run(["mount", "-o", "remount,size=3m", str(small)], check=True)
    (site.lgo / "base" / "grosse-table.dat").write_bytes(os.urandom(8 * 1024 * 1024))
    run = cli("backup", "run", "--destination", "disque-1")
    assert run.code == 1 and "est plein" in run.text and "officine backup prune disque-1" in run.text
    assert "Traceback" not in run.text
    assert site.restic("disque-1", "snapshots", "--json").stdout == before  # the old backup is intact
    assert site.restic("disque-1", "check").returncode == 0
    assert site.verdicts()["SAV-01"] == "warn"  # yesterday's proven backup exists, today's failed
    target = restore(site.g, "disque-1", tmp_path / "apres")
    assert (target / str(site.lgo / "base" / "table0.dat").lstrip("/")).is_file()
    assert first.snapshot_id and first.snapshot_id in before
    assert cli("backup", "prune", "disque-1").code == 0  # the advice names a real command


@needs_root
def test_a_restore_onto_a_full_disk_is_refused_or_explained(backup_site: Site, tmp_path: Path) -> None:
    site = backup_site
    site.run("disque-1")
    small = tmp_path / "petit-disque"
    mount_tmpfs(small, "200k")
    try:
        refused = cli("backup", "restore", "--destination", "disque-1", "--vers", str(small / "restauration"))
        assert refused.code == 2 and "Pas assez de place" in refused.text and "Rien n'a été restauré" in refused.text
        assert not (small / "restauration").exists()
        # With --seulement the size is not known beforehand: restic runs out of space, said plainly.
        lgo = str(site.lgo)
        partial = cli("backup", "restore", "--destination", "disque-1", "--vers", str(small / "r2"), "--seulement", lgo)
        assert partial.code == 2, partial.text
        assert "Le disque où vous restaurez" in partial.text and "n'a pas été touchée" in partial.text
        assert "Traceback" not in partial.text
    finally:
        unmount_all([small])
    assert site.restic("disque-1", "check").returncode == 0


@needs_root
def test_a_restore_onto_a_read_only_disk_says_so(backup_site: Site, tmp_path: Path) -> None:
    backup_site.run("disque-1")
    key = tmp_path / "cle-protegee"
    key.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64m", "tmpfs", str(key)], check=True)
    try:
        result = cli("backup", "restore", "--destination", "disque-1", "--vers", str(key / "restauration"))
    finally:
        unmount_all([key])
    assert result.code == 2 and "en lecture seule" in result.text and "n'a pas été touchée" in result.text
    assert "Traceback" not in result.text


def test_restore_onto_an_existing_file_or_into_a_repository_changes_nothing(backup_site: Site, tmp_path: Path) -> None:
    site = backup_site
    site.run("disque-1")
    existing = tmp_path / "ordonnance.pdf"
    existing.write_bytes(b"%PDF-1.4 une ordonnance")
    for target in (existing, existing / "sous-dossier"):
        result = cli("backup", "restore", "--destination", "disque-1", "--vers", str(target))
        assert result.code == 2 and "est un fichier, pas un dossier" in result.text, result.text
        assert "Traceback" not in result.text
    assert existing.read_bytes() == b"%PDF-1.4 une ordonnance"
    with pytest.raises(UserError, match="toucherait le dépôt"):
        restore(site.g, "disque-1", site.repos["disque-2"] / "restauration")


# -- the plan ---------------------------------------------------------------------------------
def test_replacing_the_folders_keeps_the_destinations_and_the_old_plan(backup_site: Site, tmp_path: Path) -> None:
    before = default_plan_path().read_text(encoding="utf-8")
    other = tmp_path / "autres-documents"
    other.mkdir()
    result = cli("backup", "plan", "init", "--remplacer", "--source", str(other))
    assert result.code == 0 and "Destinations conservées : disque-1, disque-2" in result.text
    plan = load_plan()
    assert [s.path for s in plan.sources] == [str(other)]
    assert [d.id for d in plan.destinations] == ["disque-1", "disque-2"]
    [kept] = default_plan_path().parent.glob("backup-plan.yaml.*.bak")
    assert kept.read_text(encoding="utf-8") == before
    assert str(kept) in result.text


def test_add_and_remove_a_folder(backup_site: Site, tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    assert cli("backup", "plan", "add-source", str(scans)).code == 0
    assert str(scans) in [s.path for s in load_plan().sources]
    again = cli("backup", "plan", "add-source", str(scans))
    assert again.code == 2 and "déjà dans le plan" in again.text
    assert cli("backup", "plan", "remove-source", str(scans)).code == 0
    assert str(scans) not in [s.path for s in load_plan().sources]
    unknown = cli("backup", "plan", "remove-source", str(tmp_path / "inconnu"))
    assert unknown.code == 2 and "n'est pas dans le plan" in unknown.text


def test_a_corrupt_plan_is_bad_input_everywhere_and_unknown_in_the_audit(backup_site: Site) -> None:
    backup_site.run("disque-1")
    path = default_plan_path()
    path.write_text("sources: [\n  - path: /srv/lgo\n destinations: {", encoding="utf-8")
    corrupt = path.read_text(encoding="utf-8")
    for args in (("backup", "run"), ("backup", "drill"), ("backup", "status"), ("backup", "plan", "show")):
        result = cli(*args)
        assert result.code == 2, (args, result.text)
        said = " ".join(result.text.split())
        assert "Le plan de sauvegarde" in said and "est illisible : ligne 2" in said and "--remplacer" in said
        assert "Traceback" not in result.text
    results, _ = backup_status()
    assert {r.verdict.value for r in results} == {"unknown"}  # the dashboard and audit go on, unknown
    assert path.read_text(encoding="utf-8") == corrupt  # nothing was rewritten
    # Starting afresh keeps the unreadable file aside: nothing entered is lost.
    fresh = cli("backup", "plan", "init", "--remplacer", "--source", str(backup_site.src / "docs"))
    assert fresh.code == 0 and "Aucune destination reprise" in fresh.text
    [kept] = path.parent.glob("backup-plan.yaml.*.bak")
    assert kept.read_text(encoding="utf-8") == corrupt


# -- advice names only commands that exist ----------------------------------------------------
def _commands(app: typer.Typer, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for command in app.registered_commands:
        found.add((*prefix, command.name or (command.callback.__name__ if command.callback else "")))
    for group in app.registered_groups:
        if group.typer_instance is not None and group.name:
            found.add((*prefix, group.name))
            found |= _commands(group.typer_instance, (*prefix, group.name))
    return found


def test_every_officine_command_named_in_words_and_docs_exists() -> None:
    from officine.cli.main import app

    commands = _commands(app)
    files = [
        *(ROOT / "src/officine").rglob("*.py"),
        *(ROOT / "src/officine").rglob("*.yaml"),
        *(ROOT / "docs").glob("*.md"),
        ROOT / "README.md",
    ]
    named = set()
    for f in files:
        for match in re.finditer(r"officine ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*){0,2})", f.read_text(encoding="utf-8")):
            words = tuple(match.group(1).split())
            if words[0] == "backup":  # this area's commands; the others are checked by their owners
                named.add((f.name, words))
    assert named, "no command found: the pattern is wrong"
    for name, words in sorted(named):
        # The longest prefix that is a command must be the whole run of command-like words, or a
        # command followed by its arguments (a destination id, a folder).
        known = [words[:n] for n in range(len(words), 0, -1) if words[:n] in commands]
        assert known, (name, " ".join(words))
        assert len(known[0]) >= 2 or words == ("backup",), (name, " ".join(words))
