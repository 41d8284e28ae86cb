"""The password-manager audit on real files: a KeePass database written by pykeepass, CSV
exports, an offline Pwned Passwords list; every bad file gets a French message, exit code 2,
and changes nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from officine.errors import UserError
from officine.passwords.audit import analyse
from officine.passwords.pwned import PwnedFile
from officine.passwords.vault import read_csv
from password_vaults import ALL_PASSWORDS, MASTER, bitwarden_csv, keepass, pwned_list, run

MASKED = "entrée n° 12 (titre masqué : il contient un mot de passe)"
# Written from the entries in password_vaults.ENTRIES, before any audit ran.
EXPECTED = [
    ("empty", ["Imprimante"]),
    ("common", ["Coffre-fort"]),  # 1234
    ("common", ["Messagerie"]),  # azerty
    ("leaked", ["Site fournisseur"]),  # in the Pwned list, 42 times
    ("weak", ["Box internet"]),  # Marseille2023!
    ("weak", ["Grossiste"]),  # Soleil2024!!
    ("weak", ["NAS"]),  # Marseille2024!
    ("reused", ["LGO", "Ameli pro"]),
    ("reused", [MASKED, "Routeur secours"]),  # the router's title holds its password
    ("similar", ["Box internet", "NAS"]),
    ("expired", ["Ancien site"]),
]


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keepass(tmp_path_factory.mktemp("vault") / "pharmacie.kdbx")


@pytest.fixture(scope="module")
def pwned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pwned_list(tmp_path_factory.mktemp("pwned") / "pwned-passwords-sha1-ordered-by-hash.txt")


def _findings(report: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(f["kind"], f["titles"]) for f in report["findings"]]


def _no_password_in(*texts: str) -> None:
    for text in texts:
        for password in ALL_PASSWORDS:
            if len(password) >= 5:  # "1234", "azerty" are words of ordinary text too
                assert password not in text, password


def test_a_keepass_database_gives_exactly_the_expected_findings(vault: Path, pwned: Path, tmp_path: Path) -> None:
    db = tmp_path / "officine.db"
    r = run(
        "motdepasse",
        "audit",
        str(vault),
        "--pwned",
        str(pwned),
        "--json",
        "--db",
        f"sqlite:///{db}",
        stdin=MASTER + "\n",
    )
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert _findings(report) == EXPECTED
    assert report["entries"] == 15  # the note and the recycle bin are left out
    assert report["counts"] == {
        "empty": 1,
        "common": 2,
        "leaked": 1,
        "weak": 3,
        "reused": 4,
        "similar": 2,
        "expired": 1,
    }
    leaked = next(f for f in report["findings"] if f["kind"] == "leaked")
    assert leaked["detail"] == {"times": 42}
    _no_password_in(r.stdout, r.stderr, db.read_bytes().decode("latin-1"))
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("select report from password_audits").fetchone()
    assert _findings(json.loads(stored)) == EXPECTED


def test_the_audit_feeds_mdp_04_and_mdp_05_with_its_date(vault: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'officine.db'}"
    assert run("motdepasse", "audit", str(vault), "--db", url, stdin=MASTER + "\n").returncode == 0
    from officine.services.pharmacy import Pharmacy
    from officine.store import Store

    assessment, _ = Pharmacy(Store(url)).judge([], datetime.now(UTC))
    results = {m.measure.id: m for m in assessment.measures}
    mdp05 = results["MDP-05"]
    assert mdp05.verdict.value == "fail"
    texts = " | ".join(e.text for e in mdp05.evidence)
    today = datetime.now(UTC).strftime("%d/%m/%Y")
    assert f"Audit du {today} : même mot de passe pour 2 entrées (LGO, Ameli pro)" in texts
    assert "« Messagerie » utilise un des mots de passe les plus courants" in texts
    _no_password_in(texts)
    # MDP-04 is a workstation measure: no workstation audited here, the vault alone is not judged.
    assert results["MDP-04"].verdict.value == "unknown"


def test_without_an_audit_mdp_05_waits_for_the_answer(tmp_path: Path) -> None:
    from officine.services.pharmacy import Pharmacy
    from officine.store import Store

    assessment, _ = Pharmacy(Store(f"sqlite:///{tmp_path / 'o.db'}")).judge([], datetime.now(UTC))
    mdp05 = next(m for m in assessment.measures if m.measure.id == "MDP-05")
    assert mdp05.verdict.value == "needs_answer"
    assert "Aucun audit du gestionnaire" in mdp05.evidence[0].text


def test_a_bitwarden_export_gives_the_same_findings_but_expiry_and_a_warning(tmp_path: Path) -> None:
    export = bitwarden_csv(tmp_path / "bitwarden_export.csv")
    r = run("motdepasse", "audit", str(export), "--json", "--sans-enregistrer")
    assert r.returncode == 0, r.stderr
    expected = [(k, t) for k, t in EXPECTED if k not in ("expired", "leaked")]
    assert _findings(json.loads(r.stdout)) == [(k, t) for k, t in expected]
    assert "Supprimez maintenant bitwarden_export.csv" in r.stderr
    _no_password_in(r.stdout, r.stderr)


@pytest.mark.parametrize(
    ("header", "row", "title"),
    [
        (
            '"url","username","password","httpRealm","formActionOrigin","guid","timeCreated","timeLastUsed","timePasswordChanged"',
            '"https://www.ameli.fr/pro","marie","azerty",,"https://www.ameli.fr","{1}","1","1","1"',
            "www.ameli.fr",
        ),
        (
            "name,url,username,password,note",
            "espace-pro.ameli.fr,https://espace-pro.ameli.fr/,marie,azerty,",
            "espace-pro.ameli.fr",
        ),
    ],
    ids=["firefox", "chrome"],
)
def test_firefox_and_chrome_exports_are_read(tmp_path: Path, header: str, row: str, title: str) -> None:
    export = tmp_path / "export.csv"
    export.write_text(f"{header}\n{row}\n", encoding="utf-8")
    vault = read_csv(export)
    report = analyse(vault, datetime.now(UTC)).to_json()
    assert _findings(report) == [("common", [title])]


# -- bad input: a French message, exit code 2, nothing changed ----------------------------------
def _refused(r: Any, words: str, db: Path) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert words in r.stderr.replace("\n", " ")
    assert "Traceback" not in r.stderr
    assert not db.exists()  # not even created
    _no_password_in(r.stdout, r.stderr)


def test_a_wrong_master_password_is_refused(vault: Path, tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    r = run("motdepasse", "audit", str(vault), "--db", f"sqlite:///{db}", stdin="Mauvais-mot-de-passe-2024\n")
    _refused(r, "Mot de passe principal ou fichier clé incorrect", db)
    assert "Mauvais-mot-de-passe-2024" not in r.stderr + r.stdout


def test_a_database_with_a_key_file_needs_it(tmp_path: Path) -> None:
    key = tmp_path / "pharmacie.keyx"
    key.write_bytes(hashlib.sha256(b"une cle").digest())
    base = keepass(tmp_path / "avec-cle.kdbx", keyfile=key)
    db = tmp_path / "o.db"
    url = f"sqlite:///{db}"
    _refused(run("motdepasse", "audit", str(base), "--db", url, stdin=MASTER + "\n"), "fichier clé incorrect", db)
    missing = str(tmp_path / "perdue.keyx")
    _refused(
        run("motdepasse", "audit", str(base), "--fichier-cle", missing, "--db", url), "Fichier clé introuvable", db
    )
    ok = run("motdepasse", "audit", str(base), "--fichier-cle", str(key), "--json", "--db", url, stdin=MASTER + "\n")
    assert ok.returncode == 0 and json.loads(ok.stdout)["entries"] == 15


@pytest.mark.parametrize("damage", ["truncated", "flipped", "not_keepass", "empty"])
def test_a_corrupt_database_is_refused(vault: Path, tmp_path: Path, damage: str) -> None:
    data = vault.read_bytes()
    broken = tmp_path / "abimee.kdbx"
    if damage == "truncated":
        broken.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        broken.write_bytes(data[:-200] + bytes(b ^ 0xFF for b in data[-200:-100]) + data[-100:])
    elif damage == "not_keepass":
        broken.write_bytes(b"PK\x03\x04" + data[4:])
    else:
        broken.write_bytes(b"")
    db = tmp_path / "o.db"
    r = run("motdepasse", "audit", str(broken), "--db", f"sqlite:///{db}", stdin=MASTER + "\n")
    _refused(r, "n'est pas une base KeePass lisible", db)


def test_a_huge_csv_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "export.csv"
    with huge.open("wb") as fh:
        fh.truncate(21 * 1024 * 1024)  # sparse: no disk used
    db = tmp_path / "o.db"
    _refused(run("motdepasse", "audit", str(huge), "--db", f"sqlite:///{db}"), "au-delà de 20 Mo", db)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("nom;mot de passe\nbanque;azerty\n", "n'est pas un export reconnu"),
        ('name,url,username,password\n"banque,https://x.fr,marie,azerty\n', "CSV mal formé"),
        ("name,url,username,password\nbanque,https://x.fr\n", "2 colonnes au lieu de 4"),
        ("", "est vide"),
    ],
)
def test_a_bad_csv_is_refused(tmp_path: Path, content: str, words: str) -> None:
    export = tmp_path / "export.csv"
    export.write_text(content, encoding="utf-8")
    db = tmp_path / "o.db"
    _refused(run("motdepasse", "audit", str(export), "--db", f"sqlite:///{db}"), words, db)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"8846F7EAEE8FB117AD06BDD830B7586C:42\r\n", "format NTLM"),
        (b"not a list\n", "n'est pas la liste Pwned Passwords"),
        (
            b"".join(f"{h}:1\r\n".encode() for h in sorted((f"{i:040X}" for i in range(2000)), reverse=True)),
            "pas triée",
        ),
    ],
)
def test_a_pwned_list_in_another_format_or_order_is_refused(
    vault: Path, tmp_path: Path, content: bytes, words: str
) -> None:
    pwned = tmp_path / "pwned.txt"
    pwned.write_bytes(content)
    db = tmp_path / "o.db"
    r = run("motdepasse", "audit", str(vault), "--pwned", str(pwned), "--db", f"sqlite:///{db}", stdin=MASTER + "\n")
    _refused(r, words, db)


# -- parsers of untrusted files ------------------------------------------------------------------
@given(st.sets(st.text(min_size=1, max_size=12), min_size=1, max_size=60), st.lists(st.text(max_size=12), max_size=30))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_pwned_search_finds_exactly_what_a_full_scan_finds(
    tmp_path: Path, listed: set[str], others: list[str]
) -> None:
    rows = {hashlib.sha1(p.encode()).hexdigest().upper(): i + 1 for i, p in enumerate(sorted(listed))}  # noqa: S324
    path = tmp_path / "list.txt"
    path.write_bytes("".join(f"{h}:{n}\n" for h, n in sorted(rows.items())).encode())
    with PwnedFile(path) as pwned:
        for password in [*listed, *others]:
            expected = rows.get(hashlib.sha1(password.encode()).hexdigest().upper(), 0)  # noqa: S324
            assert pwned.count(password) == expected


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_as_a_csv_export_are_read_or_refused_in_french(tmp_path: Path, data: bytes) -> None:
    export = tmp_path / "fuzz.csv"
    export.write_bytes(b"name,url,username,password\n" + data)
    try:
        vault = read_csv(export)
    except UserError as exc:
        assert exc.message
    else:
        analyse(vault, datetime.now(UTC))


# -- MDP-04 and MDP-05 from the audit, judged by evaluate() ---------------------------------------
def _judge(report: dict[str, Any] | None, now: datetime, answers: dict[str, str] | None = None) -> dict[str, Any]:
    from officine import snapshot
    from officine.answers import Answers
    from officine.evaluate import evaluate
    from officine.passwords.state import build_state
    from officine.reference import load_reference
    from officine.services.audit import load_knowledge

    snap = snapshot.reanalyse(
        snapshot.load(Path(__file__).parent / "fixtures/snapshots/windows10-fr-non-conforme.json")
    )
    k = load_knowledge()
    facts = build_state(report, now)
    done = evaluate(
        k.catalogue, [snap], Answers(values=answers or {}), k.checks, k.messages, load_reference(), now.date(), facts
    )
    return {m.measure.id: m for m in done.measures}


def _clean_report(at: datetime) -> dict[str, Any]:
    from officine.passwords.vault import Entry, Vault

    vault = Vault(
        "keepass", "coffre.kdbx", tuple(Entry(f"Compte {i}", f"Gx7#pLw2!Qz9vR4m{i}x{i * 7}", True) for i in range(3))
    )
    return analyse(vault, at).to_json()


def test_a_recent_audit_shows_the_manager_in_use_and_an_old_one_does_not() -> None:
    audited = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    results = _judge(_clean_report(audited), audited)
    assert results["MDP-04"].verdict.value == "pass"
    assert results["MDP-04"].evidence[0].text == "Coffre de mots de passe KeePass audité le 29/11/2026 : 3 entrées."
    # A year and more later, the audit no longer tells: the workstation and the answer decide again.
    later = _judge(_clean_report(audited), datetime(2027, 12, 30, tzinfo=UTC))
    assert later["MDP-04"].verdict.value == "needs_answer"
    assert "Aucun gestionnaire" in later["MDP-04"].evidence[0].text
    assert later["MDP-05"].evidence[0].reason == "no_audit"


def test_a_clean_audit_still_asks_about_notes_near_the_workstations() -> None:
    audited = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    results = _judge(_clean_report(audited), audited)
    mdp05 = results["MDP-05"]
    assert mdp05.verdict.value == "needs_answer"
    assert mdp05.evidence[0].verdict.value == "pass" and "aucun mot de passe réutilisé" in mdp05.evidence[0].text
    answered = _judge(_clean_report(audited), audited, {"MDP-05.q1": "oui", "MDP-05.q2": "non"})
    assert answered["MDP-05"].verdict.value == "pass"
    post_its = _judge(_clean_report(audited), audited, {"MDP-05.q1": "oui", "MDP-05.q2": "oui"})
    assert post_its["MDP-05"].verdict.value == "fail"


def test_a_large_audit_quotes_thirty_findings_and_counts_the_rest() -> None:
    from officine.passwords.vault import Entry, Vault

    audited = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    vault = Vault("keepass", "coffre.kdbx", tuple(Entry(f"Site {i}", "azerty", True) for i in range(50)))
    results = _judge(analyse(vault, audited).to_json(), audited)
    evidence = results["MDP-05"].evidence
    assert results["MDP-05"].verdict.value == "fail"
    machine = [e for e in evidence if e.source == "machine"]
    assert (
        len(machine) == 31
        and machine[-1].text == "Audit du 29/11/2026 : 21 autres constats (voir la page Mots de passe)."
    )
