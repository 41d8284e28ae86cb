"""Dashboard test helpers: a signed-in client on a fresh database, and form tokens."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from officine import snapshot
from officine.host import LocalHost
from officine.services import accounts
from officine.store import Store
from officine.web.app import create_app

PASSWORD = "Lavande-Comptoir-Pilon-42"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page without a CSRF token"
    return match.group(1)


def new_client(db: Path) -> TestClient:
    # https: the session cookie is Secure, as in a browser on 127.0.0.1.
    app = create_app(f"sqlite:///{db}", allowed_hosts=["testserver"])
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=False)


def setup_code(db: Path) -> str | None:
    """The one-time code the terminal that started the server shows (None once an account exists)."""
    return accounts.setup_code(Store(f"sqlite:///{db}"))


def install(client: TestClient, db: Path, username: str = "marie", password: str = PASSWORD) -> Any:
    """The first-run form, filled in by the person at the machine (who can read the setup code)."""
    form = {"setup_code": setup_code(db) or "", "username": username, "password": password, "confirm": password}
    return post(client, "/installation", "/installation", form)


def post(client: TestClient, page: str, url: str, data: dict[str, Any], files: Any = None) -> Any:
    """Submit a form the way a browser does: with the token of the page that shows it."""
    token = csrf(client.get(page).text)
    return client.post(url, data={"csrf": token, **data}, files=files, follow_redirects=False)


def signed_in(db: Path, pharmacy: str = "Pharmacie des Tilleuls") -> TestClient:
    client = new_client(db)
    r = install(client, db)
    assert r.status_code == 303, r.text
    r = post(client, "/parametres", "/parametres", {"name": pharmacy, "address": "2 rue du Marché, 69000 Lyon"})
    assert r.status_code == 303, r.text
    return client


def snapshot_file(root: Path, out: Path) -> Path:
    snapshot.save(snapshot.collect(LocalHost(root)), out)
    return out


class Server:
    """The dashboard served for real by uvicorn on a free loopback port, in a thread."""

    def __init__(self, db: Path) -> None:
        self.db = db
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = uvicorn.Config(create_app(f"sqlite:///{db}"), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
