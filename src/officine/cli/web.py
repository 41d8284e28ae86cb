"""`officine serve` and `officine demo`: the dashboard on this machine."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from officine.errors import UserError

err = Console(stderr=True, highlight=False)
DEFAULT_PORT = 8421


def _check_host(host: str, cert: Path | None) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and cert is None:
        raise UserError(
            f"Le tableau de bord ne s'ouvre au réseau ({host}) qu'en HTTPS : donnez --certificat et --cle. "
            "Sans eux, gardez l'adresse 127.0.0.1 (ce poste seulement)."
        )


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(
                f"Le port {port} est déjà utilisé sur ce poste (le tableau de bord tourne peut-être déjà : "
                f"ouvrez http://127.0.0.1:{port}/). Sinon, choisissez un autre port avec --port."
            ) from exc


def _run(app: object, host: str, port: int, cert: Path | None, key: Path | None, processes: int = 1) -> None:
    """Serve the app; several processes share the work (each builds the app from the environment)."""
    import uvicorn  # noqa: PLC0415

    _check_port(host, port)
    scheme = "https" if cert else "http"
    shown = f"[{host}]" if ":" in host else host
    err.print(
        f"Tableau de bord : [bold]{scheme}://{shown}:{port}/[/bold] — ouvrez cette adresse dans le navigateur "
        "de ce poste (Ctrl+C pour arrêter)."
    )
    uvicorn.run(
        app if processes == 1 else "officine.web.app:create_app_from_environment",  # type: ignore[arg-type]
        factory=processes > 1,
        workers=processes if processes > 1 else None,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
        server_header=False,
        proxy_headers=False,
    )


def serve(
    host: Annotated[str, typer.Option("--hote", help="Adresse d'écoute (défaut : ce poste seulement).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port d'écoute.")] = DEFAULT_PORT,
    db: Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")] = None,
    cert: Annotated[Path | None, typer.Option("--certificat", help="Certificat TLS (pour ouvrir au réseau).")] = None,
    key: Annotated[Path | None, typer.Option("--cle", help="Clé privée du certificat TLS.")] = None,
    processes: Annotated[
        int,
        typer.Option("--processus", min=1, max=16, help="Processus serveur (2 pour une vingtaine de connectés)."),
    ] = 1,
) -> None:
    """Ouvre le tableau de bord de la pharmacie dans le navigateur (http://127.0.0.1:8421/)."""
    from officine.store.db import ENV_URL  # noqa: PLC0415
    from officine.web.app import create_app  # noqa: PLC0415

    _check_host(host, cert)
    if (cert is None) != (key is None):
        raise UserError("Donnez à la fois --certificat et --cle, ou aucun des deux.")
    app = create_app(db)  # checks and migrates the database once, before any process starts
    if db:
        os.environ[ENV_URL] = db  # each server process opens the same database
    _run(app, host, port, cert, key, processes)


def demo(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port d'écoute.")] = DEFAULT_PORT,
) -> None:
    """Démonstration : un tableau de bord d'exemple (base temporaire), avec l'audit de ce poste."""
    from officine.services import accounts, site  # noqa: PLC0415
    from officine.services.pharmacy import Pharmacy  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415
    from officine.web.app import create_app  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="officine-demo-"))
    # Everything of the demo stays in its own folder: the real data and contacts are not touched.
    os.environ["OFFICINE_DATA_DIR"] = str(folder / "donnees")
    os.environ["OFFICINE_CONFIG_DIR"] = str(folder / "config")
    url = f"sqlite:///{folder / 'demo.db'}"
    store = Store(url)
    password = "-".join(secrets.choice(DEMO_WORDS) for _ in range(5))
    accounts.create_admin(store, "demo", password, password, [])
    profile = site.parse_profile(
        {
            "name": "Pharmacie de démonstration",
            "address": "1 place de la Mairie, 00000 Exemple",
            "prestataire.name": "Votre prestataire informatique",
            "team-0-name": "Titulaire (exemple)",
            "team-0-role": "titulaire",
        }
    )
    site.save_profile(store, profile, "demo")
    err.print("Audit de ce poste pour la démonstration…")
    Pharmacy(store).audit_this_machine()
    err.print(
        f"Base de démonstration : {folder}\nIdentifiant : [bold]demo[/bold]  mot de passe : [bold]{password}[/bold]"
    )
    _run(create_app(url, secure_cookies=True), "127.0.0.1", port, None, None)


DEMO_WORDS = (
    "ortie", "lavande", "comptoir", "gelule", "mortier", "pilon", "sirop", "tilleul", "camomille", "verveine",
    "balance", "flacon", "pipette", "sachet", "tisane", "menthe", "romarin", "sauge", "bourrache", "guimauve",
)  # fmt: skip
