"""`officine motdepasse …`: test a password, generate one, audit a password manager.

A password is never taken as an argument (it would show in the process list and the shell's
history): it is typed without echo, or read from standard input for scripts."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from officine.errors import UserError

app = typer.Typer(
    no_args_is_help=True,
    help="Mots de passe : tester leur solidité, en générer, auditer le gestionnaire de mots de passe.",
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

CaseOpt = Annotated[
    int,
    typer.Option(
        "--cas",
        min=1,
        max=3,
        help="Cas CNIL : 1 mot de passe seul (défaut), 2 compte qui se bloque après des erreurs, 3 code d'un appareil.",
    ),
]
DbOpt = Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON.")]
KINDS_FR = {
    "empty": "sans mot de passe",
    "common": "mot de passe parmi les plus courants",
    "leaked": "mot de passe divulgué (Pwned Passwords)",
    "weak": "mot de passe faible",
    "reused": "même mot de passe pour plusieurs entrées",
    "similar": "mots de passe presque identiques",
    "expired": "entrée expirée",
}


def _secret(prompt: str) -> str:
    """Typed without echo on a terminal; otherwise the first line of standard input."""
    if sys.stdin.isatty():
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise UserError("Aucun mot de passe saisi.") from None
    line = sys.stdin.readline()
    if not line:
        raise UserError("Aucun mot de passe reçu sur l'entrée standard.")
    return line.rstrip("\r\n")


@app.command("tester")
def test_command(
    case: CaseOpt = 1,
    context: Annotated[
        list[str] | None,
        typer.Option("--contexte", help="Mots connus d'un attaquant (nom de la pharmacie, ville…) ; répétable."),
    ] = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Dit si un mot de passe est acceptable (CNIL) et difficile à deviner. Code retour 1 sinon."""
    from officine.passwords.lists import words_of  # noqa: PLC0415
    from officine.passwords.safety import scrubbed  # noqa: PLC0415
    from officine.services import passwords  # noqa: PLC0415

    words = [w for text in context or [] for w in words_of(text)]
    words += passwords.pharmacy_context(passwords.existing_store(db))
    password = _secret("Mot de passe à tester (rien ne s'affiche) : ")
    with scrubbed("password test"):
        result = passwords.test_password(password, words, case)
    del password
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        title = "[bold green]Acceptable[/bold green]" if result.acceptable else "[bold red]À changer[/bold red]"
        out.print(title)
        for line in result.feedback:
            out.print(f"- {escape(line)}")
    raise typer.Exit(0 if result.acceptable else 1)


@app.command("generer")
def generate_command(
    words: Annotated[int | None, typer.Option("--mots", help="Nombre de mots (7 par défaut pour le cas 1).")] = None,
    case: Annotated[int, typer.Option("--cas", min=1, max=2, help="Cas CNIL visé : 1 (défaut) ou 2.")] = 1,
    separator: Annotated[str, typer.Option("--separateur", help="Entre les mots : - (défaut), espace, ., _")] = "-",
    capital: Annotated[bool, typer.Option("--majuscule", help="Un mot en majuscules.")] = False,
    random: Annotated[
        bool, typer.Option("--aleatoire", help="Mot de passe aléatoire (compte de machine, box, NAS).")
    ] = False,
    length: Annotated[int, typer.Option("--longueur", help="Longueur du mot de passe aléatoire.")] = 20,
    no_symbols: Annotated[bool, typer.Option("--sans-speciaux", help="Sans caractère spécial.")] = False,
    count: Annotated[int, typer.Option("--nombre", min=1, max=20, help="Combien en proposer.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Propose une phrase de passe française (ou un mot de passe aléatoire) et son entropie."""
    from officine.passwords import generate  # noqa: PLC0415
    from officine.passwords.lists import diceware_words  # noqa: PLC0415

    made = []
    for _ in range(count):
        if random:
            kinds = ("minuscules", "majuscules", "chiffres") + (() if no_symbols else ("speciaux",))
            made.append(generate.random_password(length, kinds))
        else:
            made.append(generate.passphrase(words, case, separator, capital))
    if as_json:
        print(json.dumps([g.to_json() for g in made], ensure_ascii=False))
        return
    for g in made:
        print(g.secret, flush=True)
    g = made[0]
    cases = ", ".join(str(c) for c in g.case_met) or "aucun"
    if g.kind == "phrase":
        size = len(diceware_words())
        how = f"{g.words} mots tirés au hasard parmi {size:,}".replace(",", " ")
    else:
        how = f"{len(g.secret)} caractères tirés au hasard"
    err.print(f"Entropie : {g.entropy_bits:.0f} bits ({how}) ; cas CNIL satisfaits : {cases}.")
    err.print("Rangez-le dans le gestionnaire de mots de passe ; ne le notez pas près du poste.")


@app.command("audit")
def audit_command(
    file: Annotated[Path, typer.Argument(help="Base KeePass (.kdbx) ou export CSV (Bitwarden, Firefox, Chrome).")],
    keyfile: Annotated[Path | None, typer.Option("--fichier-cle", help="Fichier clé de la base KeePass.")] = None,
    pwned: Annotated[
        Path | None,
        typer.Option("--pwned", help="Liste Pwned Passwords hors ligne (SHA-1, triée par empreinte)."),
    ] = None,
    case: CaseOpt = 1,
    as_json: JsonOpt = False,
    no_save: Annotated[bool, typer.Option("--sans-enregistrer", help="Ne pas enregistrer le rapport.")] = False,
    db: DbOpt = None,
) -> None:
    """Audite un gestionnaire de mots de passe : faibles, courants, divulgués, réutilisés… par titre."""
    from officine.passwords.safety import scrubbed  # noqa: PLC0415
    from officine.services import passwords  # noqa: PLC0415

    if not file.is_file():
        raise UserError(f"Fichier introuvable : {file}.")
    if pwned is not None and not pwned.is_file():
        raise UserError(f"Liste Pwned Passwords introuvable : {pwned}.")
    from officine.passwords.vault import is_keepass  # noqa: PLC0415

    master = None
    if is_keepass(file):
        if keyfile is not None and not keyfile.is_file():
            raise UserError(f"Fichier clé introuvable : {keyfile}. Rien n'a été lu.")
        master = _secret("Mot de passe principal de la base (rien ne s'affiche) : ")
    known = passwords.existing_store(db)  # the pharmacy's own words, if its database exists
    with scrubbed("password-manager audit"):
        outcome = passwords.audit_vault(
            file, master, keyfile, pwned_path=pwned, case=case, context=passwords.pharmacy_context(known)
        )
    del master
    report = outcome.report
    if not no_save:  # written only once everything was read and judged
        from officine.store import Store  # noqa: PLC0415

        passwords.record_audit(known or Store(db), report)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print_report(report.to_json())
    if outcome.export_warning:
        err.print(
            f"[bold]Supprimez maintenant {escape(file.name)}[/bold] : un export contient tous vos mots de passe "
            "en clair. Videz aussi la corbeille."
        )


def _print_report(report: dict[str, Any]) -> None:
    counts = report["counts"]
    out.print(f"[bold]{report['entries']} entrées auditées[/bold] ({escape(str(report['file_name']))}).")
    problems = {k: v for k, v in counts.items() if v}
    if not problems:
        out.print("[green]Aucun mot de passe faible, courant, réutilisé ou vide.[/green]")
    for kind, n in problems.items():
        out.print(f"- {KINDS_FR[kind]} : {n}")
    for f in report["findings"]:
        titles = ", ".join(f"« {t} »" for t in f["titles"])
        out.print(f"  {KINDS_FR[f['kind']]} : {escape(titles)}")
