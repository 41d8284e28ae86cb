"""Dashboard test helpers: a signed-in client on a fresh database, and form tokens."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from officine import snapshot
from officine.host import LocalHost
from officine.web.app import create_app

PASSWORD = "Lavande-Comptoir-Pilon-42"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page without a CSRF token"
    return match.group(1)


def new_client(db: Path) -> TestClient:
    # https: the session cookie is Secure, as in a browser on 127.0.0.1.
    return TestClient(create_app(f"sqlite:///{db}"), base_url="https://testserver", raise_server_exceptions=False)


def post(client: TestClient, page: str, url: str, data: dict[str, Any], files: Any = None) -> Any:
    """Submit a form the way a browser does: with the token of the page that shows it."""
    token = csrf(client.get(page).text)
    return client.post(url, data={"csrf": token, **data}, files=files, follow_redirects=False)


def signed_in(db: Path, pharmacy: str = "Pharmacie des Tilleuls") -> TestClient:
    client = new_client(db)
    r = post(client, "/installation", "/installation", {"username": "marie", "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 303, r.text
    r = post(client, "/parametres", "/parametres", {"name": pharmacy, "address": "2 rue du Marché, 69000 Lyon"})
    assert r.status_code == 303, r.text
    return client


def snapshot_file(root: Path, out: Path) -> Path:
    snapshot.save(snapshot.collect(LocalHost(root)), out)
    return out
