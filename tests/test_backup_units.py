"""Small pieces of the backup guardian: disk identity, folder judgement, restic's words, exit codes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from officine.backup.exits import BackupExit, for_drills, for_runs, for_verdicts, worst
from officine.backup.plan import Destination, Plan, Source, Thresholds
from officine.backup.presence import Volume, filesystem_uuid
from officine.backup.records import RunRecord, VerificationRecord
from officine.backup.restic import classify
from officine.backup.sources import baselines, describe, judge, survey

NOW = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
DEST = Destination(
    id="disque-1", label="Disque 1", kind="disk", place="pharmacie", repository="/media/d1/restic", password_file="/x"
)


# -- which disk is this? ----------------------------------------------------------------------
def test_two_alike_disks_differ_by_their_filesystem_uuid() -> None:
    ours = Volume("/media/sauvegarde", "/dev/sdb1", "ext4", "1111-AAAA")
    twin = Volume("/media/sauvegarde", "/dev/sdb1", "ext4", "2222-BBBB")  # same make, same port
    assert ours.same_disk(twin) is False
    assert ours.same_disk(Volume("/media/sauvegarde", "/dev/sdc1", "ext4", "1111-AAAA")) is True  # other port
    # Without udev's UUIDs, the device and type are what is left to tell them apart.
    assert Volume("/m", "/dev/sdb1", "ext4").same_disk(Volume("/m", "/dev/sdb1", "exfat")) is False
    assert Volume("/m", "tmpfs", "tmpfs").same_disk(Volume("/m", "tmpfs", "tmpfs")) is True
    assert Volume("/m").same_disk(Volume("/m", "/dev/sdb1", "ext4")) is None
    assert Volume.from_json(ours.to_json()) == ours
    assert Volume.from_json({"device": "/dev/sdb1"}) is None


def test_filesystem_uuid_follows_udev_links(tmp_path: Path) -> None:
    by_uuid = tmp_path / "by-uuid"
    by_uuid.mkdir()
    (by_uuid / "5E1F-C0DE").symlink_to("/dev/null")  # udev's layout: UUID -> ../../device
    (by_uuid / "other").symlink_to("/dev/zero")
    assert filesystem_uuid("/dev/null", by_uuid) == "5E1F-C0DE"
    assert filesystem_uuid("/dev/full", by_uuid) == ""
    assert filesystem_uuid("tmpfs", by_uuid) == ""  # not a block device
    assert filesystem_uuid("/dev/null", tmp_path / "absent") == ""


# -- is a folder still whole? -----------------------------------------------------------------
BEFORE = {"files": 100, "bytes": 10_000, "at": NOW.isoformat()}


@pytest.mark.parametrize(
    "files, size, expected",
    [
        (100, 10_000, "ok"),
        (50, 10_000, "ok"),  # exactly half left: the limit is "lost more than 50 %"
        (49, 10_000, "shrunk"),
        (100, 4_999, "shrunk"),  # same files, emptied contents (truncated by a wipe)
        (0, 0, "empty"),
        (300, 90_000, "ok"),
    ],
)
def test_a_folder_is_shrunk_past_the_plan_threshold(files: int, size: int, expected: str) -> None:
    assert judge("/srv/lgo", files, size, BEFORE, 50).state == expected


@given(
    st.integers(0, 10_000), st.integers(0, 10**9), st.integers(1, 10_000), st.integers(1, 10**9), st.integers(1, 100)
)
def test_judgement_is_monotonic_in_what_is_left(
    files: int, size: int, before_files: int, before_bytes: int, pct: int
) -> None:
    """Losing more never looks better than losing less."""
    before = {"files": before_files, "bytes": before_bytes, "at": NOW.isoformat()}
    worse = judge("/p", max(files - 1, 0), size, before, pct).state
    if judge("/p", files, size, before, pct).state != "ok":
        assert worse != "ok"
    assert judge("/p", files, size, None, pct).state in ("ok", "empty")  # no baseline: only emptiness


def test_a_problem_count_is_never_a_baseline() -> None:
    history = [
        (datetime(2026, 11, 27, tzinfo=UTC), {"sources": {"/srv/lgo": {"state": "ok", "files": 100, "bytes": 10}}}),
        (datetime(2026, 11, 28, tzinfo=UTC), {"sources": {"/srv/lgo": {"state": "shrunk", "files": 5, "bytes": 1}}}),
        (datetime(2026, 11, 26, tzinfo=UTC), {"sources": {"/srv/lgo": {"state": "ok", "files": 90, "bytes": 9}}}),
    ]
    assert baselines(["/srv/lgo"], history)["/srv/lgo"]["files"] == 100
    accepted = [
        *history,
        (datetime(2026, 11, 29, tzinfo=UTC), {"sources": {"/srv/lgo": {"state": "accepted", "files": 5, "bytes": 1}}}),
    ]
    assert baselines(["/srv/lgo"], accepted)["/srv/lgo"]["files"] == 5


def test_survey_names_missing_empty_and_shrunk_folders(tmp_path: Path) -> None:
    (tmp_path / "lgo" / "base").mkdir(parents=True)
    (tmp_path / "vide").mkdir()
    (tmp_path / "fichier").write_text("x", encoding="utf-8")
    for i in range(3):
        (tmp_path / "lgo" / "base" / f"t{i}").write_bytes(b"x" * 10)
    plan = Plan(
        sources=[Source(path=str(tmp_path / name)) for name in ("lgo", "vide", "absent", "fichier")],
        thresholds=Thresholds(max_source_drop_percent=50),
    )
    history = [(NOW, {"sources": {str(tmp_path / "lgo"): {"state": "ok", "files": 10, "bytes": 100}}})]
    states = {Path(c.path).name: c.state for c in survey(plan, history)}
    assert states == {"lgo": "shrunk", "vide": "empty", "absent": "missing", "fichier": "not_dir"}
    assert {Path(c.path).name: c.state for c in survey(plan, history, accept_drop=True)}["lgo"] == "accepted"
    [lgo] = [c for c in survey(plan, history) if c.path.endswith("lgo")]
    assert "3 fichier(s)" in describe(lgo) and "10 fichier(s)" in describe(lgo) and "29/11/2026" in describe(lgo)


# -- restic's words ---------------------------------------------------------------------------
# stderr recorded with restic 0.14.0 on this machine, one fault at a time on a scratch repository.
RECORDED = {
    "wrong_password": "Fatal: wrong password or no key found\n",  # keys/ removed, or another password
    "no_repository": "Fatal: unable to open config file: stat /x/config: no such file or directory\n"
    "Is there a repository at the following location?\n/x\n",
    "corrupted": "Fatal: config or key 85448cabc6534f4ac9e0e78784ce9de815063266d49c5d8b5ae07ca6de3ede98 is damaged: "
    "ciphertext verification failed\n",
    "disk_full": "Fatal: unable to save snapshot: write /m/repo/data/fa/fa4d-tmp-3034094694: no space left on device\n",
    "locked": "unable to create lock in backend: repository is already locked exclusively by PID 17541 on vm by root "
    "(UID 0, GID 0)\nlock was created at 2026-11-29 15:21:12 (3.058709666s ago)\nstorage ID cb7d6e3b\n"
    "the `unlock` command can be used to remove stale locks\n",
    "unreadable": "Fatal: unable to open repository at /x: ReadDir: open /x/keys: permission denied\n",
}
RECORDED_DAMAGE = [
    "ignoring error for /: id fe8c3db584a5 not found in repository\nFatal: There were 2 errors\n",  # index/ removed
    "ignoring error for /: ReadFull(<data/c69721c92c>): open /x/data/c6/c697: no such file or directory\n"
    "Fatal: There were 2 errors\n",  # data/ removed
    "Fatal: repository contains errors\n",  # check
    "Fatal: Unmarshal: invalid character 'v' looking for beginning of value\n",  # keys overwritten
]


@pytest.mark.parametrize("code", sorted(RECORDED))
def test_restic_failures_are_named_in_french(code: str) -> None:
    found, message = classify(RECORDED[code], DEST)
    assert found == code
    assert "« Disque 1 »" in message


@pytest.mark.parametrize("stderr", RECORDED_DAMAGE)
def test_missing_or_damaged_repository_data_is_corruption(stderr: str) -> None:
    assert classify(stderr, DEST)[0] == "corrupted"


def test_advice_names_the_destination_and_real_commands() -> None:
    assert "officine backup prune disque-1" in classify(RECORDED["disk_full"], DEST)[1]
    assert "officine backup unlock disque-1" in classify("repository is already locked", DEST)[1]


# -- exit codes -------------------------------------------------------------------------------
def _run(status: str, code: str | None = None) -> RunRecord:
    return RunRecord("d", NOW, NOW, status, error_code=code)


def _drill(status: str, code: str | None = None) -> VerificationRecord:
    return VerificationRecord("d", NOW, status, error_code=code)


def test_exit_codes_only_say_0_when_everything_asked_was_proven() -> None:
    assert for_runs([_run("success"), _run("absent", "absent")]) == BackupExit.OK  # the home disk is at home
    assert for_runs([_run("success"), _run("failed", "disk_full")]) == BackupExit.FAILED
    assert for_runs([_run("partial")]) == BackupExit.INCOMPLETE
    assert for_runs([_run("absent", "absent"), _run("absent", "unseen")]) == BackupExit.NOTHING_DONE
    assert for_runs([]) == BackupExit.NOTHING_DONE
    assert for_drills([_drill("passed"), _drill("failed", "absent")]) == BackupExit.OK
    assert for_drills([_drill("failed", "absent")]) == BackupExit.NOTHING_DONE
    assert for_drills([_drill("passed"), _drill("failed", "locked")]) == BackupExit.FAILED
    assert for_verdicts(["pass", "needs_answer", "not_applicable"]) == BackupExit.OK
    assert for_verdicts(["pass", "unknown"]) == BackupExit.INCOMPLETE
    assert for_verdicts(["warn", "fail"]) == BackupExit.FAILED
    assert worst(BackupExit.OK, BackupExit.NOTHING_DONE) == BackupExit.NOTHING_DONE
    assert worst(BackupExit.INCOMPLETE, BackupExit.FAILED, BackupExit.OK) == BackupExit.FAILED
