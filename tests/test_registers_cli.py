"""`officine registre …` as a person runs it, and the exports opened by LibreOffice itself
(headless conversion to CSV) and read back: they contain what was entered."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine

from helpers import officine
from officine.registers.book import RegisterBook
from officine.store import Store

SOFFICE = shutil.which("soffice")


@pytest.fixture(autouse=True)
def _release_databases() -> Iterator[None]:
    """Each test's databases closed when it ends: something keeps their engines alive, and the
    whole suite would otherwise run out of file descriptors (select() fails above 1024)."""
    yield
    for obj in gc.get_objects():
        if isinstance(obj, Engine):
            obj.dispose()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OFFICINE_DATA_DIR": str(tmp_path / "data"), "OFFICINE_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}


def store_of(env: dict[str, str]) -> Store:
    return Store(env["OFFICINE_DATABASE_URL"])


def test_add_list_and_history_from_the_command_line(env: dict[str, str]) -> None:
    added = officine(
        "registre", "ajouter", "destructions", "identifiant=WD-123", "support=disque_dur",
        "contenu=Base LGO 2015-2024", "methode=destruction_physique", "par=Jean Martin", "date=2026-11-02",
        "--par", "Marie Martin, titulaire", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Destruction n° 1 « WD-123 »" in added.stdout
    listed = officine("registre", "lister", "destructions", "--json", env=env)
    doc = json.loads(listed.stdout)
    assert doc["lignes"][0][1:4] == ["WD-123", "Disque dur", "Base LGO 2015-2024"]
    assert "02/11/2026" in doc["lignes"][0]
    history = officine("registre", "lister", "destructions", "--historique", "1", "--json", env=env)
    versions = json.loads(history.stdout)
    assert [v["by"] for v in versions] == ["Marie Martin, titulaire"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cartes", "titulaire=Marie Curie", "type=cps", "etat=perdue"], "date de la perte"),
        (["cartes", "titulaire=Marie Curie", "type=carte_bleue"], "Type"),
        (["cartes", "titulaire"], "champ=valeur"),
        (["prestataires", "nom=X Info", "service=Maintenance", "clause_art28=peut-être"], "oui"),
        (["inconnu", "a=b"], "Registre inconnu"),
    ],
)
def test_bad_input_exits_2_in_french_and_stores_nothing(env: dict[str, str], args: list[str], message: str) -> None:
    result = officine("registre", "ajouter", *args, "--par", "Marie Martin, titulaire", env=env)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    if args[0] != "inconnu":
        assert RegisterBook(store_of(env)).entries(args[0]) == []


def test_export_then_import_round_trip_and_refusals(env: dict[str, str], tmp_path: Path) -> None:
    officine("registre", "ajouter", "cartes", "titulaire=Marie Curie", "type=e_cps", "--par", "Marie Martin", env=env)
    out = tmp_path / "cartes.json"
    assert officine("registre", "exporter", "cartes", str(out), env=env).returncode == 0
    other = {**env, "OFFICINE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    result = officine("registre", "importer", "cartes", str(out), "--par", "Marie Martin", env=other)
    assert result.returncode == 0, result.stderr
    imported = RegisterBook(store_of(other)).entries("cartes")
    assert [(e.data["titulaire"], e.data["type"]) for e in imported] == [("Marie Curie", "e_cps")]
    # One bad entry in the file: nothing is imported.
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"registre": "cartes", "entrees": [{"titulaire": "Ok Ok", "type": "cps"}, {"type": "x"}]})
    )
    refused = officine("registre", "importer", "cartes", str(bad), "--par", "Marie Martin", env=other)
    assert refused.returncode == 2 and "entrée n° 2" in refused.stderr
    assert len(RegisterBook(store_of(other)).entries("cartes")) == 1
    wrong = officine("registre", "importer", "prestataires", str(out), "--par", "Marie Martin", env=other)
    assert wrong.returncode == 2 and "pas de « prestataires »" in " ".join(wrong.stderr.split())
    garbage = tmp_path / "g.json"
    garbage.write_bytes(b"\xff\xfe{")
    assert officine("registre", "importer", "cartes", str(garbage), "--par", "Marie Martin", env=other).returncode == 2


def fill(env: dict[str, str]) -> None:
    store = store_of(env)
    book = RegisterBook(store)
    officine("registre", "lister", "traitements", env=env)  # first opening: pre-filled
    first = book.entries("traitements")[0]
    data = {**first.data, "conservation": "=10 ans ; ordonnancier", "remarque": "Relu avec l'expert-comptable"}
    book.update("traitements", first.number, data, "Marie Martin", first.version)


def libreoffice_csv(path: Path, tmp_path: Path) -> list[list[str]]:
    outdir = tmp_path / f"lo-{path.suffix[1:]}"
    subprocess.run(
        [
            str(SOFFICE), "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(outdir), str(path),
        ],
        check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    text = (outdir / f"{path.stem}.csv").read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("fmt", ["ods", "xlsx"])
def test_spreadsheets_open_in_libreoffice_with_what_was_entered(env: dict[str, str], tmp_path: Path, fmt: str) -> None:
    fill(env)
    out = tmp_path / f"traitements.{fmt}"
    assert officine("registre", "exporter", "traitements", str(out), env=env).returncode == 0
    rows = libreoffice_csv(out, tmp_path)
    assert rows[0][:3] == ["N°", "Nom du traitement", "Finalité"]
    assert len(rows) == 1 + len(RegisterBook(store_of(env)).entries("traitements"))
    first = rows[1]
    assert first[1] == "Dispensation et dossier patient (logiciel d'officine)"
    # What was typed comes back as typed: a leading "=" stays text, never a formula.
    assert "=10 ans ; ordonnancier" in first
    assert "Relu avec l'expert-comptable" in first


def test_pdf_export_holds_the_entries(env: dict[str, str], tmp_path: Path) -> None:
    fill(env)
    officine("registre", "ajouter", "cartes", "titulaire=Marie Curie", "type=cps", "--par", "Marie Martin", env=env)
    for register, expected in (("traitements", "Relu avec"), ("cartes", "Marie Curie")):
        out = tmp_path / f"{register}.pdf"
        assert officine("registre", "exporter", register, str(out), env=env).returncode == 0
        text = " ".join((page.extract_text() or "") for page in PdfReader(out).pages)
        assert expected in " ".join(text.split())


def test_questionnaire_offline_round_trip_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    """The pharmacy asks, the provider fills and signs on its own machine (another data folder,
    no database), the pharmacy imports: once, and never a changed file."""
    by = ("--par", "Marie Martin, titulaire")
    officine("registre", "ajouter", "prestataires", "nom=InfoPharma", "service=Maintenance", *by, env=env)
    form = tmp_path / "formulaire.json"
    asked = officine("questionnaire", "demander", "1", "--fichier", str(form), *by, env=env)
    assert asked.returncode == 0, asked.stderr
    assert "/questionnaire/" in asked.stdout
    provider_env = {
        "OFFICINE_DATA_DIR": str(tmp_path / "provider"),
        "OFFICINE_MOT_DE_PASSE_CERTIFICAT": "Cle-du-prestataire-2026",
    }
    answers = tmp_path / "reponses.yaml"
    assert officine("questionnaire", "modele", str(answers), env=provider_env).returncode == 0
    lines: list[str] = []
    for skeleton in answers.read_text(encoding="utf-8").splitlines():
        line = skeleton
        if line.startswith("Q") and line.endswith(": "):
            line += "sans_objet" if line.startswith("Q04") else "oui"
        elif line == "  reponse: ":  # Q02 (where data is hosted) and Q06 (remote maintenance)
            line += "aucun" if "Q02" in lines[-1] else "sans_objet"
        lines.append(line)
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pdf = tmp_path / "signe.pdf"
    filled = officine(
        "questionnaire", "remplir", str(form), "--reponses", str(answers), "--sortie", str(pdf),
        "--creer-certificat", str(tmp_path / "moi.p12"), "--nom", "Jean Martin", "--societe", "InfoPharma",
        env=provider_env,
    )  # fmt: skip
    assert filled.returncode == 0, filled.stderr
    assert "auto-signé" in " ".join(filled.stderr.split())
    changed = tmp_path / "change.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x04
    changed.write_bytes(bytes(data))
    refused = officine("questionnaire", "importer", str(changed), *by, env=env)
    assert refused.returncode == 2 and "refusé" in refused.stderr and "Traceback" not in refused.stderr
    accepted = officine("questionnaire", "importer", str(pdf), *by, env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "Jean Martin" in accepted.stdout
    again = officine("questionnaire", "importer", str(pdf), *by, env=env)
    assert again.returncode == 2 and "qu'une fois" in " ".join(again.stderr.split())
