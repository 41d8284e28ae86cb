"""Snapshots: same verdicts live and replayed; tampered, truncated or foreign files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import RootTree
from helpers import audit_files, by_id
from officine import snapshot
from officine.errors import UserError
from officine.host import LocalHost
from officine.services.audit import run_audit


@pytest.fixture
def saved(tree: RootTree, tmp_path: Path) -> Path:
    tree.debian()
    tree.write("/etc/pam.d/common-password", "password requisite pam_pwquality.so minlen=9\n")
    path = tmp_path / "poste.json"
    snapshot.save(snapshot.collect(LocalHost(tree.path)), path)
    return path


def test_live_and_replayed_verdicts_are_identical() -> None:
    live = run_audit(save=False)
    snap = live.snapshots[0]
    replayed = snapshot.reanalyse(snapshot.parse(json.loads(snap.dumps()), Path("x")))
    assert {k: v.to_json() for k, v in replayed.facts.items()} == {k: v.to_json() for k, v in snap.facts.items()}
    again = run_audit(from_files=None, save=False)  # a second live run, same machine
    assert {m.measure.id for m in again.assessment.measures} == {m.measure.id for m in live.assessment.measures}


def test_file_round_trip_gives_same_verdicts(saved: Path, tree: RootTree) -> None:
    from helpers import audit_root

    direct = audit_root(tree.path)
    replayed = audit_files(saved)
    assert {k: v.verdict for k, v in direct.items()} == {k: v.verdict for k, v in replayed.items()}
    assert replayed["MDP-01"].verdict.value == "fail"


def test_tampered_value_is_refused(saved: Path) -> None:
    doc = json.loads(saved.read_text(encoding="utf-8"))
    for obs in doc["observations"]:
        if obs["target"] == "/etc/pam.d/common-password":
            obs["output"] = "password requisite pam_pwquality.so minlen=20\n"
    saved.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(UserError, match="modifié ou abîmé"):
        snapshot.load(saved)


def test_resealed_snapshot_with_missing_observation_is_unknown_never_pass(saved: Path) -> None:
    doc = json.loads(saved.read_text(encoding="utf-8"))
    doc["observations"] = [o for o in doc["observations"] if o["target"] != "/etc/pam.d/common-password"]
    # A forger who also recomputes the seal: the fact has no evidence left, so it cannot pass.
    doc["facts"]["password.min_length"] = {"status": "observed", "value": {"value": 30}, "sources": []}
    doc["integrity"]["digest"] = snapshot.digest(doc)
    saved.write_text(json.dumps(doc), encoding="utf-8")
    results = audit_files(saved)
    assert results["MDP-01"].verdict.value == "unknown"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "tronqué"),
        (b'{"format": "officine-cyber/snapshot", "schema_version": 1, "observ', "tronqué"),
        (b'{"hello": "world"}', "pas un fichier produit"),
        (b'{"format": "officine-cyber/snapshot", "schema_version": 99}', "version de format 99"),
        (b"\xff\xfe\x00garbage", "tronqué"),
        (b"[1, 2, 3]", "pas un fichier produit"),
    ],
)
def test_bad_files_get_a_french_message(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        snapshot.load(path)


def test_truncated_real_snapshot_is_refused(saved: Path) -> None:
    raw = saved.read_bytes()
    saved.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(UserError, match="tronqué"):
        snapshot.load(saved)


def test_structurally_wrong_but_sealed_snapshot_is_refused(saved: Path) -> None:
    doc = json.loads(saved.read_text(encoding="utf-8"))
    doc["observations"][0]["kind"] = "registry-of-doom"
    doc["integrity"]["digest"] = snapshot.digest(doc)
    saved.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(UserError, match="structure inattendue"):
        snapshot.load(saved)


def test_snapshot_documents_how_each_fact_was_observed(saved: Path) -> None:
    doc = json.loads(saved.read_text(encoding="utf-8"))
    assert doc["schema_version"] == 1 and doc["platform"] == "linux" and doc["mode"] == "mounted"
    keys = {o["key"] for o in doc["observations"]}
    for name, fact in doc["facts"].items():
        assert fact["status"] in ("observed", "unknown", "not_applicable"), name
        assert set(fact["sources"]) <= keys, name
    assert doc["host"]["hostname"] == "comptoir-1"


def test_audit_of_replay_does_not_touch_the_machine(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replayed audit must not run commands")

    monkeypatch.setattr(subprocess, "run", forbidden)
    assert by_id(run_audit(from_files=[saved], save=False).assessment)
