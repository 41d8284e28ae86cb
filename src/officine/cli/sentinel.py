"""`officine sentinel …`: watch the data folders for mass encryption, and manage what it stopped."""

from __future__ import annotations

import getpass
import json
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    no_args_is_help=True, help="Sentinelle anti-rançongiciel : voit le chiffrement commencer et l'arrête."
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

DbOpt = Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")]
ByOpt = Annotated[str | None, typer.Option("--par", help="Qui décide (nom et fonction).")]
UnitDirOpt = Annotated[
    Path | None, typer.Option("--unite-dir", help="Dossier du service systemd (défaut : /etc/systemd/system).")
]


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "inconnu"


@app.command()
def watch(
    folders: Annotated[list[str] | None, typer.Argument(help="Dossiers à surveiller.")] = None,
    events_file: Annotated[
        Path | None, typer.Option("--evenements", help="Fichier d'événements (une ligne JSON par événement).")
    ] = None,
    no_suspend: Annotated[
        bool, typer.Option("--sans-suspendre", help="Alerter seulement, sans suspendre le processus.")
    ] = False,
    isolate: Annotated[bool, typer.Option("--isoler", help="Couper aussi le réseau en cas d'alarme.")] = False,
    no_canaries: Annotated[bool, typer.Option("--sans-leurres", help="Ne pas déposer de fichiers-leurres.")] = False,
    mode: Annotated[str, typer.Option("--mode", help="auto, fanotify, inotify ou watchdog.")] = "auto",
    db: DbOpt = None,
) -> None:
    """Surveille les dossiers de données jusqu'à son arrêt (Ctrl+C ou arrêt du service)."""
    from officine.errors import UserError  # noqa: PLC0415
    from officine.sentinel.config import load_settings  # noqa: PLC0415
    from officine.sentinel.engine import Options, Sentinel  # noqa: PLC0415
    from officine.sentinel.service import default_folders  # noqa: PLC0415

    if mode not in ("auto", "fanotify", "inotify", "watchdog"):
        raise UserError(f"Mode inconnu : {mode}. Modes : auto, fanotify, inotify, watchdog.")
    settings = load_settings()
    chosen = list(folders or []) or default_folders(db)
    options = Options(
        events_file=events_file,
        store_url=db,
        suspend=settings.suspend and not no_suspend,
        isolate=settings.isolate or isolate,
        canaries=settings.canaries and not no_canaries,
        watcher=mode,
        say=lambda text: err.print(escape(text)),
    )
    sentinel = Sentinel(chosen, options)
    done = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sentinel.start()
    err.print(
        f"Sentinelle active ({sentinel.watcher.mode}"
        f"{', processus identifiés' if sentinel.watcher.gives_pid else ', sans identification des processus'}) "
        f"sur : {', '.join(sentinel.roots)}."
    )
    if options.canaries:
        err.print(
            "Des fichiers-leurres (« !Inventaire stupéfiants… », « zz-Relevés fournisseurs… », « Scan ordonnance "
            "1xxx.jpg ») ont été déposés dans les dossiers surveillés : ne les ouvrez pas pour les modifier, ne "
            "les supprimez pas. S'ils changent, la sentinelle considère qu'un rançongiciel est à l'œuvre."
        )
    try:
        while not done.wait(1.0):
            pass
    finally:
        sentinel.stop()
        err.print("Sentinelle arrêtée.")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False, db: DbOpt = None) -> None:
    """État de la sentinelle : dossiers surveillés, fichiers indexés, événements, dernière alarme."""
    from officine.sentinel.service import status as read  # noqa: PLC0415

    state = read(db)
    if as_json:
        print(json.dumps(state, ensure_ascii=False, indent=2))
        return
    if state["running"]:
        out.print(f"[green]Sentinelle active[/green] ({state['mode']}).")
        out.print(f"Dossiers surveillés : {escape(', '.join(state['folders']))}")
        out.print(
            f"Fichiers indexés : {state['files_indexed']} ; leurres : {state['canaries']} ; "
            f"événements par seconde : {state['events_per_second']} ; débordements : {state['overflows']}"
        )
    else:
        out.print(
            "[bold red]La sentinelle ne tourne pas sur ce poste.[/bold red] "
            + (
                "Le service est installé : vérifiez « systemctl status officine-sentinel »."
                if state["unit_installed"]
                else "Installez-la avec « sudo officine sentinel install DOSSIER »."
            )
        )
    for alarm in state["unacknowledged_alarms"]:
        out.print(
            f"[bold red]Alarme n° {alarm['id']}[/bold red] du {_french_time(alarm['at'])} : "
            f"{escape(', '.join(alarm['indicators']))} — processus {alarm['pid'] or 'inconnu'}. "
            f"Une fois traitée : officine sentinel ack {alarm['id']}"
        )
    for proc in state["suspended"]:
        cmd = " ".join(proc.get("cmdline") or [])[:80]
        out.print(
            f"[bold yellow]Processus {proc['pid']} suspendu[/bold yellow] ({escape(cmd)}). "
            f"Reprendre : officine sentinel resume {proc['pid']} ; arrêter : officine sentinel end {proc['pid']}"
        )


def _french_time(value: str) -> str:
    from datetime import datetime  # noqa: PLC0415

    return f"{datetime.fromisoformat(value).astimezone():%d/%m/%Y à %H:%M:%S}"


@app.command()
def install(
    folders: Annotated[list[str] | None, typer.Argument(help="Dossiers à surveiller.")] = None,
    directory: UnitDirOpt = None,
    no_enable: Annotated[bool, typer.Option("--sans-activer", help="Écrire le service sans le démarrer.")] = False,
    windows: Annotated[bool, typer.Option("--windows", help="Afficher les commandes pour Windows.")] = False,
    db: DbOpt = None,
) -> None:
    """Installe la sentinelle comme service systemd démarré avec le poste (Windows : commandes affichées)."""
    from officine.sentinel import service  # noqa: PLC0415

    chosen = list(folders or []) or service.default_folders(db)
    if windows:
        out.print("Dans une invite de commandes Windows lancée en administrateur :")
        for line in service.windows_commands(chosen):
            print(line)
        return
    result = service.install(chosen, directory, enable=not no_enable)
    out.print(escape(result.message))


@app.command()
def uninstall(directory: UnitDirOpt = None) -> None:
    """Retire le service et les fichiers-leurres restés intacts."""
    from officine.sentinel import service  # noqa: PLC0415

    for line in service.uninstall(directory):
        out.print(escape(line))


@app.command()
def resume(pid: int, by: ByOpt = None, db: DbOpt = None) -> None:
    """Reprend un processus suspendu par la sentinelle (fausse alerte confirmée)."""
    from officine.sentinel.service import decide  # noqa: PLC0415

    record = decide(pid, "resume", _actor(by), db)
    out.print(
        f"Processus {pid} repris ({escape(' '.join(record.get('cmdline') or [])[:80])}). Décision notée au journal."
    )


@app.command()
def end(pid: int, by: ByOpt = None, db: DbOpt = None) -> None:
    """Arrête définitivement un processus suspendu par la sentinelle."""
    from officine.sentinel.service import decide  # noqa: PLC0415

    decide(pid, "end", _actor(by), db)
    out.print(f"Processus {pid} arrêté. Décision notée au journal. Laissez le poste allumé et appelez le prestataire.")


@app.command()
def ack(alarm_id: int, by: ByOpt = None, db: DbOpt = None) -> None:
    """Marque une alarme comme traitée (elle quitte le bandeau rouge du tableau de bord)."""
    from officine.sentinel.service import acknowledge_alarm  # noqa: PLC0415

    acknowledge_alarm(alarm_id, _actor(by), db)
    out.print(f"Alarme n° {alarm_id} marquée comme traitée.")
