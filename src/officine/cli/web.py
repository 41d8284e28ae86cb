"""`officine serve` and `officine demo`: the dashboard on this machine; and what only the machine
itself may do for the dashboard's accounts (setup code, unlock, forgotten password)."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
import ssl
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from officine.errors import UserError
from officine.report.safe import SafeConsole

out = SafeConsole()
err = SafeConsole(stderr=True)
DEFAULT_PORT = 8421
DbOption = Annotated[str | None, typer.Option("--db", help="Adresse de la base (défaut : SQLite local).")]


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _check_host(host: str, cert: Path | None) -> None:
    if not _is_loopback(host) and cert is None:
        raise UserError(
            f"Le tableau de bord ne s'ouvre au réseau ({host}) qu'en HTTPS : donnez --certificat et --cle. "
            "Sans eux, gardez l'adresse 127.0.0.1 (ce poste seulement)."
        )


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        if os.name != "nt":  # as uvicorn binds: connections of a stopped server (TIME_WAIT) do not count
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(
                f"Le port {port} est déjà utilisé sur ce poste (le tableau de bord tourne peut-être déjà : "
                f"ouvrez http://127.0.0.1:{port}/). Sinon, choisissez un autre port avec --port."
            ) from exc


def _certificate_names(cert: Path | None) -> list[str]:
    """The names and addresses a TLS certificate is valid for: browsers reach the dashboard by
    those, so the dashboard answers to them."""
    if cert is None:
        return []
    try:
        decoded = ssl._ssl._test_decode_cert(str(cert))  # type: ignore[attr-defined]
    except (ssl.SSLError, OSError, AttributeError):
        return []
    return [str(value) for kind, value in decoded.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]


def allowed_hosts(host: str, cert: Path | None, names: Sequence[str]) -> list[str]:
    """The Host names the dashboard answers to: those of the address it listens on (any name of
    this machine when it listens on all addresses), the certificate's, and the ones given."""
    from officine.web.limits import LOOPBACK_NAMES, canonical_name  # noqa: PLC0415

    found: list[str] = []
    if _is_loopback(host) or host in ("0.0.0.0", "::"):  # noqa: S104 - compared, not bound
        found += LOOPBACK_NAMES
    if host in ("0.0.0.0", "::"):  # noqa: S104
        found += [socket.gethostname(), socket.getfqdn()]
    else:
        found.append(host)
    found += [*_certificate_names(cert), *names]
    return list(dict.fromkeys(canonical_name(n) for n in found if n.strip()))


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}/"


def _banner(host: str, port: int, tls: bool, names: Sequence[str], code: str | None) -> None:
    scheme = "https" if tls else "http"
    wildcard = host in ("0.0.0.0", "::")  # noqa: S104
    first = _url(scheme, "127.0.0.1" if wildcard else host, port)
    others = [_url(scheme, n, port) for n in names if n not in (host, "127.0.0.1", "localhost", "::1")]
    also = f" (ou {', '.join(escape(o) for o in others)})" if others else ""
    err.print(f"Tableau de bord : [bold]{escape(first)}[/bold]{also}")
    if _is_loopback(host):
        err.print("Ouvrez cette adresse dans le navigateur de ce poste : le tableau de bord n'est visible que d'ici.")
    else:
        err.print(
            "[bold]Attention : le tableau de bord est maintenant accessible depuis le réseau[/bold], pas seulement "
            "depuis ce poste. Tout appareil branché sur le réseau de la pharmacie peut afficher sa page de "
            "connexion. Gardez des mots de passe solides, et arrêtez le serveur quand il ne sert plus."
        )
    if code:
        err.print(
            f"Code d'installation : [bold]{code}[/bold] — à saisir sur la page de premier démarrage pour créer le "
            "compte administrateur (« officine setup-code » le montre de nouveau)."
        )
    err.print("Ctrl+C pour arrêter le tableau de bord.")


def _run(
    app: object,
    host: str,
    port: int,
    cert: Path | None,
    key: Path | None,
    names: Sequence[str],
    code: str | None,
    processes: int = 1,
    banner: Callable[[str, int, bool, Sequence[str], str | None], None] | None = None,
    factory: str = "officine.web.app:create_app_from_environment",
) -> None:
    """Serve the app; several processes share the work (each builds the app from the environment
    with `factory`)."""
    import uvicorn  # noqa: PLC0415

    _check_port(host, port)
    (banner or _banner)(host, port, cert is not None, names, code)
    uvicorn.run(
        app if processes == 1 else factory,  # type: ignore[arg-type]
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
    names: Annotated[
        list[str] | None,
        typer.Option("--nom", help="Autre nom ou adresse sous lequel les postes ouvrent le tableau de bord."),
    ] = None,
    processes: Annotated[
        int,
        typer.Option("--processus", min=1, max=16, help="Processus serveur (2 pour une vingtaine de connectés)."),
    ] = 1,
) -> None:
    """Ouvre le tableau de bord de la pharmacie dans le navigateur (http://127.0.0.1:8421/)."""
    from officine.services import accounts  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415
    from officine.store.db import ENV_URL  # noqa: PLC0415
    from officine.web.app import ENV_ALLOWED_HOSTS, create_app  # noqa: PLC0415

    _check_host(host, cert)
    if (cert is None) != (key is None):
        raise UserError("Donnez à la fois --certificat et --cle, ou aucun des deux.")
    hosts = allowed_hosts(host, cert, names or [])
    app = create_app(db, allowed_hosts=hosts)  # checks and migrates the database once, before any process
    # Each server process builds the same app from the environment: same database, same names.
    if db:
        os.environ[ENV_URL] = db
    os.environ[ENV_ALLOWED_HOSTS] = json.dumps(hosts)
    _run(app, host, port, cert, key, hosts, accounts.setup_code(Store(db)), processes)


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
    _run(create_app(url, secure_cookies=True), "127.0.0.1", port, None, None, [], None)


# -- accounts, from the machine itself -----------------------------------------------------------------


def setup_code(
    new: Annotated[bool, typer.Option("--nouveau", help="Remplace le code (l'ancien ne marche plus).")] = False,
    db: DbOption = None,
) -> None:
    """Affiche le code d'installation demandé au premier démarrage du tableau de bord."""
    from officine.services import accounts  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415

    store = Store(db)
    code = accounts.new_setup_code(store) if new else accounts.ensure_setup_code(store)
    if code is None:
        raise UserError(
            "Le compte administrateur existe déjà : le code d'installation ne sert plus. "
            "Mot de passe oublié : « officine reset-password IDENTIFIANT »."
        )
    out.print(f"Code d'installation : [bold]{code}[/bold]")
    out.print("À saisir sur la page « Premier démarrage » du tableau de bord, avec l'identifiant et le mot de passe.")


def unlock(
    username: Annotated[str, typer.Argument(help="Identifiant du compte bloqué.")],
    db: DbOption = None,
) -> None:
    """Débloque un compte du tableau de bord après trop de mots de passe faux."""
    from officine.services import accounts  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415

    accounts.unlock(Store(db), username)
    out.print(f"Compte « {escape(username)} » débloqué : la connexion est de nouveau possible.")


def reset_password(
    username: Annotated[str, typer.Argument(help="Identifiant du compte (souvent celui du titulaire).")],
    db: DbOption = None,
) -> None:
    """Remplace un mot de passe oublié du tableau de bord (à taper sur ce poste)."""
    from officine.services import accounts, team  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415

    store = Store(db)
    accounts.require_account(store, username)  # before asking for a password
    if sys.stdin.isatty():
        password = typer.prompt("Nouveau mot de passe", hide_input=True)
        confirm = typer.prompt("Confirmez le nouveau mot de passe", hide_input=True)
    else:  # a script: the password on the first line of the standard input, never in the arguments
        password = confirm = sys.stdin.readline().rstrip("\r\n")
    accounts.reset_password(store, username, password, confirm, team.pharmacy_words(store))
    out.print(
        f"Mot de passe du compte « {escape(username)} » remplacé. Le compte est débloqué et réactivé ; "
        "les navigateurs qui y étaient connectés sont déconnectés."
    )


def list_accounts(db: DbOption = None) -> None:
    """Liste les comptes du tableau de bord, leur rôle et leur état."""
    from importlib import resources  # noqa: PLC0415

    from officine.services import team  # noqa: PLC0415
    from officine.store import Store  # noqa: PLC0415
    from officine.yamlio import load_yaml  # noqa: PLC0415

    members = team.members(Store(db))
    if not members:
        out.print("Aucun compte : ouvrez le tableau de bord (officine serve) et créez le compte administrateur.")
        return
    roles = load_yaml(resources.files("officine.web").joinpath("ui.yaml").read_text(encoding="utf-8"))["roles"]
    for m in members:
        state = "désactivé" if m.disabled else "actif"
        name = f" — {escape(m.full_name)}" if m.full_name else ""
        out.print(f"{escape(m.username)}{name} : {roles[m.role]['label'] if m.role in roles else m.role}, {state}")


DEMO_WORDS = (
    "ortie", "lavande", "comptoir", "gelule", "mortier", "pilon", "sirop", "tilleul", "camomille", "verveine",
    "balance", "flacon", "pipette", "sachet", "tisane", "menthe", "romarin", "sauge", "bourrache", "guimauve",
)  # fmt: skip
