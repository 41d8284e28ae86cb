"""What the pages show, computed from an assessment document: no I/O, no HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from officine.services.bilan import practice_state, shown_score

# Better to worse, to say whether a measure progressed between two audits.
GOODNESS = {"pass": 4, "not_applicable": 4, "warn": 3, "needs_answer": 2, "unknown": 1, "fail": 0}


@dataclass
class Tile:
    id: str
    title: str
    summary: str
    score: int | None
    state: str
    counts: dict[str, int]
    excepted: int


@dataclass
class Change:
    id: str
    title: str
    before: str | None
    after: str | None
    kind: str  # better, worse, new, gone


@dataclass
class Chart:
    width: int
    height: int
    points: str  # SVG polyline points
    dots: list[tuple[float, float, str, int]] = field(default_factory=list)  # x, y, label, score
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)


def excepted(measure: dict[str, Any]) -> bool:
    exception = measure.get("exception")
    return bool(exception and not exception.get("expired"))


def tiles(assessment: dict[str, Any], summaries: dict[str, str]) -> list[Tile]:
    measures = assessment.get("measures", [])
    result = []
    for p in assessment.get("practices", []):
        mine = [m for m in measures if m["practice"] == p["id"]]
        result.append(
            Tile(
                p["id"],
                p["title"],
                summaries.get(p["id"], ""),
                shown_score(p["score"], mine),
                practice_state(mine),
                dict(p["counts"]),
                sum(1 for m in mine if excepted(m)),
            )
        )
    return result


def trend(recent: list[tuple[int, datetime, int | None]]) -> int | None:
    """Change of the score since the previous assessment (newest first, as recent_audits gives)."""
    if len(recent) < 2 or recent[0][2] is None or recent[1][2] is None:
        return None
    return recent[0][2] - recent[1][2]


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    before = {m["id"]: m for m in old.get("measures", [])}
    after = {m["id"]: m for m in new.get("measures", [])}
    changes = []
    for mid, m in after.items():
        prev = before.get(mid)
        if prev is None:
            changes.append(Change(mid, m["title"], None, m["verdict"], "new"))
        elif GOODNESS[m["verdict"]] != GOODNESS[prev["verdict"]]:
            kind = "better" if GOODNESS[m["verdict"]] > GOODNESS[prev["verdict"]] else "worse"
            changes.append(Change(mid, m["title"], prev["verdict"], m["verdict"], kind))
    changes += [Change(mid, m["title"], m["verdict"], None, "gone") for mid, m in before.items() if mid not in after]
    order = {"worse": 0, "better": 1, "new": 2, "gone": 3}
    return sorted(changes, key=lambda c: (order[c.kind], c.id))


def chart(series: list[tuple[datetime, int]], width: int = 720, height: int = 240) -> Chart | None:
    if not series:
        return None
    left, right, top, bottom = 40.0, 12.0, 12.0, 28.0
    span_x = width - left - right
    span_y = height - top - bottom
    t0 = series[0][0].timestamp()
    t1 = series[-1][0].timestamp()
    dt = (t1 - t0) or 1.0

    def x(at: datetime) -> float:
        return round(left + (span_x * (at.timestamp() - t0) / dt if len(series) > 1 else span_x / 2), 1)

    def y(score: int) -> float:
        return round(top + span_y * (1 - score / 100), 1)

    coords = [(x(at), y(score), at, score) for at, score in series]
    step = max(1, len(series) // 6)
    x_ticks = [(cx, f"{at:%d/%m/%y}") for cx, _, at, _ in coords[::step]]
    return Chart(
        width,
        height,
        " ".join(f"{cx},{cy}" for cx, cy, _, _ in coords),
        [(cx, cy, f"{at:%d/%m/%Y}", score) for cx, cy, at, score in coords[-60:]],
        [(y(v), v) for v in (0, 25, 50, 75, 100)],
        x_ticks,
    )


@dataclass
class HostFindings:
    """What the current assessment found on one workstation."""

    fail: int
    warn: int
    unknown: int
    privileged: bool
    needs_privileges: list[str]


def host_findings(assessment: dict[str, Any]) -> dict[str, HostFindings]:
    findings = {
        h["hostname"]: HostFindings(0, 0, 0, bool(h.get("privileged")), list(h.get("needs_privileges") or []))
        for h in assessment.get("hosts", [])
    }
    rank = {"warn": 1, "unknown": 2, "fail": 3}
    for m in assessment.get("measures", []):
        # A measure counts once per workstation, under the worst of its findings there.
        worst: dict[str, str] = {}
        for e in m.get("evidence", []):
            name, verdict = e.get("host") or "", e["verdict"]
            if name in findings and verdict in rank and rank[verdict] > rank.get(worst.get(name, ""), 0):
                worst[name] = verdict
        for name, verdict in worst.items():
            setattr(findings[name], verdict, getattr(findings[name], verdict) + 1)
    return findings
