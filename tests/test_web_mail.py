"""The dashboard page "Un courriel suspect ?": upload, verdict, settings, roles, limits."""

from __future__ import annotations

import html
from pathlib import Path

from web_helpers import csrf, post, signed_in

CORPUS = Path(__file__).parent / "fixtures/mail/corpus"


def _upload(client, path: Path):  # type: ignore[no-untyped-def]
    return post(client, "/courriel", "/courriel/analyser", {}, files={"message": (path.name, path.read_bytes())})


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.text)


def test_a_team_member_uploads_a_message_and_reads_the_verdict(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    page = client.get("/courriel")
    assert page.status_code == 200 and "Un courriel suspect ?" in page.text and 'href="/courriel"' in page.text
    r = _upload(client, CORPUS / "ecrit/m10_lgo_mise_a_jour_zip_exe.eml")
    assert r.status_code == 200
    assert "Dangereux" in text(r) and "Installer_MAJ.exe" in text(r) and "N'ouvrez pas la pièce jointe" in text(r)
    r = _upload(client, CORPUS / "ecrit/l09_patient_question.eml")
    assert "Rien d'anormal trouvé" in text(r)


def test_hostile_text_is_escaped_on_the_page(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    evil = tmp_path / "evil.eml"
    evil.write_bytes(
        b'From: "<script>alert(1)</script>" <x@exemple.fr>\r\nSubject: <img src=x onerror=alert(1)>\r\n\r\nx'
    )
    r = _upload(client, evil)
    assert r.status_code == 200 and "<script>alert(1)</script>" not in r.text and "&lt;img src=x" in r.text


def test_unreadable_and_missing_uploads_get_a_french_message(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    r = post(client, "/courriel", "/courriel/analyser", {}, files={"message": ("vide.eml", b"")})
    assert r.status_code == 400 and "vide" in text(r)
    r = post(client, "/courriel", "/courriel/analyser", {})
    assert r.status_code == 400 and "Choisissez le message" in text(r)


def test_the_body_limit_refuses_an_oversized_upload_before_reading_it(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    token = csrf(client.get("/courriel").text)
    r = client.post(
        "/courriel/analyser",
        content=b"x",
        headers={"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(70 << 20)},
    )
    assert r.status_code == 413
    assert token


def test_trusted_server_and_known_senders_change_the_verdict(tmp_path: Path) -> None:
    client = signed_in(tmp_path / "o.db")
    lookalike = tmp_path / "durand.eml"
    lookalike.write_bytes(b'From: "Compta" <compta@grossiste-durnad.fr>\r\nSubject: Facture\r\n\r\nBonjour.')
    assert "imite grossiste-durand.fr" not in text(_upload(client, lookalike))
    r = post(
        client,
        "/courriel",
        "/courriel/expediteurs",
        {"nom": "Grossiste Durand", "genre": "fournisseur", "domaines": "grossiste-durand.fr"},
    )
    assert r.status_code == 303
    page = client.get("/courriel")
    assert "Grossiste Durand" in page.text and "grossiste-durand.fr" in page.text and "marie" in page.text
    assert "imite grossiste-durand.fr" in text(_upload(client, lookalike))
    r = post(
        client, "/courriel", "/courriel/expediteurs", {"nom": "X", "genre": "fournisseur", "domaines": "pas un domaine"}
    )
    assert r.status_code == 400 and "Rien n'a été enregistré" in text(r)
    r = post(client, "/courriel", "/courriel/serveur", {"serveur": "mx.pharmacie-des-tilleuls.fr"})
    assert r.status_code == 303
    result = _upload(client, CORPUS / "ecrit/m15_banque_suspension.eml")
    assert "mx.pharmacie-des-tilleuls.fr) a constaté" in text(result)
    r = post(client, "/courriel", "/courriel/expediteurs/0/retirer", {})
    assert r.status_code == 303 and "Grossiste Durand" not in client.get("/courriel").text


def test_reading_accounts_analyse_but_only_the_titulaire_changes_settings(tmp_path: Path) -> None:
    from test_web_team import colleague

    db = tmp_path / "o.db"
    owner = signed_in(db)
    reader = colleague(db, owner, "lea", "lecture", password="Pipette-Romarin-Sachet-71")
    r = _upload(reader, CORPUS / "ecrit/m12_facture_pdf_exe.eml")
    assert r.status_code == 200 and "Dangereux" in text(r)
    assert 'action="/courriel/serveur"' not in r.text and 'action="/courriel/expediteurs"' not in r.text
    r = post(reader, "/courriel", "/courriel/serveur", {"serveur": "mx.attaquant.example"})
    assert r.status_code == 403
    r = post(
        reader, "/courriel", "/courriel/expediteurs", {"nom": "Faux", "genre": "banque", "domaines": "faux.example"}
    )
    assert r.status_code == 403
    assert "faux.example" not in owner.get("/courriel").text
