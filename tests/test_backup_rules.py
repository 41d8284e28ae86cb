"""Backup rules (SAV-*) judged from plans and records: 3-2-1, disconnected copy, HDS, ages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officine.answers import Answers
from officine.backup.plan import Destination, Hds, Plan, Source
from officine.backup.records import RunRecord, Sighting, VerificationRecord
from officine.backup.state import REPOSITORY_LOST, build_state, unreadable_plan
from officine.evaluate import evaluate
from officine.facts import Fact
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


def drilled(dest_id: str, hours_ago: float = 1, status: str = "passed", code: str | None = None) -> VerificationRecord:
    at = NOW - timedelta(hours=hours_ago)
    return VerificationRecord(dest_id, at, status, "abcd1234", True, "1/30", 100, 10_000, code)


def judge(
    plan: Plan,
    runs: list[RunRecord],
    verifications: list[VerificationRecord] | None = None,
    sightings: dict[str, list[Sighting]] | None = None,
    first_seen: dict[str, datetime | None] | None = None,
    answers: Answers | None = None,
) -> dict[str, str]:
    """SAV verdicts. Without `verifications`, each destination with a successful run also had a
    drill that passed an hour ago, as the nightly job (run then drill) leaves it."""
    if verifications is None:
        verifications = [drilled(d) for d in sorted({r.destination_id for r in runs if r.status == "success"})]
    return verdicts(build_state(plan, runs, verifications, sightings or {}, first_seen or {}, NOW), answers)


def verdicts(facts: dict[str, Fact], answers: Answers | None = None) -> dict[str, str]:
    a = evaluate(K.catalogue, [], answers or Answers(), K.checks, K.messages, load_reference(), NOW.date(), facts)
    return {m.measure.id: m.verdict.value for m in a.measures if m.measure.id.startswith("SAV")}


def evidence(facts: dict[str, Fact], measure: str) -> str:
    a = evaluate(K.catalogue, [], Answers(), K.checks, K.messages, load_reference(), NOW.date(), facts)
    return " | ".join(e.text for m in a.measures if m.measure.id == measure for e in m.evidence)


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
    assert judge(plan, [ok("d1")], [])["SAV-03"] == "fail"
    old = VerificationRecord("d1", NOW - timedelta(days=250), "passed", "abcd", True, "1/30", 10, 1000)
    assert judge(plan, [ok("d1")], [old])["SAV-03"] == "warn"
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
    # One command: a failed backup must not skip the drill, and the unit fails if either step does.
    assert "ExecStart=/opt/officine/bin/officine backup run --verifier" in service
    assert "ExecStartPost" not in service
    assert sorted(remove_schedule(tmp_path)) == sorted(written)
    assert not list(tmp_path.iterdir())
    assert "schtasks /Create" in windows_task() and "backup run --verifier" in windows_task()


# -- per folder: a newer miss beats an older success ------------------------------------------
SRC2 = [Source(path="/srv/lgo", lgo=True, label="LGO"), Source(path="/srv/docs")]


def run_with(dest_id: str, hours_ago: float, status: str, **sources: str) -> RunRecord:
    """A run that found each folder in the given state ('ok', 'missing', 'empty', 'shrunk')."""
    at = NOW - timedelta(hours=hours_ago)
    entries = {
        f"/srv/{name}": {"state": state, "files": 0 if state == "empty" else 10} for name, state in sources.items()
    }
    snapshot = None if status == "failed" and all(v in ("missing", "empty") for v in sources.values()) else "ef01"
    code = next((f"source_{v}" for v in sources.values() if v != "ok"), None)
    return RunRecord(dest_id, at, at, status, snapshot, 10, error_code=code, message="…", details={"sources": entries})


def test_a_partial_run_is_not_a_success_for_the_folder_it_missed() -> None:
    plan = Plan(sources=SRC2, destinations=[dest("d1"), dest("d2", "rotated_disk", "domicile")])
    older_success = run_with("d2", 10, "success", lgo="ok", docs="ok")
    newer_miss = run_with("d1", 2, "failed", lgo="missing", docs="ok")
    facts = build_state(plan, [older_success, newer_miss], [drilled("d1"), drilled("d2")], {}, {}, NOW)
    assert verdicts(facts)["SAV-01"] == "fail"
    assert "« LGO » n'a pas été sauvegardé" in evidence(facts, "SAV-01")
    assert "introuvable" in evidence(facts, "SAV-01")
    # Saved again afterwards, on any destination: the miss is behind us.
    later = run_with("d2", 1, "success", lgo="ok", docs="ok")
    facts = build_state(plan, [older_success, newer_miss, later], [drilled("d1"), drilled("d2", 0.5)], {}, {}, NOW)
    assert verdicts(facts)["SAV-01"] == "pass"


def test_an_emptied_folder_breaks_the_321_rule_because_the_original_is_gone() -> None:
    plan = Plan(sources=SRC2, destinations=[dest("d1"), dest("d2", "rotated_disk", "domicile")])
    good = [run_with("d1", 20, "success", lgo="ok", docs="ok"), run_with("d2", 20, "success", lgo="ok", docs="ok")]
    drills = [drilled("d1", 19), drilled("d2", 19)]
    assert judge(plan, good, drills)["SAV-05"] == "pass"
    emptied = run_with("d1", 1, "failed", lgo="empty", docs="ok")
    facts = build_state(plan, [*good, emptied], drills, {}, {}, NOW)
    result = verdicts(facts)
    assert result["SAV-05"] == "fail" and result["SAV-01"] == "fail"
    assert "l'original ne compte pas" in evidence(facts, "SAV-05")
    assert "ne contient plus aucun fichier" in evidence(facts, "SAV-01")


def test_a_shrunk_folder_is_a_miss_until_the_drop_is_accepted() -> None:
    plan = Plan(sources=SRC2, destinations=[dest("d1")])
    runs = [run_with("d1", 20, "success", lgo="ok", docs="ok"), run_with("d1", 2, "failed", lgo="shrunk", docs="ok")]
    assert judge(plan, runs, [drilled("d1", 19)])["SAV-01"] == "fail"
    accepted = run_with("d1", 1, "success", lgo="accepted", docs="ok")
    assert judge(plan, [*runs, accepted], [drilled("d1", 0.5)])["SAV-01"] == "pass"


def test_older_runs_that_only_listed_missing_folders_are_still_read() -> None:
    plan = Plan(sources=SRC2, destinations=[dest("d1")])
    at = NOW - timedelta(hours=1)
    legacy = RunRecord("d1", at, at, "partial", "ab12", 10, details={"missing_sources": ["/srv/docs"]})
    facts = build_state(plan, [ok("d1", 30), legacy], [drilled("d1")], {}, {}, NOW)
    assert verdicts(facts)["SAV-01"] == "fail"
    assert "/srv/docs" in evidence(facts, "SAV-01")


# -- the repository wins over the records -----------------------------------------------------
@pytest.mark.parametrize("code", sorted(REPOSITORY_LOST))
def test_a_repository_that_contradicts_the_records_cancels_its_copies(code: str) -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1"), dest("d2", "rotated_disk", "domicile")])
    runs = [ok("d1", 3), ok("d2", 3)]
    before = judge(plan, runs, [drilled("d1", 2), drilled("d2", 2)])
    assert before["SAV-05"] == "pass" and before["SAV-01"] == "pass"
    broken = [drilled("d1", 2), drilled("d2", 2), drilled("d2", 1, "failed", code)]
    after = judge(plan, runs, broken)
    assert after["SAV-05"] == "fail"  # the home copy no longer counts
    assert after["SAV-03"] == "fail"
    assert after["SAV-01"] == "pass"  # d1 still holds today's proven backup
    # The same contradiction on the only destination: nothing is left to count.
    alone = Plan(sources=SRC, destinations=[dest("d1")])
    lost = judge(alone, [ok("d1", 3)], [drilled("d1", 2), drilled("d1", 1, "failed", code)])
    assert lost["SAV-01"] == "fail" and lost["SAV-03"] == "fail" and lost["SAV-04"] == "unknown"


def test_a_lost_repository_seen_by_a_run_voids_the_older_drill() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    gone = RunRecord("d1", NOW - timedelta(hours=1), NOW, "failed", error_code="repository_gone", message="a disparu")
    facts = build_state(plan, [ok("d1", 3), gone], [drilled("d1", 2)], {}, {}, NOW)
    result = verdicts(facts)
    assert result["SAV-03"] == "fail" and result["SAV-01"] == "fail"
    assert "ne contient plus" in evidence(facts, "SAV-03")


def test_trust_comes_back_with_a_passing_drill_for_what_came_after() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    lost = drilled("d1", 5, "failed", "snapshot_missing")
    runs = [ok("d1", 6), ok("d1", 4)]
    assert judge(plan, runs, [lost])["SAV-01"] == "fail"  # the 4-hour-old run is not proven yet
    assert judge(plan, runs, [lost, drilled("d1", 3)])["SAV-01"] == "pass"


# -- copies count only when proven -------------------------------------------------------------
def test_an_unverified_copy_does_not_count() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1"), dest("d2", "rotated_disk", "domicile")])
    runs = [ok("d1"), ok("d2")]
    assert judge(plan, runs, [drilled("d1")])["SAV-05"] == "fail"
    assert judge(plan, runs, [drilled("d1"), drilled("d2")])["SAV-05"] == "pass"
    # A newer failed drill on d2 (here: a file differing from its original) takes it out again.
    assert (
        judge(plan, runs, [drilled("d1"), drilled("d2", 2), drilled("d2", 1, "failed", "mismatch")])["SAV-05"] == "fail"
    )


def test_a_disk_that_comes_and_goes_without_a_proven_copy_is_not_the_disconnected_copy() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1", "rotated_disk", "domicile")])
    sightings = {"d1": [*_seen("d1", [24 * 6, 1]), *_seen("d1", [24 * 2], present=False)]}
    sightings["d1"].sort(key=lambda s: s.at)
    first = {"d1": NOW - timedelta(days=6)}
    assert judge(plan, [ok("d1")], [drilled("d1")], sightings, first)["SAV-02"] == "pass"
    facts = build_state(plan, [ok("d1")], [], sightings, first, NOW)
    assert verdicts(facts)["SAV-02"] == "fail"
    assert "aucune copie récente" in evidence(facts, "SAV-02")


def test_encryption_is_judged_on_a_proven_current_copy_only() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    assert judge(plan, [ok("d1")])["SAV-04"] == "pass"
    assert judge(plan, [], [])["SAV-04"] == "unknown"
    assert judge(plan, [ok("d1")], [])["SAV-04"] == "unknown"  # never verified
    failed_today = RunRecord("d1", NOW - timedelta(minutes=30), NOW, "failed", error_code="disk_full", message="plein")
    result = judge(plan, [ok("d1", 20), failed_today], [drilled("d1", 19)])
    assert result["SAV-04"] == "unknown" and result["SAV-01"] == "warn"


def test_a_newer_failure_turns_a_recent_backup_into_a_warning() -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1")])
    locked = RunRecord("d1", NOW - timedelta(hours=1), NOW, "failed", error_code="locked", message="verrouillé")
    facts = build_state(plan, [ok("d1", 3), locked], [drilled("d1", 2)], {}, {}, NOW)
    assert verdicts(facts)["SAV-01"] == "warn"
    assert "a échoué : verrouillé" in evidence(facts, "SAV-01")
    # An absent disk is no failure: the rotated disk at home is where it should be.
    absent = RunRecord("d1", NOW - timedelta(hours=1), NOW, "absent", error_code="absent", message="pas branché")
    assert judge(plan, [ok("d1", 3), absent], [drilled("d1", 2)])["SAV-01"] == "pass"


def test_an_unreadable_plan_is_unknown_whatever_the_answers_say() -> None:
    answers = Answers(values={"SAV-01.q1": "oui", "SAV-02.q1": "oui", "SAV-03.q1": "moins_6_mois"})
    assert verdicts(build_state(None, [], [], {}, {}, NOW), answers)["SAV-01"] == "pass"  # no plan: answers
    result = verdicts(unreadable_plan("Plan de sauvegarde illisible"), answers)
    assert set(result.values()) == {"unknown"}


# -- destroying the backup never improves a verdict --------------------------------------------
RANK = {"not_applicable": 0, "pass": 1, "warn": 2, "needs_answer": 3, "unknown": 4, "fail": 5}
_dest_ids = st.sampled_from(["d1", "d2"])
_runs = st.builds(
    lambda d, h, status, code: RunRecord(
        d,
        NOW - timedelta(hours=h),
        NOW - timedelta(hours=h),
        status,
        "ab12" if status != "failed" else None,
        10,
        error_code=code,
    ),
    _dest_ids,
    st.floats(min_value=1, max_value=24 * 20),
    st.sampled_from(["success", "partial", "failed", "absent"]),
    st.sampled_from([None, "locked", "disk_full", "wrong_password", "absent"]),
)
_drills = st.builds(
    lambda d, h, status, code: drilled(d, h, status, None if status == "passed" else code),
    _dest_ids,
    st.floats(min_value=1, max_value=24 * 200),
    st.sampled_from(["passed", "failed"]),
    st.sampled_from(["mismatch", "locked", "corrupted", "absent", "source_changed"]),
)
_sightings = st.builds(
    lambda d, h, present: Sighting(d, NOW - timedelta(hours=h), present),
    _dest_ids,
    st.floats(min_value=1, max_value=24 * 20),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    runs=st.lists(_runs, max_size=8),
    drills=st.lists(_drills, max_size=6),
    seen=st.lists(_sightings, max_size=8),
    victim=_dest_ids,
    code=st.sampled_from(sorted(REPOSITORY_LOST)),
)
def test_destroying_a_repository_never_improves_a_verdict(
    runs: list[RunRecord], drills: list[VerificationRecord], seen: list[Sighting], victim: str, code: str
) -> None:
    plan = Plan(sources=SRC, destinations=[dest("d1"), dest("d2", "rotated_disk", "domicile")])
    sightings = {d: sorted((s for s in seen if s.destination_id == d), key=lambda s: s.at) for d in ("d1", "d2")}
    first = {d: min((s.at for s in sightings[d]), default=None) for d in ("d1", "d2")}
    before = judge(plan, runs, drills, sightings, first)
    # Now: the repository is found gone, damaged or contradicting the records.
    destroyed = [*drills, drilled(victim, 0.5, "failed", code)]
    after = judge(plan, runs, destroyed, sightings, first)
    for measure, verdict in before.items():
        assert RANK[after[measure]] >= RANK[verdict], (measure, verdict, after[measure])
