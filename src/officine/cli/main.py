"""The `officine` command. Thin: parses options, calls services, prints."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.status import Status
from typer.exceptions import TyperException

from officine import __version__
from officine.errors import UserError
from officine.report.safe import SafeConsole, json_text, markup, terminal_text

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="officine-cyber : l'hygiène cyber de la pharmacie, vérifiée sur ses postes.",
)
from officine.cli.agent import app as agent_app  # noqa: E402
from officine.cli.backup import app as backup_app  # noqa: E402
from officine.cli.fleet import app as fleet_app  # noqa: E402
from officine.cli.incident import app as incident_app  # noqa: E402
from officine.cli.mail import app as mail_app  # noqa: E402
from officine.cli.passwords import app as passwords_app  # noqa: E402
from officine.cli.registers import app as registers_app  # noqa: E402
from officine.cli.registers import questionnaire_app  # noqa: E402
from officine.cli.sentinel import app as sentinel_app  # noqa: E402
from officine.cli.web import demo, list_accounts, reset_password, serve, setup_code, unlock  # noqa: E402

app.add_typer(backup_app, name="backup")
app.add_typer(incident_app, name="incident")
app.add_typer(passwords_app, name="motdepasse")
app.add_typer(sentinel_app, name="sentinel")
app.add_typer(mail_app, name="courriel")
app.add_typer(fleet_app, name="fleet")
app.add_typer(agent_app, name="agent")
app.add_typer(registers_app, name="registre")
app.add_typer(questionnaire_app, name="questionnaire")
app.command()(serve)
app.command()(demo)
app.command("setup-code")(setup_code)
app.command()(unlock)
app.command("reset-password")(reset_password)
app.command("accounts")(list_accounts)
out = SafeConsole()
err = SafeConsole(stderr=True)


def _version(value: bool) -> None:
    if value:
        print(f"officine-cyber {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Affiche la version.")
    ] = False,
) -> None:
    """officine-cyber."""


@app.command()
def audit(
    from_: Annotated[
        list[Path] | None, typer.Option("--from", help="Instantané(s) à analyser au lieu de ce poste.")
    ] = None,
    root: Annotated[Path | None, typer.Option("--root", help="Auditer un système monté dans ce dossier.")] = None,
    answers: Annotated[Path | None, typer.Option("--answers", help="Fichier de réponses (YAML ou JSON).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    fail_under: Annotated[
        int | None,
        typer.Option("--fail-under", min=0, max=100, help="Code retour 1 si la note est inférieure."),
    ] = None,
    brief: Annotated[bool, typer.Option("--bref", help="Seulement la note et les priorités.")] = False,
    no_save: Annotated[bool, typer.Option("--sans-enregistrer", help="Ne pas enregistrer dans l'historique.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")] = None,
) -> None:
    """Audite ce poste (ou un instantané) et affiche le bilan en français."""
    from officine.catalogue.loader import load_messages  # noqa: PLC0415
    from officine.report.terminal import render  # noqa: PLC0415
    from officine.services.audit import run_audit  # noqa: PLC0415

    if from_ and root:
        raise UserError("Choisissez --from (instantané) ou --root (système monté), pas les deux.")
    with _progress(enabled=not as_json and not from_) as progress:
        result = run_audit(
            from_files=from_ or None,
            root=root,
            answers_path=answers,
            progress=progress,
            store_url=db,
            save=not no_save,
        )
    if as_json:
        print(json_text(result.assessment.to_json()))
    else:
        render(result.assessment, load_messages(), out, verbose=not brief)
        if result.audit_id is not None:
            out.print(f"\n[dim]Audit n° {result.audit_id} enregistré dans l'historique.[/dim]")
    score = result.assessment.score
    if fail_under is not None and (score is None or score < fail_under):
        raise typer.Exit(1)


@app.command()
def collect(
    out_file: Annotated[Path | None, typer.Option("--out", help="Fichier où écrire l'instantané.")] = None,
    root: Annotated[Path | None, typer.Option("--root", help="Observer un système monté dans ce dossier.")] = None,
) -> None:
    """Observe ce poste et écrit un instantané JSON (à analyser ici ou ailleurs)."""
    from officine import snapshot  # noqa: PLC0415
    from officine.services.collect import collect_local  # noqa: PLC0415

    with _progress(enabled=out_file is not None) as progress:
        snap = collect_local(root, progress)
    if out_file is None:
        print(snap.dumps())
        return
    snapshot.save(snap, out_file)
    err.print(
        f"Instantané écrit dans {markup(out_file)} ({len(snap.observations)} observations, {len(snap.facts)} constats)."
    )


@app.command()
def catalogue(
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Sortie Markdown (docs/catalogue.md).")] = False,
) -> None:
    """Affiche les mesures vérifiées, par pratique."""
    from officine.services.catalogue import catalogue_json, catalogue_markdown, render_catalogue  # noqa: PLC0415

    if markdown:
        print(catalogue_markdown(), end="")
    elif as_json:
        print(json.dumps(catalogue_json(), ensure_ascii=False, indent=2))
    else:
        render_catalogue(out)


@app.command()
def collector(
    platform: Annotated[str, typer.Argument(help="windows")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Fichier où écrire le script.")] = None,
) -> None:
    """Affiche le script de collecte d'une autre plateforme (Windows : PowerShell, sans installation)."""
    from officine.collectors.windows.script import powershell_script  # noqa: PLC0415

    if platform != "windows":
        raise UserError(f"Plateforme inconnue : {platform}. Seule « windows » a un script de collecte.")
    script = powershell_script()
    if out_file is None:
        print(script, end="")
        return
    # UTF-8 with BOM: what Windows PowerShell 5.1 reads without guessing (the script is ASCII anyway).
    out_file.write_text(script, encoding="utf-8-sig", newline="\r\n")
    err.print(
        f"Script écrit dans {markup(out_file)}. "
        "Sur le poste Windows : powershell -ExecutionPolicy Bypass -File collect.ps1"
    )


@app.command()
def history(
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")] = None,
) -> None:
    """Liste les audits enregistrés et l'évolution de la note."""
    from officine.dates import moment  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415

    rows = Store(db).history()
    if as_json:
        print(
            json_text(
                [{"id": r.id, "date": r.created_at.isoformat(), "score": r.score, "hosts": r.hosts} for r in rows]
            )
        )
        return
    if not rows:
        out.print("Aucun audit enregistré pour l'instant. Lancez « officine audit ».")
        return
    previous: dict[str | None, int] = {}  # the last score of each set of workstations
    for r in reversed(rows):
        # A trend compares audits of the same workstations only.
        before = previous.get(r.scope)
        trend = "" if before is None or r.score is None else f" ({r.score - before:+d})"
        n = len(r.hosts)
        out.print(
            f"n° {r.id}  {moment(r.created_at)}  note {'—' if r.score is None else r.score}{trend}  "
            f"{n} poste{'s' if n > 1 else ''} : {', '.join(markup(h) for h in r.hosts)}"
        )
        if r.score is not None:
            previous[r.scope] = r.score


class _progress:
    """A spinner on stderr while collectors run, only for a person at a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and err.is_terminal
        self._status: Status | None = None

    def __enter__(self) -> Callable[[str], None] | None:
        if not self.enabled:
            return None
        status = err.status("Observation du poste…")
        status.__enter__()
        self._status = status
        done: list[str] = []

        def update(name: str) -> None:
            done.append(name)
            status.update(f"Observation du poste… {len(done)} domaines vérifiés ({name})")

        return update

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)


def run(argv: list[str] | None = None) -> None:
    """Entry point: French messages and exit code 2 for any bad input, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(args=argv, standalone_mode=False, prog_name="officine")
        sys.exit(code if isinstance(code, int) else 0)
    except UserError as exc:
        # A message can quote a file's content (a wrong answer, a hostname): shown, never obeyed.
        err.print(f"[bold red]Erreur :[/bold red] {escape(terminal_text(exc.message))}")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrompu.")
        sys.exit(130)
    except TyperException as exc:
        err.print(
            f"[bold red]Commande incorrecte :[/bold red] {escape(terminal_text(exc.format_message()))}\n"
            "Voir « officine --help » ou « officine COMMANDE --help »."
        )
        sys.exit(2)
    except Exception:
        _internal_error()


def _internal_error() -> None:
    """A bug: say so in French, keep the details in a file for the IT provider."""
    import tempfile  # noqa: PLC0415
    import traceback  # noqa: PLC0415

    with tempfile.NamedTemporaryFile("w", prefix="officine-erreur-", suffix=".txt", delete=False) as fh:
        traceback.print_exc(file=fh)
    err.print(
        "[bold red]Erreur interne d'officine-cyber.[/bold red] Rien n'a été modifié. "
        f"Transmettez le fichier {fh.name} à votre prestataire ou aux développeurs."
    )
    sys.exit(3)
