"""The dashboard attacked: by a web page in the pharmacist's browser (DNS rebinding), by another
account on the same machine, by anyone who can reach the port. Each attack is refused or
handled; the legitimate user keeps working."""

from __future__ import annotations

import html
import io
import json
import re
import select
import socket
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path, PurePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from conftest import RootTree
from helpers import officine, stderr_until
from officine import snapshot
from officine.catalogue.loader import load_messages
from officine.errors import UserError
from officine.services import accounts
from officine.services.bilan import bilan_pdf
from officine.store import Store
from officine.store.models import UserRow
from officine.web.app import create_app
from web_helpers import PASSWORD, Server, csrf, install, new_client, post, setup_code, signed_in, snapshot_file

LONG = "x" * 4000  # one unbroken word: no space where a line could break


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "officine.db"


def users(db: Path) -> int:
    with Session(Store(f"sqlite:///{db}").engine) as session:
        return int(session.scalar(sql_select(func.count()).select_from(UserRow)) or 0)


# -- who may claim a dashboard not yet set up -------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "rebind.attacker.example:8421", "127.0.0.1.nip.io", ""])
def test_a_foreign_host_header_is_refused_before_anything_runs(db: Path, host: str) -> None:
    client = new_client(db)
    r = client.get("/installation", headers={"Host": host}, follow_redirects=False)
    assert r.status_code == 421 and "adresse" in r.text
    assert "officine_csrf" not in r.headers.get("set-cookie", "")


def test_dns_rebinding_cannot_create_the_administrator(db: Path) -> None:
    """A page on rebind.example whose name now points at 127.0.0.1: same origin for the browser,
    so it can read the form token and post with a matching Origin. The Host gives it away."""
    client = new_client(db)
    evil = {"Host": "rebind.example:8421", "Origin": "http://rebind.example:8421"}
    page = client.get("/installation", headers=evil)
    token = csrf(page.text) if page.status_code == 200 else "x"
    r = client.post(
        "/installation",
        data={"csrf": token, "setup_code": "", "username": "intrus", "password": PASSWORD, "confirm": PASSWORD},
        headers=evil,
        follow_redirects=False,
    )
    assert r.status_code == 421
    assert users(db) == 0


def test_loopback_names_are_accepted(db: Path) -> None:
    app = create_app(f"sqlite:///{db}")
    from fastapi.testclient import TestClient

    for base in ("http://127.0.0.1:8421", "http://localhost:8421", "http://[::1]:8421"):
        assert TestClient(app, base_url=base).get("/installation").status_code == 200, base


def test_first_run_needs_the_setup_code_shown_on_the_machine(db: Path) -> None:
    client = new_client(db)
    form = {"username": "marie", "password": PASSWORD, "confirm": PASSWORD}
    assert post(client, "/installation", "/installation", form).status_code == 403
    wrong = post(client, "/installation", "/installation", {**form, "setup_code": "aaaa-bbbb-cccc"})
    assert wrong.status_code == 403 and "code d'installation" in wrong.text.lower()
    assert users(db) == 0
    code = setup_code(db)
    assert code and len(code.replace("-", "")) >= 12
    # Typed by a person: spaces, capitals and missing dashes are forgiven.
    typed = code.replace("-", " ").upper()
    ok = post(client, "/installation", "/installation", {**form, "setup_code": typed})
    assert ok.status_code == 303 and users(db) == 1
    # Used once: the code is gone, the page now asks to sign in.
    assert setup_code(db) is None
    assert new_client(db).get("/installation", follow_redirects=False).headers["location"] == "/connexion"


def test_the_setup_code_survives_a_restart_and_can_be_renewed_on_the_machine(db: Path) -> None:
    url = f"sqlite:///{db}"
    create_app(url)
    first = setup_code(db)
    create_app(url)  # a second start shows the same code: what the terminal printed stays true
    assert setup_code(db) == first
    shown = officine("setup-code", "--db", url)
    assert shown.returncode == 0 and first in shown.stdout
    renewed = officine("setup-code", "--nouveau", "--db", url)
    assert renewed.returncode == 0 and first not in renewed.stdout
    assert setup_code(db) not in (None, first) and setup_code(db) in renewed.stdout
    install(new_client(db), db)
    done = officine("setup-code", "--db", url)
    assert done.returncode == 2 and "existe déjà" in done.stderr and "reset-password" in done.stderr


# -- lock-out ------------------------------------------------------------------------------------------


def test_made_up_names_do_not_lock_the_administrator_out(db: Path) -> None:
    signed_in(db)
    attacker = new_client(db)
    # More failures than the lock-out allows, for one made-up name and from one address.
    for _ in range(accounts.MAX_FAILURES + 1):
        r = post(attacker, "/connexion", "/connexion", {"username": "personne", "password": "devine"})
        assert r.status_code == 401, r.text
    store = Store(f"sqlite:///{db}")
    # Slowed down, not locked: the same address waits a little longer at each failure.
    assert accounts.client_delay(store, "testclient") > 0
    r = post(new_client(db), "/connexion", "/connexion", {"username": "marie", "password": PASSWORD})
    assert r.status_code == 303


def test_a_locked_account_is_unlocked_from_the_machine(db: Path) -> None:
    signed_in(db)
    client = new_client(db)
    for _ in range(accounts.MAX_FAILURES):
        post(client, "/connexion", "/connexion", {"username": "marie", "password": "pas-le-bon"})
    assert post(client, "/connexion", "/connexion", {"username": "marie", "password": PASSWORD}).status_code == 429
    url = f"sqlite:///{db}"
    unknown = officine("unlock", "paul", "--db", url)
    assert unknown.returncode == 2 and "marie" in unknown.stderr  # names the accounts that exist
    done = officine("unlock", "marie", "--db", url)
    assert done.returncode == 0 and "débloqué" in done.stdout
    assert post(client, "/connexion", "/connexion", {"username": "marie", "password": PASSWORD}).status_code == 303


def test_client_delay_grows_with_failures_and_is_bounded() -> None:
    delays = [accounts.delay_after(n) for n in range(40)]
    assert delays[: accounts.MAX_FAILURES] == [0.0] * accounts.MAX_FAILURES
    assert delays == sorted(delays) and delays[-1] == accounts.MAX_CLIENT_DELAY


# -- the PDF ------------------------------------------------------------------------------------------


def _bilan_with_long_texts() -> dict[str, object]:
    measure = {
        "measure": LONG,
        "title": "Titre " + LONG,
        "severity": "high",
        "verdict": LONG,
        "action": LONG,
        "owner": "Prestataire informatique (" + LONG + ")",
        "evidence": [f"{LONG} : {LONG}"],
    }
    return {
        "pharmacy": {"name": LONG[:120], "address": LONG[:300], "finess": "690000001"},
        "audit_id": 1,
        "audited_at": datetime.now(UTC).isoformat(),
        "catalogue_version": LONG,
        "score": 10,
        "hosts": [{"hostname": LONG, "platform": LONG, "collected_at": datetime.now(UTC).isoformat()}],
        "practices": [{"title": LONG, "score": 10, "state": LONG}, {"title": "x", "score": 1, "state": "non_conforme"}],
        "actions": [measure] * 3,
        "questions": [{"measure": LONG, "title": LONG, "owner": LONG, "questions": [LONG]}] * 2,
        "exceptions": [
            {"measure": LONG, "title": LONG, "justification": LONG, "by": LONG, "date": LONG, "until": LONG},
            {"measure": LONG, "title": LONG, "justification": LONG, "by": LONG, "date": LONG, "expired": True},
        ],
        "conforming": [{"measure": LONG, "title": LONG}] * 3,
    }


def test_the_pdf_bounds_and_wraps_every_text_from_a_snapshot_or_a_person() -> None:
    pdf = bilan_pdf(_bilan_with_long_texts(), load_messages(), {"non_conforme": "non conforme"})
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert "xxxxxxxxxx" in text
    assert len(reader.pages) < 30  # bounded: 4,000 characters are not printed in full


def test_a_workstation_with_a_very_long_hostname_keeps_the_report_working(
    db: Path, tree: RootTree, tmp_path: Path
) -> None:
    tree.debian()
    tree.write("/etc/hostname", "poste-" + "a" * 3000 + "\n")
    machine = snapshot_file(tree.path, tmp_path / "long.json")
    client = signed_in(db)
    r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("long.json", machine.read_bytes())})
    assert r.status_code == 303
    pdf = client.get("/bilan.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    assert "poste-aaaaaaaa" in text and "…" in text
    assert client.get("/postes").status_code == 200


# -- passwords --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "context"),
    [
        ("Azerty123456!", []),
        ("Officine2024!!", []),
        ("officine-cyber", []),
        ("Officine-Cyber2024", []),
        ("Marseille2023!!", []),
        ("&é\"'(-è_çà)=12", []),  # the top row of a French keyboard
        ("S0l3il-123456", []),
        ("Tilleuls2024!!", ["Pharmacie des Tilleuls", "2 rue du Marché, 69000 Lyon"]),
        ("VilleurbanneLyon2024", ["Pharmacie du Parc", "3 place Grandclément, 69100 Villeurbanne"]),
        ("MarieCurie1867!", ["Marie Curie"]),
    ],
)
def test_common_french_and_pharmacy_passwords_are_refused(password: str, context: list[str]) -> None:
    from officine.services.password_check import password_problem

    assert password_problem(password, context) is not None


@pytest.mark.parametrize("password", ["Lavande-Comptoir-Pilon-42", "gelule verveine mortier flacon", "k7#Vq2!pLw9@zR"])
def test_strong_passwords_and_passphrases_are_accepted(password: str) -> None:
    from officine.services.password_check import password_problem

    assert password_problem(password, ["Pharmacie des Tilleuls", "Lyon"]) is None


def test_first_run_refuses_the_product_name_as_password(db: Path) -> None:
    r = install(new_client(db), db, password="Officine-Cyber2024")
    assert r.status_code == 400 and "trop faible" in r.text
    assert users(db) == 0


# -- bodies, ids, methods ---------------------------------------------------------------------------


def _send(port: int, head: str, total: int, chunked: bool = False) -> tuple[int, int]:
    """Send a request of `total` body bytes; stop as soon as the server answers.
    Returns (status, body bytes actually sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(head.encode())
    sent = 0
    chunk = b"a" * 65536
    try:
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the answer came before the body was sent
            piece = chunk if not chunked else f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            sock.sendall(piece)
            sent += len(chunk)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    except (BrokenPipeError, ConnectionResetError):
        answer = sock.recv(4096)
    finally:
        sock.close()
    return int(answer.split(b" ", 2)[1]), sent


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_sign_in_body_is_refused_before_it_is_read(db: Path, chunked: bool) -> None:
    total = 100 * 1024 * 1024
    with Server(db) as server:
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
        head = (
            f"POST /connexion HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n{length}\r\n\r\n"
        )
        status, sent = _send(server.port, head, total, chunked)
    assert status == 413
    assert sent < 4 * 1024 * 1024


def test_body_bounds_follow_the_route(db: Path, tmp_path: Path) -> None:
    client = signed_in(db)
    token = csrf(client.get("/pratique/SAV").text)
    big_proof = b"%PDF-" + b"0" * (7 * 1024 * 1024)
    r = client.post(
        "/pratique/SAV/reponse",
        data={"csrf": token, "question": "SAV-03.q1", "value": "moins_6_mois"},
        files={"proof": ("gros.pdf", big_proof)},
        follow_redirects=False,
    )
    assert r.status_code == 413 and "Rien n'a été enregistré" in html.unescape(r.text)
    # The same 7 MB is a fine size for a snapshot import: refused for what it is, not for its size.
    r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", b"{" + b" " * 7_000_000)})
    assert r.status_code == 400 and "JSON" in r.text
    r = post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", b"{" + b" " * 18_000_000)})
    assert r.status_code == 413
    # A settings form is small.
    r = post(client, "/parametres", "/parametres", {"name": "Pharmacie", "address": "a" * 200_000})
    assert r.status_code == 413


def test_out_of_range_ids_are_not_found(db: Path, tree: RootTree, tmp_path: Path) -> None:
    tree.debian()
    machine = snapshot_file(tree.path, tmp_path / "poste.json")
    client = signed_in(db)
    post(client, "/postes", "/postes/importer", {}, files={"snapshot": ("poste.json", machine.read_bytes())})
    post(client, "/pratique/SAV", "/pratique/SAV/reponse", {"question": "SAV-03.q1", "value": "moins_6_mois"})
    huge = "12345678901234567890123"
    for path in (f"/preuve/{huge}", "/preuve/-1", f"/historique?avant={huge}", f"/historique?avant=1&apres={huge}"):
        r = client.get(path)
        assert r.status_code == 404 and "Page introuvable" in r.text, path
    assert client.get("/historique").status_code == 200


def test_head_answers_like_get_without_a_body(db: Path) -> None:
    client = new_client(db)
    for path in ("/installation", "/", "/static/style.css"):
        got, head = client.get(path, follow_redirects=False), client.head(path, follow_redirects=False)
        assert head.status_code == got.status_code, path
        assert head.content == b"" and head.headers.get("content-type") == got.headers.get("content-type")
        assert head.headers["x-frame-options"] == "DENY"


def _envelope(payload: bytes) -> bytes:
    """Junk sealed the way the PowerShell collector seals its snapshot: the seal is only a hash."""
    import base64
    import hashlib

    sealed = {"format": snapshot.ENVELOPE, "sha256": hashlib.sha256(payload).hexdigest()}
    return json.dumps({**sealed, "payload": base64.b64encode(payload).decode()}).encode()


@pytest.mark.parametrize(
    "junk",
    [
        b"[" + b"{}," * 2_000_000 + b"{}]",
        b'{"format":"officine-cyber/snapshot","observations":[' + b'{"a":1},' * 700_000 + b"{}]}",
        b"[" + b"1," * 3_000_000 + b"1]",
        _envelope(b"[" + b"{}," * 1_500_000 + b"{}]"),
    ],
    ids=["objects", "snapshot-shaped", "numbers", "windows-envelope"],
)
def test_a_junk_import_is_refused_with_bounded_memory(junk: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(UserError) as refused:
            snapshot.loads(junk, PurePath("junk.json"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "Rien" in refused.value.message or "utilisable" in refused.value.message
    # The file decoded once, its strings, an envelope's payload: a few times its size, not 30 times.
    assert peak < 3 * len(junk) + 2 * 1024 * 1024, f"{peak / 2**20:.0f} Mo for {len(junk) / 2**20:.0f} Mo"


def test_a_real_snapshot_is_far_below_the_value_bound(tree: RootTree, tmp_path: Path) -> None:
    tree.debian()
    raw = snapshot_file(tree.path, tmp_path / "poste.json").read_bytes()
    assert snapshot.value_count_bound(raw) <= snapshot.MAX_JSON_VALUES  # the quick count suffices
    assert snapshot.json_value_count(raw, stop_above=10**9) * 50 < snapshot.MAX_JSON_VALUES
    assert snapshot.loads(raw, PurePath("poste.json")).hostname == "comptoir-1"


# -- the terminal that starts the server --------------------------------------------------------


ASK = """
import http.client, ssl, sys
context = ssl._create_unverified_context()
for host in sys.argv[1:]:
    conn = http.client.HTTPSConnection("192.0.2.1", 8443, context=context, timeout=20)
    conn.request("GET", "/installation", headers={"Host": host})
    print(host, conn.getresponse().status)
"""


def test_the_tls_mode_says_it_is_on_the_network_and_answers_only_its_names(netns: str, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    san = "subjectAltName=DNS:pharmacie.test,IP:192.0.2.1"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pharmacie.test"]
    openssl += ["-addext", san, "-keyout", str(key), "-out", str(cert)]
    subprocess.run(openssl, check=True, capture_output=True)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    serve = ["serve", "--hote", "192.0.2.1", "--port", "8443", "--certificat", str(cert), "--cle", str(key)]
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "officine", *serve, "--nom", "comptoir.test", "--db", url],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = stderr_until(proc, "Ctrl+C", 60)
        hosts = ["192.0.2.1:8443", "pharmacie.test:8443", "comptoir.test", "evil.example", "127.0.0.1.nip.io"]
        asked = subprocess.run(
            ["ip", "netns", "exec", netns, sys.executable, "-c", ASK, *hosts],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
    finally:
        proc.terminate()
        proc.wait(10)
    flat = " ".join(banner.split())
    assert "accessible depuis le réseau" in flat, banner
    assert "https://192.0.2.1:8443/" in flat and "https://pharmacie.test:8443/" in flat
    assert "https://comptoir.test:8443/" in flat
    assert f"Code d'installation : {setup_code(tmp_path / 'x.db')}" in flat
    answers = dict(zip(asked[::2], asked[1::2], strict=True))
    assert answers == {
        "192.0.2.1:8443": "200",
        "pharmacie.test:8443": "200",
        "comptoir.test": "200",
        "evil.example": "421",
        "127.0.0.1.nip.io": "421",
    }


def test_allowed_hosts_follow_the_listening_address() -> None:
    from officine.cli.web import allowed_hosts

    assert allowed_hosts("127.0.0.1", None, []) == ["127.0.0.1", "localhost", "::1"]
    wildcard = allowed_hosts("0.0.0.0", None, ["Pharmacie.Test"])
    assert {"127.0.0.1", "localhost", "::1", socket.gethostname().lower(), "pharmacie.test"} <= set(wildcard)
    assert allowed_hosts("192.0.2.1", None, []) == ["192.0.2.1"]
    assert allowed_hosts("2001:db8::1", None, ["2001:DB8:0:0:0:0:0:2\n"]) == ["2001:db8::1", "2001:db8::2"]


# -- properties of the parsers that read untrusted input ----------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6),
    max_leaves=60,
)


def _values_and_keys(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(1 + _values_and_keys(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_values_and_keys(v) for v in value)
    return 1


@given(value=json_values, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
@settings(max_examples=300, deadline=None)
def test_the_value_count_never_undercounts_what_json_builds(
    value: object, ascii_only: bool, indent: int | None
) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    actual = _values_and_keys(value)
    assert snapshot.json_value_count(raw, stop_above=10**9) >= actual
    assert snapshot.value_count_bound(raw) >= actual
    # Stopping early still says "above".
    assert snapshot.json_value_count(raw, stop_above=actual - 1) > actual - 1


@given(raw=st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_the_value_count_takes_any_bytes(raw: bytes) -> None:
    assert snapshot.json_value_count(raw, stop_above=10**9) >= 1
    with pytest.raises(UserError):  # junk is refused in French, never a traceback
        snapshot.loads(raw, PurePath("x.json"))


@given(value=st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_a_host_header_parses_to_a_name_or_none(value: str) -> None:
    from officine.web.limits import host_name

    name = host_name(value)
    assert name is None or re.fullmatch(r"[a-z0-9._:-]+", name)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8421", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("[::1]:8421", "::1"),
        ("[::1]", "::1"),
        ("[0:0:0:0:0:0:0:1]:8421", "::1"),
        ("[2001:DB8::1]", "2001:db8::1"),
        ("pharmacie.test:443", "pharmacie.test"),
        (":8421", None),
        ("127.0.0.1:84x", None),
        ("[::1", None),
        ("[::1]x", None),
        ("", None),
    ],
)
def test_host_names(header: str, name: str | None) -> None:
    from officine.web.limits import host_name

    assert host_name(header) == name


@given(
    word=st.integers(0, 10**6),
    digits=st.text("0123456789", max_size=6),
    symbols=st.text("!?.*#@$&-_", max_size=3),
    capital=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_a_common_french_password_padded_with_digits_and_symbols_is_refused(
    word: int, digits: str, symbols: str, capital: bool
) -> None:
    from officine.services.password_check import _common, password_problem

    words = sorted(_common().words)
    common = words[word % len(words)]
    password = (common.capitalize() if capital else common) + digits + symbols
    password += "2" * max(0, 12 - len(password))  # long enough: only the guessability is judged
    assert password_problem(password) is not None, password


def test_the_database_and_its_setup_code_are_private_to_their_owner(tmp_path: Path) -> None:
    """Another account of the same machine could read the setup code in a database left
    world-readable (umask 022), then claim the dashboard through 127.0.0.1."""
    import os
    import pwd

    folder = tmp_path / "donnees"
    folder.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    old = folder / "ancienne.db"
    old.touch(mode=0o644)
    old.chmod(0o644)  # a database made by an earlier version, readable by everyone
    for db in (folder / "officine.db", old):
        create_app(f"sqlite:///{db}")
        modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir() if p.name.startswith(db.name)}
        assert modes and set(modes.values()) == {0o600}, modes
    if os.geteuid() == 0:  # as another account, for real
        nobody = pwd.getpwnam("nobody")
        as_nobody = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
        read = subprocess.run([*as_nobody, "cat", str(folder / "officine.db")], capture_output=True, check=False)
        assert read.returncode != 0 and b"Permission denied" in read.stderr
