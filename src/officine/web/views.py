"""What the pages show, computed from an assessment document: no I/O, no HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from officine.dates import paris
from officine.services import story
from officine.services.bilan import practice_state, shown_score

# Catalogue texts write commands as Markdown code (`ufw enable`); raw HTML is escaped, never rendered.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@lru_cache(maxsize=1024)
def inline_markdown(text: str | None) -> Markup:
    """A catalogue text for a page: `code` shown as code, everything else escaped (catalogue
    texts are few and fixed: each is rendered once per process)."""
    return Markup(_MARKDOWN.renderInline(" ".join((text or "").split())))  # noqa: S704 - escaped by markdown-it


_DOMAIN = re.compile(r"(?<![@/\w.])((?:[a-z0-9-]+\.)+(?:gouv\.fr|fr|com|org|net))(?![\w/@-])")


def with_links(text: str | None) -> Markup:
    """A text that names web sites (cybermalveillance.gouv.fr): escaped, each site a link."""
    escaped = str(escape(" ".join((text or "").split())))
    return Markup(_DOMAIN.sub(r'<a href="https://\1">\1</a>', escaped))  # noqa: S704 - escaped above


# Better to worse, to say whether a measure progressed between two audits.
GOODNESS = {"pass": 4, "not_applicable": 4, "warn": 3, "needs_answer": 2, "unknown": 1, "fail": 0}


@dataclass
class Tile:
    id: str
    title: str
    summary: str
    score: int | None
    state: str
    counts: story.Counts  # each measure once: an accepted exception only as an exception


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
    dots: list[tuple[float, float, str, int, int]] = field(default_factory=list)  # x, y, label, score, hosts
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)


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
                story.count(mine),
            )
        )
    return result


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


def chart(series: list[tuple[datetime, int, int]], width: int = 720, height: int = 240) -> Chart | None:
    """The daily scores as an SVG line; each point says how many workstations it covers."""
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

    coords = [(x(at), y(score), paris(at), score, hosts) for at, score, hosts in series]
    step = max(1, len(series) // 6)
    x_ticks = [(cx, f"{at:%d/%m/%y}") for cx, _, at, _, _ in coords[::step]]
    return Chart(
        width,
        height,
        " ".join(f"{cx},{cy}" for cx, cy, _, _, _ in coords),
        [(cx, cy, f"{at:%d/%m/%Y}", score, hosts) for cx, cy, at, score, hosts in coords[-60:]],
        [(y(v), v) for v in (0, 25, 50, 75, 100)],
        x_ticks,
    )
