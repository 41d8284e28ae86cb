"""`officine courriel analyser FICHIER`: is this e-mail a trap? Verdict, reasons, what to do.

Everything printed from the message (addresses, subject, names, quoted words) is hostile
input: it goes through `markup()` (control characters shown, Rich markup escaped) or, with
--json, through `json_text`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from officine.report.safe import SafeConsole, json_text, markup

if TYPE_CHECKING:
    from officine.mail.analyse import MailSettings

app = typer.Typer(no_args_is_help=True, help="Analyse d'un courriel suspect, sans rien ouvrir ni cliquer.")
out = SafeConsole()
err = SafeConsole(stderr=True)
_COLOURS = {"dangereux": "bold red", "suspect": "bold yellow", "rien_d_anormal": "bold green"}


def _settings(db: str | None, server: str | None) -> MailSettings:
    """The pharmacy's settings from the dashboard's database, when there is one; the
    analysis never creates a database and goes on without it if it cannot be read."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.mail import analyse  # noqa: PLC0415
    from officine.store.db import default_database_url  # noqa: PLC0415

    url = db or default_database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return analyse.MailSettings(trusted_server=server)
    try:
        from officine.mail.settings import load, settings_from  # noqa: PLC0415
        from officine.store import Store  # noqa: PLC0415

        return settings_from(load(Store(url)), server)
    except UserError as exc:
        err.print(f"[yellow]Réglages du tableau de bord non lus[/yellow] ({markup(exc.message)}) : analyse sans eux.")
        return analyse.MailSettings(trusted_server=server)


@app.command("analyser")
def analyser(
    fichier: Annotated[Path, typer.Argument(help="Le message enregistré (.eml, ou .msg d'Outlook).")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--serveur-de-confiance",
            help="Nom du serveur de réception de la pharmacie (authserv-id), seul cru pour SPF, DKIM et DMARC.",
        ),
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")] = None,
) -> None:
    """Dit si un courriel est dangereux, suspect, ou si rien d'anormal n'a été trouvé, et pourquoi."""
    from officine.mail.analyse import analyse_file  # noqa: PLC0415

    result = analyse_file(fichier, _settings(db, server))
    if as_json:
        print(json_text(result.to_json()))
        return
    colour = _COLOURS[result.verdict]
    out.print(f"[{colour}]{markup(result.title)}[/{colour}] — {markup(result.summary)}")
    out.print(f"De : {markup(result.sender)}   Objet : {markup(result.subject)}")
    weighty = [r for r in result.reasons if r.weight > 0]
    notes = [r for r in result.reasons if r.weight == 0]
    if weighty:
        out.print("\n[bold]Pourquoi :[/bold]")
        for reason in weighty:
            out.print(f"  • [dim]{markup(reason.theme)}[/dim] {markup(reason.text)}")
    if notes:
        out.print("\n[bold]À noter :[/bold]")
        for reason in notes:
            out.print(f"  • [dim]{markup(reason.theme)}[/dim] {markup(reason.text)}")
    out.print("\n[bold]Que faire :[/bold]")
    for advice in result.advice:
        out.print(f"  • {markup(advice)}")
    trusted = result.trusted_server or "aucun (réglez-le avec --serveur-de-confiance ou sur le tableau de bord)"
    out.print(f"\n[dim]Vérifié : {markup(', '.join(result.examined))}. Serveur de confiance : {markup(trusted)}.[/dim]")
