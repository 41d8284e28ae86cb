"""The French audit report in a terminal (Rich)."""

from __future__ import annotations

from datetime import date, datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from officine.catalogue.loader import Messages
from officine.catalogue.model import Verdict
from officine.evaluate import Assessment, MeasureResult
from officine.report.safe import markup

STYLE = {
    Verdict.passed: "green",
    Verdict.warn: "yellow",
    Verdict.fail: "bold red",
    Verdict.unknown: "magenta",
    Verdict.needs_answer: "cyan",
    Verdict.not_applicable: "dim",
}
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


def _when(collected_at: object) -> str:
    """The collection time in French, local time ("29/11/2026 10:00")."""
    try:
        return datetime.fromisoformat(str(collected_at)).astimezone().strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return markup(collected_at)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def render(assessment: Assessment, messages: Messages, console: Console, verbose: bool = True) -> None:
    """Everything from a snapshot or an answers file goes through `markup()`: escapes and
    markup in a hostname or an evidence text are shown, never obeyed."""
    hosts = ", ".join(f"{markup(h['hostname'])} ({_when(h['collected_at'])})" for h in assessment.hosts)
    console.rule("[bold]Bilan de cybersécurité de l'officine")
    console.print(f"Poste(s) audité(s) : {hosts or 'aucun'}")
    for h in assessment.hosts:
        if h.get("needs_privileges"):
            console.print(
                f"[yellow]Audit de {markup(h['hostname'])} lancé sans droits administrateur :[/yellow] "
                f"relancez avec sudo pour vérifier aussi : {markup(_needing_root(assessment, h))}."
            )
    console.print(
        f"Note globale : [bold]{_score(assessment.score)}[/bold]  "
        "(les points non vérifiables ou sans réponse ne comptent pas comme acquis)"
    )
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Pratique", overflow="fold")
    table.add_column("Note", justify="right", no_wrap=True)
    order = (Verdict.passed, Verdict.warn, Verdict.fail, Verdict.unknown, Verdict.needs_answer)
    for verdict in order:
        table.add_column(SYMBOL[verdict], justify="right", style=STYLE[verdict], no_wrap=True)
    for p in assessment.practices:
        table.add_row(escape(p.title), _score(p.score), *[str(p.counts.get(v.value, 0) or "") for v in order])
    console.print(table)
    console.print("  ".join(f"{SYMBOL[v]} {messages.verdicts.get(v.value, v.value)}" for v in order), style="dim")

    if assessment.priorities:
        console.print("\n[bold]À faire en priorité[/bold]")
        for i, r in enumerate(assessment.priorities, 1):
            console.print(f" {i}. {escape(r.measure.action)} [dim]({r.measure.id})[/dim]")

    if not verbose:
        return
    by_practice: dict[str, list[MeasureResult]] = {}
    for r in assessment.measures:
        by_practice.setdefault(r.practice_id, []).append(r)
    for p in assessment.practices:
        console.print()
        console.rule(f"[bold]{escape(p.title)}[/bold] — {_score(p.score)}", align="left")
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
                until = f", jusqu'au {_day(r.exception.until)}" if r.exception.until else ""
                console.print(
                    f"     [blue]exception[/blue] {markup(r.exception.justification)} "
                    f"({markup(r.exception.by)}, le {_day(r.exception.date)}{until})"
                )
            if r.verdict is Verdict.needs_answer:
                for q in r.measure.questions:
                    choices = ", ".join(c.value for c in q.choices)
                    console.print(
                        f"     [cyan]question[/cyan] {escape(' '.join(q.text.split()))} [dim]({q.id} : {choices})[/dim]"
                    )
            if r.verdict in (Verdict.fail, Verdict.warn, Verdict.unknown):
                console.print(f"     [bold]à faire[/bold] {escape(' '.join(r.remediation.split()))}")
