"""Backup rules (SAV-*) judged from plans and records: 3-2-1, disconnected copy, HDS, ages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from officine.answers import Answers
from officine.backup.plan import Destination, Hds, Plan, Source
from officine.backup.records import RunRecord, Sighting, VerificationRecord
from officine.backup.state import build_state
from officine.evaluate import evaluate
from officine.reference import load_reference
from officine.services.audit import load_knowledge

NOW = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
K = load_knowledge()


def dest(dest_id: str, kind: str = "disk", place: str = "pharmacie", **extra: Any) -> Destination:
    repo = f"/mnt/{dest_id}/restic" if kind in ("disk", "rotated_disk") else f"sftp:nas:/{dest_id}"
    if kind == "cloud":
        repo = f"s3:https://s3.example.invalid/{dest_id}"
    return Destination(
        id=dest_id,
        label=dest_id,
        kind=kind,
        place=place,
        repository=repo,  # type: ignore[arg-type]
        password_file="/etc/officine/x.pass",
        **extra,
    )


def ok(dest_id: str, hours_ago: float = 2) -> RunRecord:
    at = NOW - timedelta(hours=hours_ago)
    return RunRecord(dest_id, at, at + timedelta(minutes=5), "success", "abcd1234", 100)


def judge(
    plan: Plan,
    runs: list[RunRecord],
    verifications: list[VerificationRecord] | None = None,
    sightings: dict[str, list[Sighting]] | None = None,
    first_seen: dict[str, datetime | None] | None = None,
) -> dict[str, str]:
    facts = build_state(plan, runs, verifications or [], sightings or {}, first_seen or {}, NOW)
    a = evaluate(K.catalogue, [], Answers(), K.checks, K.messages, load_reference(), NOW.date(), facts)
    return {m.measure.id: m.verdict.value for m in a.measures if m.measure.id.startswith("SAV")}


SRC = [Source(path="/srv/lgo", lgo=True)]


@pytest.mark.parametrize(
    "name, destinations, runs, expected",
    [
        ("one copy", [dest("d1")], [ok("d1")], "fail"),
        ("two copies, same place", [dest("d1"), dest("d2")], [ok("d1"), ok("d2")], "fail"),
        (
            "disk here and rotated disk at home",
            [dest("d1"), dest("d2", "rotated_disk", "domicile")],
            [ok("d1"), ok("d2")],
            "pass",
        ),
        (
            "disk and HDS cloud",
            [dest("d1"), dest("c1", "cloud", "cloud", hds=Hds(certified=True, reference="HDS-1"))],
            [ok("d1"), ok("c1")],
            "pass",
        ),
        (
            "home copy too old to count",
            [dest("d1"), dest("d2", "rotated_disk", "domicile")],
            [ok("d1"), ok("d2", hours_ago=24 * 20)],
            "fail",
        ),
        ("only cloud", [dest("c1", "cloud", "cloud", hds=Hds(certified=True))], [ok("c1")], "fail"),
        (
            "two off-site disks, one medium type",
            [dest("d1", "disk", "domicile"), dest("d2", "rotated_disk", "autre_site")],
            [ok("d1"), ok("d2")],
            "pass",
        ),
        (
            "failed runs do not count",
            [dest("d1"), dest("d2", "rotated_disk", "domicile")],
            [ok("d1"), RunRecord("d2", NOW, NOW, "failed", error_code="wrong_password")],
            "fail",
        ),
    ],
)
def test_three_two_one(name: str, destinations: list[Destination], runs: list[RunRecord], expected: str) -> None:
    assert judge(Plan(sources=SRC, destinations=destinations), runs)["SAV-05"] == expected, name


def test_cloud_without_hds_fails_and_expired_certificate_fails() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1"), dest("c1", "cloud", "cloud", hds=Hds(certified=False))])
    assert judge(plan, [ok("d1"), ok("c1")])["SAV-06"] == "fail"
    expired = Hds(certified=True, reference="HDS-2", expires=date(2026, 1, 1))
    plan = Plan(sources=SRC, destinations=[dest("c1", "cloud", "cloud", hds=expired)])
    assert judge(plan, [ok("c1")])["SAV-06"] == "fail"
    valid = Hds(certified=True, reference="HDS-3", expires=date(2027, 6, 1))
    plan = Plan(sources=SRC, destinations=[dest("c1", "cloud", "cloud", hds=valid)])
    assert judge(plan, [ok("c1")])["SAV-06"] == "pass"


def test_no_cloud_leaves_hds_to_the_question() -> None:
    assert judge(Plan(sources=SRC, destinations=[dest("d1")]), [ok("d1")])["SAV-06"] == "needs_answer"


def _seen(dest_id: str, hours: list[float], present: bool = True) -> list[Sighting]:
    return [Sighting(dest_id, NOW - timedelta(hours=h), present) for h in hours]


def test_a_disk_that_stays_attached_is_not_a_disconnected_copy() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    sightings = {"d1": _seen("d1", [24 * 6, 24 * 5, 24 * 4, 24 * 3, 24 * 2, 24, 1])}
    verdicts = judge(plan, [ok("d1")], sightings=sightings, first_seen={"d1": NOW - timedelta(days=6)})
    assert verdicts["SAV-02"] == "fail"


def test_a_disk_that_comes_and_goes_is_a_disconnected_copy() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    sightings = {
        "d1": sorted(
            _seen("d1", [24 * 6, 24 * 4, 1]) + _seen("d1", [24 * 5, 24 * 2], present=False),
            key=lambda s: s.at,
        )
    }
    verdicts = judge(plan, [ok("d1")], sightings=sightings, first_seen={"d1": NOW - timedelta(days=6)})
    assert verdicts["SAV-02"] == "pass"


def test_a_new_disk_is_not_judged_too_early() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    verdicts = judge(
        plan, [ok("d1")], sightings={"d1": _seen("d1", [5, 1])}, first_seen={"d1": NOW - timedelta(hours=5)}
    )
    assert verdicts["SAV-02"] == "unknown"


def test_an_always_reachable_network_copy_is_not_disconnected_unless_append_only() -> None:
    plan = Plan(sources=SRC, destinations=[dest("n1", "network", "autre_site")])
    assert judge(plan, [ok("n1")])["SAV-02"] == "fail"
    plan = Plan(sources=SRC, destinations=[dest("n1", "network", "autre_site", immutable=True)])
    assert judge(plan, [ok("n1")])["SAV-02"] == "pass"


def test_backup_age_and_drill_age() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    assert judge(plan, [ok("d1", hours_ago=20)])["SAV-01"] == "pass"
    assert judge(plan, [ok("d1", hours_ago=50)])["SAV-01"] == "warn"
    assert judge(plan, [ok("d1", hours_ago=24 * 10)])["SAV-01"] == "fail"
    assert judge(plan, [])["SAV-01"] == "fail"
    drill = VerificationRecord("d1", NOW - timedelta(days=30), "passed", "abcd", True, "1/30", 10, 1000)
    assert judge(plan, [ok("d1")], [drill])["SAV-03"] == "pass"
    old = VerificationRecord("d1", NOW - timedelta(days=250), "passed", "abcd", True, "1/30", 10, 1000)
    assert judge(plan, [ok("d1")], [old])["SAV-03"] == "warn"
    assert judge(plan, [ok("d1")], [])["SAV-03"] == "fail"
    broken = VerificationRecord("d1", NOW - timedelta(days=1), "failed", error_code="corrupted", message="abîmé")
    assert judge(plan, [ok("d1")], [drill, broken])["SAV-03"] == "fail"


def test_without_a_plan_the_answers_decide() -> None:
    facts = build_state(None, [], [], {}, {}, NOW)
    a = evaluate(K.catalogue, [], Answers(), K.checks, K.messages, load_reference(), NOW.date(), facts)
    verdicts = {m.measure.id: m.verdict.value for m in a.measures if m.measure.id.startswith("SAV")}
    assert set(verdicts.values()) == {"needs_answer"}


def test_systemd_schedule_install_and_remove(tmp_path: Path) -> None:
    from officine.services.backup import install_schedule, remove_schedule, windows_task

    plan = Plan(sources=SRC, destinations=[dest("d1")], schedule="*-*-* 21:15:00")
    written = install_schedule(plan, tmp_path, officine_bin="/opt/officine/bin/officine")
    timer = (tmp_path / "officine-backup.timer").read_text(encoding="utf-8")
    service = (tmp_path / "officine-backup.service").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 21:15:00" in timer and "Persistent=true" in timer
    assert "ExecStart=/opt/officine/bin/officine backup run" in service
    assert "ExecStartPost=/opt/officine/bin/officine backup drill" in service
    assert sorted(remove_schedule(tmp_path)) == sorted(written)
    assert not list(tmp_path.iterdir())
    assert "schtasks /Create" in windows_task() and "backup drill" in windows_task()
