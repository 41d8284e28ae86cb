"""No password ever appears in the database, the server's logs, the process list, the reports or
the error messages: a real server (uvicorn, debug logging, access log) and the real command are
run, every team role tests a password, a vault is audited, the reports are produced, then all of
them are searched for every password involved."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pexpect
import pytest
from pypdf import PdfReader

from officine.passwords.safety import ScrubbedError, scrubbed
from officine.services import accounts
from officine.store import Store
from password_vaults import ALL_PASSWORDS, MASTER, keepass
from web_helpers import PASSWORD, csrf, new_client, post

TESTED_ON_THE_PAGE = "Hibou-Tilleul-Secret-8431"  # typed by a read-only colleague
TESTED_BY_THE_COLLEAGUE = "Pervenche-Ardoise-Secret-5527"
TESTED_AT_THE_COMMAND = "Cerfeuil-Mistral-Secret-2290"
GENERATED = re.compile(r'id="secret" type="text" readonly value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """The dashboard served by uvicorn in its own process, logging everything at debug level."""
    db = tmp_path / "officine.db"
    log = tmp_path / "server.log"
    port = _free_port()
    code = (
        "import logging, sys, uvicorn\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
        "from officine.web.app import create_app\n"
        f"app = create_app({f'sqlite:///{db}'!r}, secure_cookies=False)\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='debug', access_log=True)\n"
    )
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                httpx.get(base + "/connexion", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, db, log
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


class Browser:
    """Cookies by hand (httpx keeps none for 127.0.0.1 on a Secure flag, and these are plain)."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        self.cookies: dict[str, str] = {}

    def _remember(self, r: httpx.Response) -> httpx.Response:
        for header in r.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return r

    def get(self, url: str) -> httpx.Response:
        return self._remember(self.client.get(url, headers=self._headers()))

    def post(self, page: str, url: str, data: dict[str, str]) -> httpx.Response:
        token = csrf(self.get(page).text)
        return self._remember(self.client.post(url, data={"csrf": token, **data}, headers=self._headers()))

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v)}


def _processes_text() -> str:
    """Every process's command line and environment, as `ps` and /proc show them."""
    parts = [subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False).stdout]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            for name in ("cmdline", "environ"):
                try:
                    parts.append((proc / name).read_bytes().decode("utf-8", "replace"))
                except OSError:
                    continue
    return "\n".join(parts)


def _assert_absent(secrets: list[str], **places: str) -> None:
    for where, text in places.items():
        for secret in secrets:
            if len(secret) >= 5:  # "1234", "azerty" are ordinary words of a page
                assert secret not in text, f"{secret!r} found in {where}"


def test_no_password_anywhere_after_a_tester_run_and_an_audit(server: tuple[str, Path, Path], tmp_path: Path) -> None:
    base, db, log = server
    url = f"sqlite:///{db}"
    admin = Browser(base)
    code = accounts.setup_code(Store(url)) or ""
    r = admin.post(
        "/installation",
        "/installation",
        {"setup_code": code, "username": "marie", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert r.status_code == 303, r.text
    r = admin.post(
        "/parametres", "/parametres", {"name": "Pharmacie des Tilleuls", "address": "2 rue du Marché, 69000 Lyon"}
    )
    assert r.status_code == 303

    # A read-only colleague: every signed-in member may test a password.
    r = admin.post("/equipe", "/equipe", {"username": "lea", "full_name": "Léa Martin", "role": "lecture"})
    temporary = re.search(r'class="secret">([a-z0-9-]+)<', r.text)
    assert temporary
    lea = Browser(base)
    r = lea.post("/connexion", "/connexion", {"username": "lea", "password": temporary.group(1)})
    assert r.status_code == 303
    r = lea.post(
        "/compte",
        "/compte",
        {"current": temporary.group(1), "password": TESTED_BY_THE_COLLEAGUE, "confirm": TESTED_BY_THE_COLLEAGUE},
    )
    assert r.status_code == 303, r.text
    r = lea.post("/mots-de-passe", "/mots-de-passe/tester", {"password": TESTED_ON_THE_PAGE, "case": "1"})
    assert r.status_code == 200 and 'id="verdict"' in r.text
    tester_page = r.text
    r = lea.post("/mots-de-passe", "/mots-de-passe/generer", {"kind": "phrase", "words": "7"})
    generated = GENERATED.search(r.text)
    assert r.status_code == 200 and generated
    processes_during_server = _processes_text()

    # The command: the tester without echo, then an audit whose master password is typed.
    env = {**os.environ, "OFFICINE_DATABASE_URL": url, "COLUMNS": "200"}
    tester = pexpect.spawn(
        sys.executable,
        ["-m", "officine", "motdepasse", "tester"],
        env=env,
        encoding="utf-8",
        use_poll=True,
        timeout=120,
    )
    tester.expect("rien ne s'affiche")
    tester.sendline(TESTED_AT_THE_COMMAND)
    tester.expect(pexpect.EOF)
    tester_output = tester.before or ""
    tester.close()
    assert "Acceptable" in tester_output or "À changer" in tester_output

    vault = keepass(tmp_path / "coffre.kdbx")
    audit = pexpect.spawn(
        sys.executable,
        ["-m", "officine", "motdepasse", "audit", str(vault)],
        env=env,
        encoding="utf-8",
        use_poll=True,
        timeout=300,
    )
    audit.expect("rien ne s'affiche")
    audit.sendline(MASTER)
    processes_during_audit = _processes_text()  # the key derivation takes a while: the audit is running
    audit.expect(pexpect.EOF)
    audit_output = audit.before or ""
    audit.close()
    assert audit.exitstatus == 0, audit_output
    assert "entrées auditées" in audit_output

    # A workstation audited from a snapshot, so that the bilan exists (with MDP-04 and MDP-05).
    snapshot = Path(__file__).parent / "fixtures/snapshots/windows10-fr-non-conforme.json"
    workstation = subprocess.run(
        [sys.executable, "-m", "officine", "audit", "--from", str(snapshot), "--db", url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert workstation.returncode in (0, 1), workstation.stderr
    measures = {m["id"]: m for m in json.loads(workstation.stdout)["measures"]}
    assert measures["MDP-04"]["verdict"] == "pass" and measures["MDP-05"]["verdict"] == "fail"

    # The reports: the dashboard's page, the bilan (JSON and PDF), the command's JSON report.
    passwords_page = admin.get("/mots-de-passe").text
    assert "Ameli pro" in passwords_page
    bilan_json = admin.get("/bilan.json").text
    pdf = admin.get("/bilan.pdf").content
    bilan_pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "MDP-05" in bilan_json
    cli_json = subprocess.run(
        [sys.executable, "-m", "officine", "motdepasse", "audit", str(vault), "--json", "--sans-enregistrer"],
        input=MASTER + "\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert cli_json.returncode == 0 and json.loads(cli_json.stdout)["entries"] == 15

    time.sleep(0.5)  # let the server flush its log
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("officine.db*")).decode("latin-1")
    secrets = [TESTED_ON_THE_PAGE, TESTED_AT_THE_COMMAND, *ALL_PASSWORDS]
    _assert_absent(
        secrets,
        database=stored,
        server_log=log.read_text("utf-8", "replace"),
        processes_during_server=processes_during_server,
        processes_during_audit=processes_during_audit,
        tester_page=tester_page,
        tester_output=tester_output,
        audit_output=audit_output,
        passwords_page=passwords_page,
        bilan_json=bilan_json,
        bilan_pdf=bilan_pdf,
        cli_json=cli_json.stdout + cli_json.stderr,
        workstation_audit=workstation.stdout + workstation.stderr,
    )
    # The colleague's own account password is stored as an argon2 hash only.
    _assert_absent([TESTED_BY_THE_COLLEAGUE], database=stored, server_log=log.read_text("utf-8", "replace"))
    # The generated passphrase was shown to the person who asked, and kept nowhere.
    _assert_absent([generated.group(1)], database=stored, server_log=log.read_text("utf-8", "replace"))


def test_an_error_while_a_password_is_in_hand_never_quotes_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Capucine-Basalte-Secret-7713"
    with pytest.raises(ScrubbedError) as raised, scrubbed("test"):
        raise KeyError(secret)
    assert secret not in str(raised.value) and raised.value.__cause__ is None and raised.value.__suppress_context__

    # On the dashboard: a bug in the estimator gives the error page and a log line without it.
    import officine.services.passwords as service

    db = tmp_path / "o.db"
    client = new_client(db)
    from web_helpers import install

    assert install(client, db).status_code == 303

    def broken(password: str, context: object = (), case: int = 1) -> object:
        raise ValueError(f"cannot judge {password}")

    original = service.assess
    service.assess = broken  # type: ignore[assignment]
    try:
        with caplog.at_level(logging.DEBUG):
            r = post(client, "/mots-de-passe", "/mots-de-passe/tester", {"password": secret})
    finally:
        service.assess = original
    assert r.status_code == 500
    assert secret not in r.text and secret not in caplog.text
    assert "ScrubbedError" in caplog.text and "ValueError" in caplog.text

    # At the command: the traceback file written for the IT provider does not quote it either.
    code = (
        "import sys, officine.services.passwords as s\n"
        "def broken(p, c=(), k=1): raise ValueError('cannot judge ' + p)\n"
        "s.assess = broken\n"
        "from officine.cli.main import run\n"
        "run(['motdepasse', 'tester'])\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        input=secret + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        check=False,
    )
    assert r.returncode == 3 and "Erreur interne" in r.stderr
    written = "".join(p.read_text() for p in tmp_path.glob("officine-erreur-*.txt"))
    assert "ScrubbedError" in written and secret not in written and secret not in r.stderr
