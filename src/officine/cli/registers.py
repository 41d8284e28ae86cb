"""`officine registre lister|ajouter|exporter|importer`: the pharmacy's registers from the
command line (the same service as the dashboard's pages). Everything printed from an entry is
what a person typed: it goes through `markup()`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from officine.report.safe import SafeConsole, json_text, markup

if TYPE_CHECKING:
    from officine.store import Store

app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Registres de la pharmacie : traitements (RGPD), violations, destructions, cartes (CPS), "
        "prestataires (contrats)."
    ),
)
out = SafeConsole()
err = SafeConsole(stderr=True)
REGISTERS = "traitements, violations, destructions, cartes, prestataires"
Register = Annotated[str, typer.Argument(help=f"Le registre : {REGISTERS}.")]
Db = Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")]
By = Annotated[str | None, typer.Option("--par", help="Votre nom, noté dans l'historique.")]


def _store(db: str | None) -> Store:
    from officine.store import Store  # noqa: PLC0415

    return Store(db)


def _public(register: str) -> str:
    from officine.errors import UserError  # noqa: PLC0415
    from officine.registers.schemas import PUBLIC  # noqa: PLC0415

    if register not in PUBLIC:
        raise UserError(f"Registre inconnu : « {register[:40]} ». Registres : {REGISTERS}.")
    return register


def _by(by: str | None) -> str:
    from officine.cli.incident import _actor  # noqa: PLC0415 - one way to name who acts

    return _actor(by)


@app.command("lister")
def lister(
    registre: Register,
    tout: Annotated[bool, typer.Option("--tout", help="Avec les entrées retirées.")] = False,
    historique: Annotated[int | None, typer.Option("--historique", help="Toutes les versions de l'entrée N.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    db: Db = None,
) -> None:
    """Affiche un registre (le registre des traitements est pré-rempli à la première lecture)."""
    from officine.registers import service  # noqa: PLC0415

    register = _public(registre)
    store = _store(db)
    service.open_register(store, register)
    if historique is not None:
        lines = service.history(store, register, historique)
        if as_json:
            print(json_text(lines))
            return
        for line in lines:
            out.print(
                f"[bold]v{line['version']}[/bold] {markup(line['when'])} — "
                f"{markup(line['by'])} : {markup(line['action'])}"
            )
            for key, value in line["data"].items():
                out.print(f"    {markup(key)} : {markup(value)}")
        return
    data = service.table(store, register, tout)
    if as_json:
        print(json_text({"registre": register, "colonnes": data.columns, "lignes": data.rows}))
        return
    out.print(f"[bold]{markup(data.title)}[/bold] — {len(data.rows)} entrée(s)")
    for row in data.rows:
        out.print("")
        for title, value in zip(data.columns, row, strict=True):
            if value:
                out.print(f"  [dim]{markup(title)} :[/dim] {markup(value)}")


@app.command("ajouter")
def ajouter(
    registre: Register,
    champs: Annotated[list[str], typer.Argument(help="champ=valeur … (voir « officine registre champs REGISTRE »).")],
    par: By = None,
    db: Db = None,
) -> None:
    """Ajoute une entrée ; une valeur refusée est expliquée et rien n'est enregistré."""
    from officine.registers import service  # noqa: PLC0415
    from officine.registers.table import pairs  # noqa: PLC0415

    register = _public(registre)
    label = service.add(_store(db), register, pairs(champs), _by(par))
    out.print(f"[green]Enregistré :[/green] {markup(label)}.")


@app.command("champs")
def champs(registre: Register) -> None:
    """Les champs d'un registre, leur sens et les valeurs permises."""
    from officine.registers import service  # noqa: PLC0415

    for name, title, allowed in service.describe_fields(_public(registre)):
        suffix = f" — valeurs : {', '.join(allowed)}" if allowed else ""
        out.print(f"  [bold]{markup(name)}[/bold] : {markup(title)}{markup(suffix)}")


@app.command("exporter")
def exporter(
    registre: Register,
    fichier: Annotated[Path, typer.Argument(help="Le fichier à écrire : .pdf, .ods, .xlsx ou .json.")],
    db: Db = None,
) -> None:
    """Exporte un registre en PDF, en tableur (ODS, XLSX) ou en JSON (pour `importer`)."""
    from officine.registers import service  # noqa: PLC0415

    register = _public(registre)
    content = service.export(_store(db), register, fichier.suffix.lower().lstrip("."))
    service.write_export(fichier, content)
    out.print(f"[green]Exporté :[/green] {markup(str(fichier))} ({len(content)} octets).")


@app.command("importer")
def importer(
    registre: Register,
    fichier: Annotated[Path, typer.Argument(help="Un export JSON d'un registre.")],
    par: By = None,
    db: Db = None,
) -> None:
    """Ajoute les entrées d'un fichier JSON ; toutes sont vérifiées avant qu'aucune ne soit écrite."""
    from officine.registers import service  # noqa: PLC0415
    from officine.userfiles import read_input  # noqa: PLC0415

    register = _public(registre)
    raw = read_input(fichier, 5 * 1024 * 1024, "Le fichier")
    added = service.import_file(_store(db), register, raw, _by(par))
    out.print(f"[green]{len(added)} entrée(s) importée(s)[/green] dans {markup(register)}.")
