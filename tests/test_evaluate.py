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
    assert [e.verdict for e in acc.evidence] == [Verdict.warn, Verdict.fail]


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
