"""The French audit report in a terminal (Rich)."""

from __future__ import annotations

import re

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from officine.catalogue.loader import Messages
from officine.catalogue.model import Verdict
from officine.dates import day, moment
from officine.evaluate import Assessment, MeasureResult
from officine.report.safe import markup
from officine.services import story
from officine.services.bilan import shown_score

STYLE = {
    Verdict.passed: "green",
    Verdict.warn: "yellow",
    Verdict.fail: "bold red",
    Verdict.unknown: "magenta",
    Verdict.needs_answer: "cyan",
    Verdict.not_applicable: "dim",
}
EXCEPTED = "⊘"
PRIORITY_SHOWN = 5  # as on the dashboard's home page
SYMBOL = {
    Verdict.passed: "✔",
    Verdict.warn: "!",
    Verdict.fail: "✘",
    Verdict.unknown: "?",
    Verdict.needs_answer: "✎",
    Verdict.not_applicable: "–",
}


def _label(messages: Messages, verdict: Verdict) -> Text:
    return Text(f"{SYMBOL[verdict]} {messages.verdicts.get(verdict.value, verdict.value)}", style=STYLE[verdict])


def _score(score: int | None) -> str:
    return "—" if score is None else f"{score}/100"


def _needing_root(assessment: Assessment, host: dict[str, object]) -> str:
    """The measures a privileged run would have decided, by title (fact names otherwise)."""
    denied = set(host.get("needs_privileges") or [])  # type: ignore[call-overload]
    titles = [
        f"{r.measure.id} {r.measure.title}"
        for r in assessment.measures
        if r.verdict in (Verdict.unknown, Verdict.needs_answer)
        and any(e.host == host.get("hostname") and e.values.get("fact") in denied for e in r.evidence)
    ]
    return ", ".join(titles) or ", ".join(sorted(denied))


def _code(text: str) -> str:
    """A catalogue text for the terminal: made safe, `commands` in bold."""
    return re.sub(r"`([^`]+)`", r"[bold]\1[/bold]", markup(" ".join(text.split())))


def _hosts(assessment: Assessment) -> str:
    """The workstations judged, with their collection time in Paris; a long list is cut."""
    names = [f"{markup(h['hostname'])} ({moment(str(h['collected_at']))})" for h in assessment.hosts]
    shown, more = story.shorten(names)
    return ", ".join(shown) + (f" … et {more} autres" if more else "")


def render(assessment: Assessment, messages: Messages, console: Console, verbose: bool = True) -> None:
    """Everything from a snapshot or an answers file goes through `markup()`: escapes and
    markup in a hostname or an evidence text are shown, never obeyed."""
    doc = assessment.to_json()
    n = len(assessment.hosts)
    console.rule("[bold]Bilan de cybersécurité de l'officine")
    console.print(f"{'Poste audité' if n <= 1 else f'{n} postes audités'} : {_hosts(assessment) or 'aucun'}")
    for h in assessment.hosts:
        if h.get("needs_privileges"):
            console.print(
                f"[yellow]Audit de {markup(h['hostname'])} lancé sans droits administrateur :[/yellow] "
                f"relancez avec sudo pour vérifier aussi : {markup(_needing_root(assessment, h))}."
            )
    covers = "ce poste" if n == 1 else f"ces {n} postes"
    console.print(
        f"Note globale : [bold]{_score(assessment.score)}[/bold] pour {covers}  "
        "(les points non vérifiables ou sans réponse ne comptent pas comme acquis)"
    )
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Pratique", overflow="fold")
    table.add_column("Note", justify="right", no_wrap=True)
    order = (Verdict.passed, Verdict.warn, Verdict.fail, Verdict.unknown, Verdict.needs_answer)
    for verdict in order:
        table.add_column(SYMBOL[verdict], justify="right", style=STYLE[verdict], no_wrap=True)
    table.add_column(EXCEPTED, justify="right", style="blue", no_wrap=True)
    counts = story.practice_counts(doc)
    shown_scores = {
        pr["id"]: shown_score(pr["score"], [m for m in doc["measures"] if m["practice"] == pr["id"]])
        for pr in doc["practices"]
    }
    for pr in doc["practices"]:
        c = counts[pr["id"]]
        # The same score as the dashboard: "—" while every measure of the practice awaits an answer.
        table.add_row(
            escape(pr["title"]),
            _score(shown_scores[pr["id"]]),
            *[str(c.by_verdict.get(v.value, 0) or "") for v in order],
            str(c.excepted or ""),
        )
    console.print(table)
    legend = [f"{SYMBOL[v]} {messages.verdicts.get(v.value, v.value)}" for v in order]
    console.print("  ".join([*legend, f"{EXCEPTED} exception acceptée"]), style="dim")

    sections = story.sections(doc)
    if sections.actions:
        console.print("\n[bold]À faire en priorité[/bold]")
        for i, m in enumerate(sections.actions[:PRIORITY_SHOWN], 1):
            label = messages.verdicts.get(m["verdict"], m["verdict"])
            console.print(f" {i}. {escape(m['action'])} [dim]({m['id']}, {label})[/dim]")
        if len(sections.actions) > PRIORITY_SHOWN:
            more = len(sections.actions) - PRIORITY_SHOWN
            console.print(
                f"    … et {more} autre{'s' if more > 1 else ''}{' ci-dessous' if verbose else ''}.", style="dim"
            )
    if sections.questions:
        asked = len(sections.questions)
        console.print(
            f"\n[bold]Questions à répondre ({asked})[/bold] : tableau de bord ou fichier de réponses (--answers)."
        )
        titles = [m["title"] for m in sections.questions]
        shown, more = story.shorten(titles)
        console.print("  " + escape(" · ".join(shown)) + (f" … et {more} autres" if more else ""), style="dim")

    if not verbose:
        return
    by_practice: dict[str, list[MeasureResult]] = {}
    for r in assessment.measures:
        by_practice.setdefault(r.practice_id, []).append(r)
    for p in assessment.practices:
        console.print()
        console.rule(f"[bold]{escape(p.title)}[/bold] — {_score(shown_scores[p.id])}", align="left")
        for r in by_practice.get(p.id, []):
            line = Text.assemble(_label(messages, r.verdict), "  ", (r.measure.id, "bold"), " ", r.measure.title)
            if r.exception is not None:
                line.append(
                    "  [exception acceptée" + (" — EXPIRÉE" if r.exception_expired else "") + "]",
                    style="bold blue",
                )
            console.print(line)
            for e in r.evidence:
                where = f"{e.host} : " if e.host and len(assessment.hosts) > 1 else ""
                console.print(f"     [dim]constat[/dim] {markup(where + e.text)}")
            if r.exception is not None:
                until = f", jusqu'au {day(r.exception.until)}" if r.exception.until else ""
                console.print(
                    f"     [blue]exception[/blue] {markup(r.exception.justification)} "
                    f"({markup(r.exception.by)}, le {day(r.exception.date)}{until})"
                )
            if r.verdict is Verdict.needs_answer:
                for q in r.measure.questions:
                    choices = ", ".join(c.value for c in q.choices)
                    console.print(
                        f"     [cyan]question[/cyan] {escape(' '.join(q.text.split()))} [dim]({q.id} : {choices})[/dim]"
                    )
            if r.verdict in (Verdict.fail, Verdict.warn, Verdict.unknown):
                for advice in r.remediations or [{"hosts": [], "text": r.remediation}]:
                    where = f"({markup(', '.join(advice['hosts']))}) " if advice["hosts"] else ""
                    console.print(f"     [bold]à faire[/bold] {where}{_code(advice['text'])}")
