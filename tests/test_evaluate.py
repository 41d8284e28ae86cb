"""evaluate(): scores, answers, exceptions, priorities, several hosts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from conftest import RootTree
from officine import snapshot
from officine.answers import Answers, load_answers, parse_answers
from officine.catalogue.model import Verdict
from officine.errors import UserError
from officine.evaluate import SEVERITY_WEIGHT, evaluate
from officine.host import LocalHost
from officine.reference import load_reference
from officine.services.audit import load_knowledge

K = load_knowledge()
TODAY = date(2026, 11, 29)


def _eval(snaps: list[snapshot.Snapshot], answers: Answers | None = None, today: date = TODAY):  # type: ignore[no-untyped-def]
    return evaluate(K.catalogue, snaps, answers or Answers(), K.checks, K.messages, load_reference(), today)


def _answers(data: dict[str, object]) -> Answers:
    return parse_answers(data, K.catalogue, Path("reponses.yaml"))


@pytest.fixture
def snap(tree: RootTree) -> snapshot.Snapshot:
    tree.debian()
    return snapshot.collect(LocalHost(tree.path), now=datetime(2026, 11, 28, tzinfo=UTC))


def test_every_measure_has_a_verdict_and_unknowns_never_score(snap: snapshot.Snapshot) -> None:
    a = _eval([snap])
    ids = [m.id for p in K.catalogue.practices for m in p.measures]
    assert [r.measure.id for r in a.measures] == ids
    # Recompute the score by hand from the verdicts: unknown and needs_answer earn nothing.
    total = earned = 0.0
    for r in a.measures:
        if r.verdict is Verdict.not_applicable:
            continue
        w = SEVERITY_WEIGHT[r.measure.severity]
        total += w
        earned += w * {Verdict.passed: 1, Verdict.warn: 0.5}.get(r.verdict, 0)
    assert a.score == round(100 * earned / total)


def test_answers_raise_the_score_and_exceptions_leave_the_denominator(snap: snapshot.Snapshot) -> None:
    before = _eval([snap])
    answered = _eval([snap], _answers({"answers": {"SAV-03.q1": "moins_6_mois"}}))
    assert next(r for r in answered.measures if r.measure.id == "SAV-03").verdict is Verdict.passed
    assert answered.score is not None and before.score is not None and answered.score > before.score
    excepted = _eval(
        [snap],
        _answers(
            {
                "exceptions": [
                    {
                        "measure": "POS-01",
                        "justification": "Serveur isolé, antivirus du prestataire en cours de choix",
                        "by": "M. Dupont (prestataire)",
                        "date": "2026-11-01",
                        "until": "2027-02-01",
                    }
                ]
            }
        ),
    )
    result = next(r for r in excepted.measures if r.measure.id == "POS-01")
    assert result.excepted and result.verdict is Verdict.fail  # still visible, still failing
    assert excepted.score is not None and excepted.score > before.score
    assert "POS-01" not in [r.measure.id for r in excepted.priorities]


def test_expired_exception_counts_again(snap: snapshot.Snapshot) -> None:
    answers = _answers(
        {
            "exceptions": [
                {
                    "measure": "POS-01",
                    "justification": "Temporaire, en attente",
                    "by": "Mme Martin",
                    "date": "2026-01-01",
                    "until": "2026-06-01",
                }
            ]
        }
    )
    result = next(r for r in _eval([snap], answers).measures if r.measure.id == "POS-01")
    assert result.exception_expired and not result.excepted


def test_priorities_are_the_most_severe_failures(snap: snapshot.Snapshot) -> None:
    a = _eval([snap])
    assert 0 < len(a.priorities) <= 5
    weights = [SEVERITY_WEIGHT[r.measure.severity] for r in a.priorities]
    assert weights == sorted(weights, reverse=True)
    assert all(r.verdict is not Verdict.passed for r in a.priorities)


def test_worst_host_decides(tree: RootTree, tmp_path: Path) -> None:
    tree.debian()
    good = snapshot.collect(LocalHost(tree.path))
    tree.write("/etc/passwd", "root:x:0:0::/root:/bin/bash\nbad:x:0:0::/root:/bin/bash\n")
    bad = snapshot.collect(LocalHost(tree.path))
    a = _eval([good, bad])
    acc = next(r for r in a.measures if r.measure.id == "ACC-02")
    assert acc.verdict is Verdict.fail
    by_snapshot = {
        s.snapshot_id: [(e.verdict, e.reason) for e in acc.evidence if e.snapshot_id == s.snapshot_id]
        for s in (good, bad)
    }
    assert by_snapshot[good.snapshot_id] == [(Verdict.warn, "some_admins")]
    # One finding per item: the extra UID 0 account, and no personal account left at all.
    assert by_snapshot[bad.snapshot_id] == [(Verdict.fail, "extra_root"), (Verdict.warn, "only_root")]


def test_no_snapshot_makes_automatic_measures_unknown() -> None:
    a = _eval([])
    assert {r.verdict for r in a.measures if r.measure.verification == "automatic"} == {Verdict.unknown}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"answers": {"XYZ-01.q1": "oui"}}, "n'existe pas"),
        ({"answers": {"SAV-03.q1": "peut-etre"}}, "réponses possibles"),
        ({"answers": {"SAV-03.q1": True}}, "answers › SAV-03.q1"),
        ({"version": 2}, "version 2"),
        ({"unexpected": 1}, "unexpected"),
        (
            {"exceptions": [{"measure": "POS-01", "justification": "court", "by": "X", "date": "2026-01-01"}]},
            "justification",
        ),
        (
            {
                "exceptions": [
                    {
                        "measure": "NOPE-01",
                        "justification": "assez longue ici",
                        "by": "Mme X",
                        "date": "2026-01-01",
                    }
                ]
            },
            "n'existe pas",
        ),
    ],
)
def test_bad_answers_are_refused_in_french(data: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        _answers(data)


def test_answers_file_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("answers: [unclosed\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"ligne 2, colonne 1 : crochet « \[ » non refermé"):
        load_answers(path, K.catalogue)


def test_one_evidence_line_per_finding_and_the_worst_decides(tree: RootTree) -> None:
    from officine.checks.base import CheckSpec, finding, worst
    from officine.facts import observed

    def several(ctx):  # type: ignore[no-untyped-def]
        return worst(
            [
                finding(Verdict.passed, "keys_only", "a", source="x", root="no"),
                finding(Verdict.warn, "password_auth", "b", source="x", root="no", where="f:3"),
                finding(Verdict.fail, "root_password", "c", source="x", where="f:2"),
                finding(Verdict.fail, "empty_passwords_allowed", "d", source="x", where="f:1"),
            ]
        )

    tree.debian()
    snap = snapshot.collect(LocalHost(tree.path), now=datetime(2026, 11, 28, tzinfo=UTC))
    snap.facts["ssh.server"] = observed({})
    checks = {**K.checks, "POS-06": CheckSpec("POS-06", K.checks["POS-06"].reasons, several)}
    a = evaluate(K.catalogue, [snap], Answers(), checks, K.messages, load_reference(), TODAY)
    result = next(r for r in a.measures if r.measure.id == "POS-06")
    assert result.verdict is Verdict.fail
    assert [(e.verdict, e.item) for e in result.evidence] == [
        (Verdict.passed, "a"),
        (Verdict.warn, "b"),
        (Verdict.fail, "c"),
        (Verdict.fail, "d"),
    ]
    assert all(e.host == snap.hostname and e.snapshot_id == snap.snapshot_id for e in result.evidence)
    assert "f:2" in result.evidence[2].text and "f:1" in result.evidence[3].text
    assert result.to_json()["evidence"][1]["item"] == "b"


def test_worst_keeps_the_first_of_the_worst_findings_as_headline() -> None:
    from officine.checks.base import Outcome, finding, worst

    outcome = worst([finding(Verdict.warn, "w"), finding(Verdict.unknown, "u1"), finding(Verdict.unknown, "u2")])
    assert (outcome.verdict, outcome.reason) == (Verdict.unknown, "u1")
    assert [f.reason for f in outcome.items()] == ["w", "u1", "u2"]
    single = Outcome(Verdict.passed, "ok", {"x": 1})
    assert [(f.verdict, f.reason, f.values) for f in single.items()] == [(Verdict.passed, "ok", {"x": 1})]
    with pytest.raises(ValueError):
        worst([])


def test_an_answer_keeps_every_finding_the_machine_showed(tree: RootTree) -> None:
    """Mixed measure: the answer raises the verdict, each finding keeps what the machine showed."""
    tree.debian()
    snap = snapshot.collect(LocalHost(tree.path), now=datetime(2026, 11, 28, tzinfo=UTC))
    from officine.facts import observed

    snap.facts["software.cloud_sync"] = observed({"clients": [{"name": "OneDrive"}, {"name": "Dropbox"}]})
    question = next(m for p in K.catalogue.practices for m in p.measures if m.id == "AMO-02").questions[0]
    worst_choice = max(
        question.choices, key=lambda c: ["pass", "warn", "needs_answer", "unknown", "fail"].index(c.verdict.value)
    )
    a = _eval([snap], _answers({"answers": {question.id: worst_choice.value}}))
    result = next(r for r in a.measures if r.measure.id == "AMO-02")
    machine = [e for e in result.evidence if e.source == "machine"]
    assert [(e.verdict, e.item) for e in machine] == [(Verdict.warn, "OneDrive"), (Verdict.warn, "Dropbox")]
    from officine.checks.base import COMBINED_RANK

    assert result.verdict is max((Verdict.warn, worst_choice.verdict), key=COMBINED_RANK.__getitem__)
