"""The `officine` command as a person uses it: exit codes, French messages, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import RootTree
from helpers import officine


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    return {"OFFICINE_DATA_DIR": str(tmp_path / "data"), "OFFICINE_DATABASE_URL": ""}


@pytest.fixture
def snap_file(tree: RootTree, tmp_path: Path) -> Path:
    tree.debian()
    out = tmp_path / "poste.json"
    proc = officine("collect", "--root", str(tree.path), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Instantané écrit" in proc.stderr
    return out


def test_audit_json_shape_and_history(snap_file: Path, data_env: dict[str, str]) -> None:
    proc = officine("audit", "--from", str(snap_file), "--json", env=data_env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc["score"], int)
    assert {"id", "score"} <= set(doc["practices"][0])
    assert {"id", "verdict", "evidence", "remediation"} <= set(doc["measures"][0])
    history = officine("history", "--json", env=data_env)
    assert history.returncode == 0
    assert [h["score"] for h in json.loads(history.stdout)] == [doc["score"]]


def test_fail_under_sets_exit_code_1(snap_file: Path, data_env: dict[str, str]) -> None:
    assert (
        officine(
            "audit", "--from", str(snap_file), "--fail-under", "100", "--sans-enregistrer", env=data_env
        ).returncode
        == 1
    )
    assert (
        officine("audit", "--from", str(snap_file), "--fail-under", "0", "--sans-enregistrer", env=data_env).returncode
        == 0
    )


def test_french_report(snap_file: Path, data_env: dict[str, str]) -> None:
    proc = officine("audit", "--from", str(snap_file), "--sans-enregistrer", env=data_env)
    assert proc.returncode == 0
    assert "Bilan de cybersécurité" in proc.stdout
    assert "À faire en priorité" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["audit", "--from", "/nonexistent/snapshot.json"], "introuvable"),
        (["audit", "--answers", "/nonexistent/r.yaml", "--sans-enregistrer"], "introuvable"),
        (["audit", "--root", "/nonexistent/root", "--sans-enregistrer"], "n'existe pas"),
        (["audit", "--fail-under", "abc"], "Commande incorrecte"),
        (["audit", "--no-such-option"], "Commande incorrecte"),
    ],
)
def test_bad_input_exit_2_in_french(args: list[str], message: str, data_env: dict[str, str]) -> None:
    proc = officine(*args, env=data_env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_snapshot_changes_nothing(snap_file: Path, data_env: dict[str, str], tmp_path: Path) -> None:
    assert officine("audit", "--from", str(snap_file), env=data_env).returncode == 0
    bad = tmp_path / "abime.json"
    bad.write_text(snap_file.read_text(encoding="utf-8")[:500], encoding="utf-8")
    proc = officine("audit", "--from", str(snap_file), "--from", str(bad), env=data_env)
    assert proc.returncode == 2 and "tronqué" in proc.stderr
    assert len(json.loads(officine("history", "--json", env=data_env).stdout)) == 1


def test_bad_answers_change_nothing(snap_file: Path, data_env: dict[str, str], tmp_path: Path) -> None:
    answers = tmp_path / "r.yaml"
    answers.write_text("answers:\n  SAV-03.q1: bof\n", encoding="utf-8")
    proc = officine("audit", "--from", str(snap_file), "--answers", str(answers), env=data_env)
    assert proc.returncode == 2 and "réponses possibles" in proc.stderr
    assert json.loads(officine("history", "--json", env=data_env).stdout) == []


def test_unwritable_data_dir(snap_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")  # even root cannot create a folder inside a file
    proc = officine("audit", "--from", str(snap_file), env={"OFFICINE_DATA_DIR": str(blocker / "d")})
    assert proc.returncode == 2 and "dossier de données" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreachable_database_url(snap_file: Path, tmp_path: Path) -> None:
    proc = officine("audit", "--from", str(snap_file), "--db", "postgresql+psycopg://u:secret@127.0.0.1:1/x")
    assert proc.returncode == 2
    assert "Base de données inaccessible" in proc.stderr
    assert "secret" not in proc.stderr


def test_collect_writes_atomically(tree: RootTree, tmp_path: Path) -> None:
    tree.debian()
    proc = officine("collect", "--root", str(tree.path), "--out", str(tmp_path / "missing-dir" / "x.json"))
    assert proc.returncode == 2 and "Impossible d'écrire" in proc.stderr
    assert not (tmp_path / "missing-dir").exists()


def test_catalogue_json_shape() -> None:
    proc = officine("catalogue", "--json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["version"]
    measure = doc["practices"][0]["measures"][0]
    assert {"id", "title", "severity", "verification", "sources"} <= set(measure)
    assert measure["verification"] in ("automatic", "question", "mixed")


def test_version_and_help() -> None:
    assert officine("--version").stdout.startswith("officine-cyber ")
    assert "audit" in officine("--help").stdout
