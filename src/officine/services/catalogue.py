"""The catalogue as surfaces show it (`officine catalogue`)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from officine.services.audit import load_knowledge

SEVERITY_FR = {"critical": "critique", "high": "élevée", "medium": "moyenne", "low": "faible"}
VERIFICATION_FR = {"automatic": "automatique", "question": "question", "mixed": "mixte"}


def catalogue_json() -> dict[str, Any]:
    cat = load_knowledge().catalogue
    return {
        "version": cat.version,
        "practices": [
            {
                "id": p.id,
                "title": p.title,
                "summary": p.summary,
                "measures": [
                    {
                        "id": m.id,
                        "title": m.title,
                        "severity": m.severity.value,
                        "verification": m.verification,
                        "platforms": m.platforms,
                        "why": m.why,
                        "action": m.action,
                        "fix": m.fix.model_dump(exclude_none=True),
                        "sources": [
                            {"ref": s.ref, "section": s.section, "title": cat.sources[s.ref].title}
                            for s in m.sources
                        ],
                        "questions": [q.model_dump(mode="json") for q in m.questions],
                    }
                    for m in p.measures
                ],
            }
            for p in cat.practices
        ],
    }


def render_catalogue(console: Console) -> None:
    cat = load_knowledge().catalogue
    console.print(f"[bold]Catalogue des mesures[/bold] (version {cat.version})")
    for p in cat.practices:
        console.print(f"\n[bold]{p.id} — {escape(p.title)}[/bold]")
        for m in p.measures:
            console.print(
                f"  {m.id}  {escape(m.title)}  [dim]({SEVERITY_FR[m.severity.value]}, "
                f"{VERIFICATION_FR[m.verification]})[/dim]"
            )
