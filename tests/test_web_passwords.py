"""The dashboard's "Mots de passe" page: tester, generator, last audit, KeePassXC guide."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

from officine.passwords.audit import analyse
from officine.passwords.lists import diceware_words
from officine.passwords.records import record
from officine.passwords.vault import Entry, Vault
from officine.store import Store
from web_helpers import post, signed_in

SECRET = re.compile(r'id="secret" type="text" readonly value="([^"]+)"')


def test_the_page_is_in_the_menu_and_guides_keepassxc(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    home = client.get("/").text
    assert 'href="/mots-de-passe"' in home
    page = client.get("/mots-de-passe").text
    assert "Aucun audit pour l'instant" in page and "officine motdepasse audit" in page
    assert "Mettre en place KeePassXC" in page and "phrase de passe de 7 mots" in page


def test_the_tester_knows_the_pharmacy_and_gives_french_advice(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db", pharmacy="Pharmacie des Tilleuls")
    r = post(client, "/mots-de-passe", "/mots-de-passe/tester", {"password": "Tilleuls-Lyon-2024", "case": "1"})
    text = html.unescape(r.text)
    assert r.status_code == 200 and "À changer" in text
    assert "des mots de la pharmacie elle-même" in text
    assert "Tilleuls-Lyon-2024" not in text  # the field comes back empty
    r = post(
        client,
        "/mots-de-passe",
        "/mots-de-passe/tester",
        {"password": "patauger farfadet juillet nord neural enfuir nuptiale"},
    )
    assert "Acceptable" in html.unescape(r.text)
    r = post(client, "/mots-de-passe", "/mots-de-passe/tester", {"password": "7391", "case": "3"})
    assert "Acceptable pour un code de déverrouillage" in html.unescape(r.text)


def test_the_tester_refuses_empty_and_oversized_input_in_french(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    r = post(client, "/mots-de-passe", "/mots-de-passe/tester", {"password": ""})
    assert r.status_code == 400 and "Tapez le mot de passe" in html.unescape(r.text)
    r = post(client, "/mots-de-passe", "/mots-de-passe/tester", {"password": "a" * 1025})
    assert r.status_code == 400 and "Au-delà de 1024 caractères" in html.unescape(r.text)
    r = client.post("/mots-de-passe/tester", data={"password": "x"}, follow_redirects=False)
    assert r.status_code == 403  # no form token: refused


def test_the_generator_draws_french_words_or_random_characters(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    r = post(client, "/mots-de-passe", "/mots-de-passe/generer", {"kind": "phrase", "words": "7"})
    found = SECRET.search(r.text)
    assert found
    words = found.group(1).split("-")
    assert len(words) == 7 and set(words) <= set(diceware_words())
    assert "90 bits" in r.text and "cas CNIL satisfaits : 1, 2, 3" in r.text
    r = post(client, "/mots-de-passe", "/mots-de-passe/generer", {"kind": "aleatoire"})
    found = SECRET.search(html.unescape(r.text)) or SECRET.search(r.text)
    assert found and len(html.unescape(found.group(1))) == 20


def test_the_last_audit_is_shown_by_title_with_its_date(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    client = signed_in(db)
    vault = Vault(
        "keepass",
        "coffre.kdbx",
        (
            Entry("LGO", "Gx7#pLw2!Qz9vR4m", True),
            Entry("Ameli pro", "Gx7#pLw2!Qz9vR4m", True),
            Entry("Messagerie", "azerty", True),
        ),
    )
    record(Store(f"sqlite:///{db}"), analyse(vault, datetime(2026, 11, 29, 10, 0, tzinfo=UTC)), "test")
    page = html.unescape(client.get("/mots-de-passe").text)
    assert "Coffre KeePass audité le 29/11/2026" in page and "3 entrées" in page
    assert "Même mot de passe pour plusieurs entrées" in page and "LGO, Ameli pro" in page
    assert "Mot de passe parmi les plus courants" in page and "Messagerie" in page
    assert "Gx7#pLw2!Qz9vR4m" not in page
