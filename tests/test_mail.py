"""The e-mail analyser: the labelled corpus, each check's fault states, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import officine
from mail_corpus import encrypted_zip, message, pe_stub, zip_of
from officine.mail import knowledge as knowledge_module
from officine.mail.analyse import MailSettings, analyse_bytes, analyse_file
from officine.mail.domains import lookalike, registrable
from officine.mail.knowledge import Organisation, knowledge, prepare

CORPUS = Path(__file__).parent / "fixtures/mail/corpus"
LABELS = yaml.safe_load((CORPUS / "labels.yaml").read_text(encoding="utf-8"))
SERVER = LABELS["serveur_de_confiance"]
WIDE = {"COLUMNS": "400"}


def codes(data: bytes, server: str | None = SERVER, **kwargs: object) -> set[str]:
    result = analyse_bytes(data, MailSettings(trusted_server=server, **kwargs))  # type: ignore[arg-type]
    return {r.code for r in result.reasons}


# -- the corpus ------------------------------------------------------------------------------


def test_corpus_is_large_enough_and_every_source_is_cited() -> None:
    messages = LABELS["messages"]
    bad = [m for m in messages if m["attendu"] == "malveillant"]
    good = [m for m in messages if m["attendu"] == "legitime"]
    assert len(bad) >= 40 and len([m for m in bad if m["langue"] == "fr"]) >= 15
    assert len(good) >= 25
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for m in messages:
        assert (CORPUS / m["fichier"]).is_file(), m["fichier"]
        assert m["source"] in ("ecrit", "spamassassin")
    assert "PDDL" in readme and "CC0" in readme and "écrits par le projet" in readme


def test_corpus_verdicts_meet_the_acceptance_rates() -> None:
    results = {m["fichier"]: analyse_file(CORPUS / m["fichier"], MailSettings(SERVER)) for m in LABELS["messages"]}
    bad = [m["fichier"] for m in LABELS["messages"] if m["attendu"] == "malveillant"]
    good = [m["fichier"] for m in LABELS["messages"] if m["attendu"] == "legitime"]
    caught = [f for f in bad if results[f].verdict in ("dangereux", "suspect")]
    assert len(caught) / len(bad) >= 0.95, sorted(set(bad) - set(caught))
    false_alarms = [f for f in good if results[f].verdict == "dangereux"]
    assert len(false_alarms) / len(good) <= 0.03, false_alarms
    for name, result in results.items():
        # Every verdict is explained: a warning names its reasons, and every text is filled in.
        assert result.summary and result.advice, name
        if result.verdict != "rien_d_anormal":
            assert any(r.weight > 0 for r in result.reasons), name
        assert sum(r.weight for r in {r.code: r for r in result.reasons}.values()) == result.score
        for reason in result.reasons:
            assert reason.text and "{" not in reason.text, (name, reason)


def test_corpus_written_messages_are_what_the_builder_writes(tmp_path: Path) -> None:
    """The .eml files in the repository are exactly what tests/mail_corpus.py produces."""
    from mail_corpus import write

    for path in write(tmp_path):
        assert path.read_bytes() == (CORPUS / "ecrit" / path.name).read_bytes(), path.name


# -- sender ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "manner"),
    [
        ("ameli-remboursement.fr", "mots_ajoutes"),
        ("arneli.fr", "homoglyphe"),
        ("ameIi.fr", "homoglyphe"),
        ("amelli.fr", "distance"),
        ("ameli.com", "autre_extension"),
        ("impots.fr", "autre_extension"),
        ("ameli.fr.secure-login.com", "sous_domaine"),
        ("xn--meli-43d.fr", "punycode"),
        ("docusing.net", "distance"),
        ("alliance-heathcare.fr", "distance"),
    ],
)
def test_lookalikes_of_known_organisations(host: str, manner: str) -> None:
    found = lookalike(host, knowledge())
    assert found is not None and found.manner == manner, (host, found)


@pytest.mark.parametrize(
    "host",
    [
        "ameli.fr",
        "info.ameli.fr",
        "ca-paris.fr",
        "impots.gouv.fr",
        "laposte.net",
        "gmail.com",
        "camelia-fleurs.fr",
        "exemple.fr",
        "sante.fr",
        "ansm.sante.fr",
        "pharmacie-des-tilleuls.fr",
    ],
)
def test_real_and_unrelated_domains_are_not_lookalikes(host: str) -> None:
    assert lookalike(host, knowledge()) is None


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([d for o in knowledge().orgs for d in o.plain_domains]),
    st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True),
)
def test_no_domain_of_an_organisation_or_its_subdomains_is_a_lookalike(domain: str, sub: str) -> None:
    kn = knowledge()
    assert lookalike(domain, kn) is None
    assert lookalike(f"{sub}.{domain}", kn) is None


def test_registrable_domain_comes_from_the_bundled_public_suffix_list() -> None:
    assert registrable("ameli.fr.secure-login.com") == "secure-login.com"
    assert registrable("espace.impots.gouv.fr") == "impots.gouv.fr"


def test_display_name_of_an_organisation_with_another_address() -> None:
    data = message('"Assurance Maladie" <info@envoi-rapide.example>', "Information", text="Bonjour.")
    assert "expediteur_nom_marque" in codes(data)
    data = message('"Assurance Maladie" <assurance.maladie@gmail.com>', "Information", text="Bonjour.")
    assert "expediteur_webmail_organisme" in codes(data)
    data = message('"ameli.fr <contact@ameli.fr>" <x@envoi.example>', "Information", text="Bonjour.")
    assert "expediteur_nom_autre_adresse" in codes(data)


def test_the_real_organisation_is_recognised_not_flagged() -> None:
    data = message('"Assurance Maladie" <ne-pas-repondre@info.ameli.fr>', "Information", text="Bonjour.")
    found = codes(data)
    assert "expediteur_connu" in found and not found & {"expediteur_nom_marque", "expediteur_sosie"}


def test_known_senders_added_by_the_pharmacy_are_protected_too() -> None:
    supplier = prepare(
        Organisation(nom="Grossiste Durand", domaines=("grossiste-durand.fr",), noms=("grossiste durand",))
    )
    data = message('"Grossiste Durand" <compta@grossiste-durnad.fr>', "Facture", text="Bonjour.")
    assert "expediteur_sosie" not in codes(data)  # unknown without the pharmacy's list
    assert "expediteur_sosie" in codes(data, known=(supplier,))
    data = message('"Grossiste Durand" <compta@grossiste-durand.fr>', "Facture", text="Bonjour.")
    assert "expediteur_connu" in codes(data, known=(supplier,))


def test_reply_to_elsewhere_but_not_to_the_list_it_was_sent_to() -> None:
    data = message('"Paul" <paul@cabinet.example>', "Question", text="Bonjour.", reply_to="autre@ailleurs.example")
    assert "repondre_a_different" in codes(data)
    listed = message(
        '"Paul" <paul@cabinet.example>', "Question", text="Bonjour.", reply_to="contact@pharmacie-des-tilleuls.fr"
    )
    assert "repondre_a_different" not in codes(listed)


# -- authentication --------------------------------------------------------------------------


PASS = "spf=pass smtp.mailfrom=ameli.fr; dkim=pass header.d=ameli.fr; dmarc=pass header.from=ameli.fr"
FAIL = "spf=fail smtp.mailfrom=ameli.fr; dkim=none; dmarc=fail header.from=ameli.fr"


def test_only_the_topmost_header_of_the_configured_server_is_trusted() -> None:
    # The sender wrote "pass" under the pharmacy server's own name, below the real "fail".
    data = message('"ameli" <info@ameli.fr>', "x", text="x", auth=FAIL, forged_auth=PASS)
    found = codes(data)
    assert {"auth_dmarc_echec", "auth_spf_echec", "auth_entete_ignore"} <= found and "auth_reussie" not in found


def test_a_header_the_sender_wrote_is_never_trusted() -> None:
    # No header from the receiving server; only the sender's forged one, lower down.
    data = message('"ameli" <info@ameli.fr>', "x", text="x", forged_auth=PASS)
    found = codes(data)
    assert "auth_reussie" not in found and "auth_non_verifiee" in found
    # Another server's header on top: not the pharmacy's, so not believed either.
    other = message('"ameli" <info@ameli.fr>', "x", text="x", auth=PASS)
    assert "auth_non_verifiee" in codes(other, server="mx.autre-serveur.fr")
    # Nothing configured: nothing believed, and the output says so.
    result = analyse_bytes(other, MailSettings(trusted_server=None))
    assert "auth_non_verifiee" in {r.code for r in result.reasons} and result.trusted_server is None


def test_trusted_results_are_reported_with_the_server_that_made_them() -> None:
    result = analyse_bytes(message('"ameli" <info@ameli.fr>', "x", text="x", auth=PASS), MailSettings(SERVER))
    passed = next(r for r in result.reasons if r.code == "auth_reussie")
    assert SERVER in passed.text and result.trusted_server == SERVER and passed.weight == 0


def test_malformed_authentication_results_do_not_crash() -> None:
    data = message(
        '"x" <x@exemple.fr>', "x", text="x", auth="spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=x; dkim=;;;"
    )
    assert analyse_bytes(data, MailSettings(SERVER)).verdict in ("rien_d_anormal", "suspect", "dangereux")


# -- links -----------------------------------------------------------------------------------


def _html(body: str) -> bytes:
    return message('"Service" <service@exemple-boutique.fr>', "Info", html=body)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('<a href="https://evil.example/x">https://www.ameli.fr</a>', "lien_texte_trompeur"),
        ('<a href="http://192.0.2.44/login">ici</a>', "lien_adresse_ip"),
        ('<a href="http://3232235777/login">ici</a>', "lien_adresse_ip"),
        ('<a href="https://bit.ly/abc">ici</a>', "lien_raccourci"),
        ('<a href="https://xn--pple-43d.com/">apple</a>', "lien_punycode"),
        ('<a href="https://www.ameli-securite.com/">ici</a>', "lien_sosie"),
        ('<a href="https://files.example/facture.pdf.exe">facture</a>', "lien_fichier_risque"),
        ('<a href="javascript:alert(1)">ici</a>', "lien_script"),
        ('<form action="https://x.example/p"><input name="a"></form>', "formulaire"),
        ('<form><input type="PASSWORD" name="p"></form>', "formulaire_mot_de_passe"),
    ],
)
def test_link_checks(body: str, code: str) -> None:
    assert code in codes(_html(body))


def test_links_of_the_same_site_are_not_deceptive() -> None:
    found = codes(
        _html(
            '<a href="https://click.exemple-boutique.fr/r/1">www.exemple-boutique.fr</a><a href="https://www.ameli.fr/x">ameli.fr</a>'
        )
    )
    assert not found & {"lien_texte_trompeur", "lien_sosie", "lien_adresse_ip"}


# -- attachments -----------------------------------------------------------------------------


def _with(name: str, data: bytes, ctype: str = "application/octet-stream") -> set[str]:
    return codes(message('"x" <x@exemple.fr>', "Document", text="Ci-joint.", attachments=[(name, data, ctype)]))


def test_real_type_beats_the_extension() -> None:
    assert {"pj_type_deguise", "pj_executable"} <= _with("photo.jpg", pe_stub())
    assert {"pj_type_deguise", "pj_executable"} <= _with("facture.pdf", pe_stub())
    assert "pj_type_deguise" in _with("facture.pdf", zip_of({"a.txt": b"x"}))


def test_double_extension_and_reversed_names() -> None:
    assert {"pj_double_extension", "pj_executable"} <= _with("facture.pdf.exe", pe_stub())
    assert "pj_double_extension" in _with("facture\u202efdp.exe", pe_stub())
    assert "pj_executable" in _with("FACTURE.PDF .JS", b"WScript.Echo(1)")


def test_encrypted_archive_shows_its_names_and_the_password_in_the_text() -> None:
    archive = encrypted_zip({"facture.pdf.exe": pe_stub()}, b"1234")
    data = message(
        '"x" <x@exemple.fr>', "Docs", text="Mot de passe : 1234", attachments=[("docs.zip", archive, "application/zip")]
    )
    found = codes(data)
    assert {"pj_archive_chiffree", "pj_mot_de_passe_dans_message", "pj_executable", "pj_double_extension"} <= found


def test_zip_bombs_are_bounded() -> None:
    zeros = zip_of({"vide.bin": b"\0" * (30 * 1024 * 1024)})  # ~30 kB that would become 30 MB
    assert "pj_archive_bombe" in _with("a.zip", zeros)
    nested = zip_of({"x.txt": b"x"})
    for level in range(6):
        nested = zip_of({f"niveau{level}.zip": nested})
    assert "pj_archive_bombe" in _with("poupees.zip", nested)
    many = zip_of({f"f{i}.txt": b"" for i in range(1100)})
    assert "pj_archive_bombe" in _with("beaucoup.zip", many)


def test_clean_attachments_stay_clean() -> None:
    from mail_corpus import pdf, xlsx

    assert not {c for c in _with("releve.pdf", pdf(), "application/pdf") if c.startswith("pj_")}
    assert not {c for c in _with("planning.xlsx", xlsx()) if c.startswith("pj_")}
    assert not {
        c for c in _with("photos.zip", zip_of({"a.jpg": b"\xff\xd8\xff\xe0" + b"\0" * 100})) if c.startswith("pj_")
    }


def test_pdf_javascript_hidden_in_a_compressed_object_stream() -> None:
    from mail_corpus import pdf

    assert "pj_pdf_actif" in _with("doc.pdf", pdf(active=True), "application/pdf")


# -- words are data --------------------------------------------------------------------------


def test_reason_texts_are_checked_against_what_the_analyser_fills() -> None:
    kn = knowledge()
    reasons = kn.reasons
    broken = reasons.model_copy(
        update={
            "raisons": {
                **reasons.raisons,
                "lien_raccourci": reasons.raisons["lien_raccourci"].model_copy(update={"texte": "Voir {inconnu}"}),
            }
        }
    )
    indicators = knowledge_module._load("indicators.yaml", knowledge_module.IndicatorsFile)
    with pytest.raises(knowledge_module.KnowledgeError, match="lien_raccourci"):
        knowledge_module.check(broken, indicators)
    missing = reasons.model_copy(update={"raisons": {k: v for k, v in reasons.raisons.items() if k != "pj_macros"}})
    with pytest.raises(knowledge_module.KnowledgeError, match="pj_macros"):
        knowledge_module.check(missing, indicators)


# -- the command -----------------------------------------------------------------------------


def test_cli_json_output_and_returncodes(tmp_path: Path) -> None:
    r = officine(*["courriel", "analyser", str(CORPUS / "ecrit/m12_facture_pdf_exe.eml"), "--json"], env=WIDE)
    assert r.returncode == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "dangereux" and doc["conseils"]
    assert all({"code", "poids", "texte"} <= set(x) for x in doc["raisons"])
    r = officine(*["courriel", "analyser", str(CORPUS / "ecrit/l09_patient_question.eml")], env=WIDE)
    assert r.returncode == 0 and "Rien d'anormal" in r.stdout
    missing = officine(*["courriel", "analyser", str(tmp_path / "absent.eml")])
    assert missing.returncode == 2 and "introuvable" in missing.stderr
    damaged = tmp_path / "abime.msg"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    r = officine(*["courriel", "analyser", str(damaged)], env=WIDE)
    assert r.returncode == 2 and "Outlook" in r.stderr


def test_cli_shows_hostile_text_without_obeying_it(tmp_path: Path) -> None:
    evil = tmp_path / "evil.eml"
    evil.write_bytes(
        message('"\x1b[2J[bold]Banque\u202e" <x@exemple.fr>', "Objet \x1b]0;titre\x07 [red]rouge[/red]", text="x")
    )
    r = officine(*["courriel", "analyser", str(evil)], env=WIDE)
    assert r.returncode == 0
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout and "[red]rouge[/red]" in r.stdout
    r = officine(*["courriel", "analyser", str(evil), "--json"], env=WIDE)
    assert "\x1b" not in r.stdout and json.loads(r.stdout)["message"]["objet"].startswith("Objet \x1b")


def test_nothing_is_fetched_no_socket_is_ever_opened() -> None:
    """The whole corpus analysed in a process where opening any socket raises."""
    script = f"""
import socket, sys
def refuse(*a, **k):
    raise AssertionError("network used")
class NoSocket(socket.socket):
    def __init__(self, *a, **k):
        refuse()
socket.socket = NoSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
socket.gethostbyname = refuse
import yaml
from pathlib import Path
from officine.mail.analyse import MailSettings, analyse_file
root = Path({str(CORPUS)!r})
for m in yaml.safe_load((root / "labels.yaml").read_text())["messages"]:
    analyse_file(root / m["fichier"], MailSettings("{SERVER}"))
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
