"""`officine fleet …`: the provider's server (console and agents' API) on PostgreSQL."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from officine.cli.web import _check_host, _is_loopback, _run, allowed_hosts
from officine.errors import UserError
from officine.report.safe import SafeConsole

app = typer.Typer(no_args_is_help=True, help="Parc : la console d'un prestataire pour toutes ses pharmacies.")
out = SafeConsole()
err = SafeConsole(stderr=True)
DEFAULT_PORT = 8431
FACTORY = "officine.fleet.web.app:create_fleet_app_from_environment"
FleetDb = Annotated[
    str | None,
    typer.Option("--db", help="Base PostgreSQL du parc (ou la variable OFFICINE_FLEET_DATABASE_URL)."),
]


def _relay(host: str | None, port: int, security: str, username: str | None, password_file: Path | None, sender: str):  # type: ignore[no-untyped-def]
    from officine.fleet.notify import Relay  # noqa: PLC0415

    if host is None:
        return None
    relay = Relay(host, port, security, username, str(password_file) if password_file else None, sender)
    relay.check()
    return relay


@app.command("serve")
def serve(
    db: FleetDb = None,
    host: Annotated[
        str, typer.Option("--hote", help="Adresse d'écoute (défaut : ce serveur seulement).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port d'écoute.")] = DEFAULT_PORT,
    cert: Annotated[
        Path | None, typer.Option("--certificat", help="Certificat TLS (obligatoire hors 127.0.0.1).")
    ] = None,
    key: Annotated[Path | None, typer.Option("--cle", help="Clé privée du certificat TLS.")] = None,
    names: Annotated[
        list[str] | None, typer.Option("--nom", help="Nom sous lequel les postes et navigateurs joignent le serveur.")
    ] = None,
    smtp_host: Annotated[str | None, typer.Option("--smtp-hote", help="Relais SMTP des alertes par courriel.")] = None,
    smtp_port: Annotated[int, typer.Option("--smtp-port", min=1, max=65535, help="Port du relais SMTP.")] = 587,
    smtp_security: Annotated[
        str, typer.Option("--smtp-securite", help="starttls, tls, ou aucune (relais sur ce serveur seulement).")
    ] = "starttls",
    smtp_user: Annotated[str | None, typer.Option("--smtp-compte", help="Compte du relais SMTP.")] = None,
    smtp_password_file: Annotated[
        Path | None, typer.Option("--smtp-mot-de-passe-fichier", help="Fichier qui contient le mot de passe SMTP.")
    ] = None,
    processes: Annotated[
        int, typer.Option("--processus", min=1, max=16, help="Processus serveur (ils se partagent aussi le travail).")
    ] = 1,
    smtp_sender: Annotated[
        str, typer.Option("--smtp-expediteur", help="Adresse d'expédition des alertes.")
    ] = "officine-cyber@localhost",
) -> None:
    """Ouvre la console du parc et l'API des agents (PostgreSQL obligatoire)."""
    from dataclasses import asdict  # noqa: PLC0415

    from officine.fleet.notify import ENV_RELAY  # noqa: PLC0415
    from officine.fleet.tenancy import ENV_FLEET_URL, Fleet  # noqa: PLC0415
    from officine.fleet.web.app import create_fleet_app  # noqa: PLC0415
    from officine.services import accounts  # noqa: PLC0415
    from officine.web.app import ENV_ALLOWED_HOSTS  # noqa: PLC0415

    _check_host(host, cert)
    if (cert is None) != (key is None):
        raise UserError("Donnez à la fois --certificat et --cle, ou aucun des deux.")
    for path in (cert, key):
        if path is not None and not path.is_file():
            raise UserError(f"Le fichier {path} n'existe pas.")
    relay = _relay(smtp_host, smtp_port, smtp_security, smtp_user, smtp_password_file, smtp_sender)
    if relay is not None:
        os.environ[ENV_RELAY] = json.dumps(asdict(relay))
    fleet = Fleet(db)  # checks the address, reaches the server and migrates, before listening
    hosts = allowed_hosts(host, cert, names or [])
    app = create_fleet_app(fleet, allowed_hosts=hosts)
    # Each server process builds the same app from the environment: same database, same names.
    os.environ[ENV_FLEET_URL] = fleet.url
    os.environ[ENV_ALLOWED_HOSTS] = json.dumps(hosts)
    code = accounts.setup_code(fleet.home)
    _run(app, host, port, cert, key, hosts, code, processes, banner=_banner, factory=FACTORY)


def _banner(host: str, port: int, tls: bool, names: Sequence[str], code: str | None) -> None:
    scheme = "https" if tls else "http"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - compared, not bound
    address = f"{scheme}://{f'[{shown}]' if ':' in shown else shown}:{port}/"
    err.print(f"Console du parc : [bold]{escape(address)}[/bold]")
    if _is_loopback(host):
        err.print(
            "Elle n'écoute que ce serveur : les postes des pharmacies la joignent par un reverse proxy "
            "(voir le guide du prestataire), ou relancez avec --hote, --certificat et --cle."
        )
    else:
        others = ", ".join(escape(n) for n in names if n not in ("127.0.0.1", "localhost", "::1"))
        err.print(
            f"[bold]La console et l'API des agents sont accessibles depuis le réseau[/bold] ({others}), en HTTPS."
        )
    if code:
        err.print(
            f"Code d'installation : [bold]{code}[/bold] — à saisir sur la page « Premier démarrage » pour créer "
            "l'organisation et son compte administrateur."
        )
    err.print("Ctrl+C pour arrêter la console.")


@app.command("travaux")
def run_jobs(db: FleetDb = None) -> None:
    """Fait tout de suite le travail en attente (jugements, alertes) sans ouvrir la console."""
    from officine.fleet import jobs  # noqa: PLC0415
    from officine.fleet.tenancy import Fleet  # noqa: PLC0415
    from officine.fleet.work import HANDLERS  # noqa: PLC0415

    done = jobs.run_pending(Fleet(db), HANDLERS)
    out.print(f"{done} travail(aux) fait(s).")


@app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="Identifiant du compte de la console.")],
    db: FleetDb = None,
) -> None:
    """Remplace le mot de passe oublié d'un compte de la console (à taper sur le serveur)."""
    from officine.fleet.tenancy import Fleet  # noqa: PLC0415
    from officine.services import accounts  # noqa: PLC0415

    home = Fleet(db).home
    accounts.require_account(home, username)  # before asking for a password
    if sys.stdin.isatty():
        password = typer.prompt("Nouveau mot de passe", hide_input=True)
        confirm = typer.prompt("Confirmez le nouveau mot de passe", hide_input=True)
    else:  # a script: the password on the first line of the standard input, never in the arguments
        password = confirm = sys.stdin.readline().rstrip("\r\n")
    accounts.reset_password(home, username, password, confirm, [])
    out.print(
        f"Mot de passe du compte « {escape(username)} » de la console remplacé ; le compte est débloqué "
        "et ses sessions ouvertes sont fermées."
    )
