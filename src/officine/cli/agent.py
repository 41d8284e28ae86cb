"""`officine agent …`: this workstation in a provider's fleet (enrol, send, run on its own)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from filelock import Timeout
from rich.markup import escape

from officine.errors import UserError
from officine.report.safe import SafeConsole

app = typer.Typer(no_args_is_help=True, help="Agent du parc : ce poste envoie son état au serveur du prestataire.")
out = SafeConsole()
err = SafeConsole(stderr=True)
DbOpt = Annotated[str | None, typer.Option("--db", help="Base locale du poste (défaut : SQLite local).")]
EXIT_NOT_DELIVERED = 3  # something is still waiting in the queue
LOCK_WAIT_S = 120  # another sending (the timer's) finishes first


@app.command("inscrire")
def enrol(
    url: Annotated[str, typer.Argument(help="Adresse du serveur du parc (https://…).")],
    token: Annotated[str, typer.Option("--jeton", help="Jeton d'inscription créé dans la console.")],
    ca_file: Annotated[
        Path | None, typer.Option("--autorite", help="Certificat d'autorité du serveur (certificat interne).")
    ] = None,
    hostname: Annotated[str | None, typer.Option("--poste", help="Nom du poste (défaut : celui du système).")] = None,
) -> None:
    """Inscrit ce poste au parc avec un jeton à usage unique (il expire après 7 jours)."""
    from officine.agent import send  # noqa: PLC0415

    config = send.enrol(url, token, ca_file, hostname)
    out.print(
        f"Poste inscrit au parc pour « {escape(config.pharmacy)} » (agent {escape(config.agent)}). "
        "La clé privée de l'agent reste sur ce poste. Envoyez maintenant son état : « officine agent envoyer »."
    )


@app.command("envoyer")
def send_now(
    snapshot_file: Annotated[
        Path | None, typer.Option("--instantane", help="Envoyer cet instantané au lieu d'observer ce poste.")
    ] = None,
    no_snapshot: Annotated[
        bool, typer.Option("--sans-instantane", help="N'envoyer que les événements et la file d'attente.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Observe ce poste et envoie l'instantané signé et les événements ; ce qui ne part pas attend."""
    from officine.agent import config as agent_config  # noqa: PLC0415
    from officine.agent import send  # noqa: PLC0415
    from officine.agent.outbox import Outbox  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415

    config, key = agent_config.load()
    document = send.load_snapshot_file(snapshot_file) if snapshot_file is not None else None
    outbox = Outbox()
    collect_problem = None
    try:
        outbox.lock.acquire(timeout=LOCK_WAIT_S)
    except Timeout as exc:
        raise UserError(
            "Un autre envoi de l'agent est en cours sur ce poste (le minuteur ?) : réessayez dans quelques minutes."
        ) from exc
    try:
        if snapshot_file is None and not no_snapshot:
            from officine.services.collect import collect_local  # noqa: PLC0415

            err.print("Observation de ce poste…")
            try:
                document = collect_local().to_json()
            except UserError as exc:  # the events and the queue still go
                collect_problem = exc.message
        send.queue(outbox, Store(db), document)
        result = send.flush(outbox, config, key)
    finally:
        outbox.lock.release()
    if result.sent:
        out.print(f"{result.sent} message(s) reçu(s) par le serveur du parc.")
    if result.set_aside:
        out.print(
            f"{result.set_aside} message(s) refusé(s) comme illisibles par le serveur, mis de côté dans "
            f"{escape(str(outbox.refused_dir))} (rien n'est effacé)."
        )
    if result.problem:
        err.print(escape(result.problem))
        err.print(f"{result.left} message(s) en attente sur ce poste : ils partiront au prochain envoi, dans l'ordre.")
        raise typer.Exit(EXIT_NOT_DELIVERED)
    if collect_problem:
        raise UserError(f"Ce poste n'a pas pu être observé : {collect_problem}")


@app.command("etat")
def status() -> None:
    """Montre l'inscription de ce poste et ce qui attend d'être envoyé."""
    from officine.agent import config as agent_config  # noqa: PLC0415
    from officine.agent.outbox import Outbox  # noqa: PLC0415

    config, _ = agent_config.load()
    outbox = Outbox()
    out.print(f"Serveur : {escape(config.url)}  pharmacie : {escape(config.pharmacy)}  agent : {escape(config.agent)}")
    out.print(f"En attente d'envoi : {len(outbox.pending())} message(s).")


@app.command("installer")
def install(
    every: Annotated[int, typer.Option("--toutes-les", min=15, max=1440, help="Minutes entre deux envois.")] = 60,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--unite-dir", help="Écrire les fichiers systemd ici sans les activer (défaut : /etc/systemd/system)."
        ),
    ] = None,
    windows: Annotated[
        bool, typer.Option("--windows", help="Afficher la tâche planifiée Windows (PowerShell) au lieu d'installer.")
    ] = False,
) -> None:
    """Installe le minuteur systemd qui envoie l'état du poste régulièrement."""
    from officine.agent import config as agent_config  # noqa: PLC0415
    from officine.agent import install as installer  # noqa: PLC0415
    from officine.paths import ENV_CONFIG_DIR, ENV_DATA_DIR  # noqa: PLC0415

    if windows:
        out.print("Dans PowerShell ouvert en administrateur, sur le poste Windows :")
        print(installer.windows_task(every))
        return
    agent_config.load()  # enrolled first: a timer that can only fail helps nobody
    environment = {k: os.environ[k] for k in (ENV_CONFIG_DIR, ENV_DATA_DIR) if os.environ.get(k)}
    written = installer.install_systemd(
        installer.units(every, installer.command_line(), environment), folder, activate=folder is None
    )
    for path in written:
        out.print(f"Écrit : {escape(str(path))}")
    if folder is None:
        out.print(
            f"Minuteur actif : l'état du poste part toutes les {every} minutes (systemctl status officine-agent.timer)."
        )
    else:
        out.print(
            "Fichiers écrits sans activation : copiez-les dans /etc/systemd/system puis "
            "« systemctl enable --now officine-agent.timer »."
        )
