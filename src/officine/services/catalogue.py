"""The catalogue as surfaces show it (`officine catalogue`)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from officine.services.knowledge import load_knowledge

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
                            {"ref": s.ref, "section": s.section, "title": cat.sources[s.ref].title} for s in m.sources
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


def catalogue_markdown() -> str:
    """docs/catalogue.md, generated from the catalogue so that the two never drift apart."""
    k = load_knowledge()
    cat = k.catalogue
    lines = [
        "# Catalogue des mesures",
        "",
        f"Version {cat.version}. Ce fichier est produit par `officine catalogue --markdown` ; "
        "ne le modifiez pas à la main (la source est `src/officine/catalogue/data/catalogue.yaml`).",
        "",
        "Vérification : *automatique* (observée sur les postes), *question* (réponse d'une personne), "
        "*mixte* (les deux).",
        "",
    ]
    for p in cat.practices:
        lines += [f"## {p.id} — {p.title}", "", " ".join(p.summary.split()), ""]
        lines += [
            "| Mesure | Titre | Gravité | Vérification | Plateformes | Sources |",
            "|---|---|---|---|---|---|",
        ]
        for m in p.measures:
            sources = "; ".join(f"{s.ref}" + (f" {s.section}" if s.section else "") for s in m.sources)
            lines.append(
                f"| {m.id} | {m.title} | {SEVERITY_FR[m.severity.value]} | "
                f"{VERIFICATION_FR[m.verification]} | {', '.join(m.platforms) or '—'} | {sources} |"
            )
        lines.append("")
        for m in p.measures:
            lines += [
                f"### {m.id} — {m.title}",
                "",
                f"*Pourquoi* : {' '.join(m.why.split())}",
                "",
                f"*À faire* : {m.action}",
                "",
            ]
            if m.id in k.checks:
                lines.append("Constats possibles : " + ", ".join(f"`{r}`" for r in k.checks[m.id].reasons) + ".")
                lines.append("")
            for q in m.questions:
                choices = " / ".join(f"{c.label} → {c.verdict.value}" for c in q.choices)
                lines += [f"- Question ({q.audience}) `{q.id}` : {' '.join(q.text.split())} — {choices}"]
            if m.questions:
                lines.append("")
    lines += ["## Sources", "", "| Clé | Document | Éditeur |", "|---|---|---|"]
    for key, s in cat.sources.items():
        lines.append(f"| {key} | {' '.join(s.title.split())} | {s.publisher or ''} |")
    return "\n".join(lines) + "\n"
