"""What the dashboard shows, computed from assessment documents (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from officine.services.bilan import practice_state
from officine.web import views

VERDICTS = ["pass", "warn", "fail", "unknown", "needs_answer", "not_applicable"]


def measure(mid: str, verdict: str, practice: str = "SAV", exception: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": mid, "title": mid, "practice": practice, "verdict": verdict, "exception": exception}


def doc(*measures: dict[str, Any], score: int = 50) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for m in measures:
        counts[m["verdict"]] = counts.get(m["verdict"], 0) + 1
    return {
        "practices": [{"id": "SAV", "title": "Sauvegardes", "score": score, "counts": counts}],
        "measures": list(measures),
    }


def test_tile_states_worst_first_and_unknown_never_conforme() -> None:
    assert practice_state([measure("A", "pass"), measure("B", "fail")]) == "non_conforme"
    assert practice_state([measure("A", "pass"), measure("B", "needs_answer")]) == "a_renseigner"
    assert practice_state([measure("A", "pass"), measure("B", "unknown")]) == "a_ameliorer"
    assert practice_state([measure("A", "pass"), measure("B", "warn")]) == "a_ameliorer"
    assert practice_state([measure("A", "pass"), measure("B", "not_applicable")]) == "conforme"
    assert practice_state([measure("A", "unknown")]) == "a_ameliorer"


def test_an_accepted_exception_leaves_the_state_an_expired_one_does_not() -> None:
    accepted = {"justification": "x" * 12, "by": "marie", "date": "2026-01-01", "until": None, "expired": False}
    assert practice_state([measure("A", "pass"), measure("B", "fail", exception=accepted)]) == "conforme"
    expired = {**accepted, "expired": True}
    assert practice_state([measure("A", "pass"), measure("B", "fail", exception=expired)]) == "non_conforme"


@given(st.lists(st.sampled_from(VERDICTS), min_size=1, max_size=8))
def test_a_practice_is_conforme_only_when_nothing_is_open(verdicts: list[str]) -> None:
    state = practice_state([measure(f"M{i}", v) for i, v in enumerate(verdicts)])
    open_ = {"fail", "warn", "unknown", "needs_answer"} & set(verdicts)
    assert (state == "conforme") == (not open_)


def test_tiles_show_no_score_while_everything_waits_for_an_answer() -> None:
    waiting = views.tiles(doc(measure("A", "needs_answer"), measure("B", "needs_answer"), score=0), {})
    assert waiting[0].score is None and waiting[0].state == "a_renseigner"
    started = views.tiles(doc(measure("A", "needs_answer"), measure("B", "fail"), score=0), {})
    assert started[0].score == 0


def test_changes_between_audits() -> None:
    old = doc(measure("A", "fail"), measure("B", "pass"), measure("C", "warn"))
    new = doc(measure("A", "pass"), measure("B", "unknown"), measure("D", "pass"))
    changes = {c.id: c.kind for c in views.compare(old, new)}
    assert changes == {"A": "better", "B": "worse", "C": "gone", "D": "new"}
    assert views.compare(old, new)[0].kind == "worse"  # regressions first


def test_chart_scales_scores_inside_the_frame() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    series = [(start + timedelta(days=d), s, 2) for d, s in enumerate([0, 50, 100])]
    chart = views.chart(series, width=400, height=200)
    assert chart is not None
    points = [tuple(map(float, p.split(","))) for p in chart.points.split()]
    assert points[0][0] < points[1][0] < points[2][0]
    assert points[0][1] > points[1][1] > points[2][1]  # higher score, higher on the page
    assert all(0 <= x <= 400 and 0 <= y <= 200 for x, y in points)
    assert views.chart([]) is None
