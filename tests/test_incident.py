"""The incident assistant: journal integrity, 72-hour clock, register, runbook, evidence, report."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect
import pytest

from officine.errors import UserError
from officine.incident.breach import PARIS, Breach, cnil_draft, deadline
from officine.incident.evidence import collect, verify_manifest
from officine.incident.journal import Journal, verify
from officine.incident.register import list_breaches, record
from officine.incident.runbook import current_incident, steps

ROOT = Path(__file__).parents[1]


def officine(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "officine", *args], capture_output=True, text=True, timeout=120, check=False, **kw
    )  # type: ignore[call-overload, no-any-return]


# -- journal ----------------------------------------------------------------------------------
@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "journal.jsonl")
    for i in range(1, 6):
        j.append("Mme Martin", "note", {"note": f"entrée {i}"})
    assert verify(j.path).ok
    return j


def _lines(j: Journal) -> list[str]:
    return j.path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_modified_entry_is_named(journal: Journal) -> None:
    lines = _lines(journal)
    entry = json.loads(lines[2])
    entry["details"]["note"] = "réécrit"
    lines[2] = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    journal.path.write_text("".join(lines), encoding="utf-8")
    problems = verify(journal.path).problems
    assert [(p.kind, p.seq) for p in problems] == [("modified", 3)]


def test_deleted_entry_is_named(journal: Journal) -> None:
    lines = _lines(journal)
    del lines[1]
    journal.path.write_text("".join(lines), encoding="utf-8")
    problems = verify(journal.path).problems
    assert [(p.kind, p.seq) for p in problems] == [("deleted", 3)]
    assert "n° 2 supprimée" in problems[0].message


def test_reordered_entries_are_named(journal: Journal) -> None:
    lines = _lines(journal)
    lines[2], lines[3] = lines[3], lines[2]
    journal.path.write_text("".join(lines), encoding="utf-8")
    kinds = {(p.kind, p.seq) for p in verify(journal.path).problems}
    assert ("deleted", 4) in kinds or ("reordered", 4) in kinds
    assert ("reordered", 3) in kinds


def test_deleting_the_last_entry_breaks_the_external_anchor(journal: Journal) -> None:
    anchor = verify(journal.path).last_hash
    lines = _lines(journal)
    journal.path.write_text("".join(lines[:-1]), encoding="utf-8")
    assert verify(journal.path).ok and verify(journal.path).last_hash != anchor


def test_interrupted_write_is_never_taken_for_valid_and_nothing_is_lost(journal: Journal) -> None:
    with journal.path.open("ab") as fh:
        fh.write(b'{"seq": 6, "at": "2026-11-29T10:00:00+00:00", "actor": "x", "act')
    result = verify(journal.path)
    assert [p.kind for p in result.problems] == ["truncated"] and len(result.entries) == 5
    journal.append("Mme Martin", "note", {"note": "après la coupure"})
    after = verify(journal.path)
    assert after.ok and [e["seq"] for e in after.entries] == [1, 2, 3, 4, 5, 6]
    partial = list(journal.path.parent.glob("journal.jsonl.*.partial"))
    assert len(partial) == 1 and partial[0].read_bytes().startswith(b'{"seq": 6')


def test_journal_survives_a_process_killed_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom pathlib import Path\nfrom officine.incident.journal import Journal\n"
            f"j = Journal(Path({str(path)!r}))\nprint('go', flush=True)\n"
            "while True:\n    j.append('robot', 'note', {'note': 'x' * 200_000})\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "go"
    time.sleep(0.8)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    result = verify(path)
    assert len(result.entries) >= 1
    assert all(p.kind == "truncated" for p in result.problems)
    Journal(path).append("Mme Martin", "note", {"note": "reprise"})
    assert verify(path).ok


# -- 72 hours and the register ------------------------------------------------------------------
def test_deadline_is_72_real_hours_across_spring_forward() -> None:
    discovered = datetime(2026, 3, 27, 10, 0, tzinfo=PARIS)  # CET; clocks go forward on 29 March
    due = deadline(discovered)
    assert due.astimezone(UTC) - discovered.astimezone(UTC) == timedelta(hours=72)
    assert (due.day, due.hour, due.utcoffset()) == (30, 11, timedelta(hours=2))


def test_deadline_is_72_real_hours_across_fall_back() -> None:
    discovered = datetime(2026, 10, 23, 10, 0, tzinfo=PARIS)  # CEST; clocks go back on 25 October
    due = deadline(discovered)
    assert due.astimezone(UTC) - discovered.astimezone(UTC) == timedelta(hours=72)
    assert (due.day, due.hour, due.utcoffset()) == (26, 9, timedelta(hours=1))


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="fuseau"):
        deadline(datetime(2026, 1, 1, 10, 0))


def test_register_lists_a_breach_that_was_not_notified() -> None:
    with pytest.raises(UserError, match="pourquoi"):
        record(Breach(discovered_at=datetime.now(UTC), nature="Clé USB perdue"), "Mme Martin")
    kept = record(
        Breach(
            discovered_at=datetime(2026, 11, 2, 9, 0, tzinfo=PARIS),
            nature="Clé USB chiffrée perdue",
            not_notified_reason="risque improbable : clé chiffrée, mot de passe non compromis",
        ),
        "Mme Martin",
    )
    notified = record(
        Breach(
            discovered_at=datetime(2026, 11, 20, 9, 0, tzinfo=PARIS),
            nature="Rançongiciel",
            approx_people=1200,
            notified=True,
        ),
        "Mme Martin",
    )
    assert [(b.id, b.notified) for b in list_breaches()] == [(kept.id, False), (notified.id, True)]


def test_cnil_draft_has_every_required_field_and_asks_for_the_delay_reason() -> None:
    b = Breach(
        discovered_at=datetime(2026, 11, 20, 9, 0, tzinfo=PARIS),
        nature="Rançongiciel sur le serveur LGO",
        categories_people="patients",
        approx_people=1200,
        categories_records="ordonnances, NIR",
        approx_records=15000,
        consequences="indisponibilité, fuite possible",
        measures="isolement, restauration",
        contact="Mme Martin, titulaire, 01 02 03 04 05",
    )
    text = cnil_draft(b, "Pharmacie du Centre", datetime(2026, 11, 21, 9, 0, tzinfo=PARIS))
    for needle in (
        "Nature de la violation : Rançongiciel",
        "Nombre approximatif de personnes : 1200",
        "Catégories de données concernées : ordonnances, NIR",
        "Conséquences probables",
        "Mesures prises ou envisagées",
        "Contact",
        "initiale",
    ):
        assert needle in text
    assert "Raison du retard" not in text
    late = cnil_draft(b, "Pharmacie du Centre", datetime(2026, 11, 24, 9, 0, tzinfo=PARIS))
    assert "Raison du retard" in late


# -- runbook ----------------------------------------------------------------------------------
def _steps_done() -> list[tuple[str, str]]:
    incident = current_incident()
    assert incident is not None
    return [(e["action"], e["details"].get("step")) for e in incident.entries() if e["action"].startswith("step")]


def test_scripted_runbook_records_every_step(tmp_path: Path) -> None:
    contacts = Path(os.environ["OFFICINE_CONFIG_DIR"]) / "contacts.yaml"
    contacts.parent.mkdir(parents=True, exist_ok=True)
    contacts.write_text("prestataire:\n  nom: Informatique Durand\n  telephone: 01 23 45 67 89\n", encoding="utf-8")
    script = tmp_path / "reponses.yaml"
    ids = [s.id for s in steps()]
    script.write_text(
        "by: Mme Martin (titulaire)\nsteps:\n"
        + "".join(f"  {i}: {'passe' if i == 'cartes_cps' else 'fait'}\n" for i in ids),
        encoding="utf-8",
    )
    proc = officine("incident", "start", "--script", str(script))
    assert proc.returncode == 0, proc.stderr
    assert "Informatique Durand" in proc.stdout and "01 23 45 67 89" in proc.stdout
    assert _steps_done() == [("step_done", i) if i != "cartes_cps" else ("step_skipped", i) for i in ids]
    incident = current_incident()
    assert incident is not None and {e["actor"] for e in incident.entries()} == {"Mme Martin (titulaire)"}
    assert verify(incident.journal.path).ok


def test_scripted_runbook_rejects_unknown_steps(tmp_path: Path) -> None:
    script = tmp_path / "r.yaml"
    script.write_text("steps:\n  danser: fait\n", encoding="utf-8")
    proc = officine("incident", "start", "--script", str(script))
    assert proc.returncode == 2 and "Étape(s) inconnue(s)" in proc.stderr


def test_interactive_runbook_in_a_terminal() -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "officine", "incident", "start", "--par", "Paul (préparateur)"],
        env={**os.environ, "COLUMNS": "120"},
        encoding="utf-8",
        timeout=60,
    )
    child.expect("Coupez le réseau de ce poste")
    child.expect(r"Fait \?")
    child.sendline("o")
    child.expect("Note")
    child.sendline("câble débranché à 10 h 02")
    child.expect("noté : fait")
    assert _steps_done() == [("step_done", "debrancher")]  # written before the next question
    child.expect("Laissez le poste allumé")
    child.expect(r"Fait \?")
    child.sendline("p")
    child.expect("noté : passé")
    assert _steps_done() == [("step_done", "debrancher"), ("step_skipped", "laisser_allume")]
    child.expect(r"Fait \?")
    child.sendline("q")
    child.expect("Reprenez")
    child.expect(pexpect.EOF)
    assert _steps_done() == [("step_done", "debrancher"), ("step_skipped", "laisser_allume")]
    incident = current_incident()
    assert incident is not None
    first = next(e for e in incident.entries() if e["action"] == "step_done")
    assert first["actor"] == "Paul (préparateur)" and first["details"]["note"] == "câble débranché à 10 h 02"


# -- evidence and report ----------------------------------------------------------------------
def _hashes(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_evidence_leaves_protected_files_unchanged_and_manifest_verifies(tmp_path: Path) -> None:
    protected = tmp_path / "donnees"
    (protected / "ordonnances").mkdir(parents=True)
    (protected / "ordonnances" / "scan-001.pdf").write_bytes(b"%PDF-1.4 ordonnance")
    (protected / "ordonnances" / "scan-002.pdf.lockbit").write_bytes(os.urandom(512))
    (protected / "LISEZ-MOI_DECRYPT.txt").write_text("Vos fichiers sont chiffrés", encoding="utf-8")
    before = _hashes(protected)
    dest = tmp_path / "cle-usb"
    dest.mkdir()
    manifest = collect(dest, [protected])
    assert _hashes(protected) == before
    assert verify_manifest(manifest) == []
    found = json.loads((manifest.parent / "fichiers-recents.json").read_text(encoding="utf-8"))[0]
    assert any("LISEZ-MOI_DECRYPT" in p for p in found["ransom_note_like"])
    assert any(p.endswith(".lockbit") for p in found["unusual_extensions"])
    processes = json.loads((manifest.parent / "processus-executables.json").read_text(encoding="utf-8"))
    me = next(p for p in processes if p["pid"] == os.getpid())
    assert me["exe_sha256"] == hashlib.sha256(Path(os.readlink("/proc/self/exe")).read_bytes()).hexdigest()
    (manifest.parent / "processus.txt").write_text("effacé", encoding="utf-8")
    assert verify_manifest(manifest) == ["processus.txt"]


def test_cli_evidence_report_and_verify(tmp_path: Path) -> None:
    assert officine("incident", "start", "--script", str(_script(tmp_path)), "--par", "Mme Martin").returncode == 0
    dest = tmp_path / "cle"
    dest.mkdir()
    assert officine("incident", "evidence", "--vers", str(dest), "--dossier", str(tmp_path)).returncode == 0
    pdf = tmp_path / "rapport.pdf"
    proc = officine("incident", "report", "--vers", str(pdf), "--pharmacie", "Pharmacie du Centre")
    assert proc.returncode == 0, proc.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    assert officine("incident", "verify").returncode == 0
    incident = current_incident()
    assert incident is not None
    lines = incident.journal.path.read_text(encoding="utf-8").splitlines(keepends=True)
    incident.journal.path.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    proc = officine("incident", "verify")
    assert proc.returncode == 1 and "ALTÉRÉ" in proc.stdout and "supprimée" in proc.stdout


def _script(tmp_path: Path) -> Path:
    script = tmp_path / "s.yaml"
    script.write_text("steps:\n  debrancher: fait\n  laisser_allume: fait\n", encoding="utf-8")
    return script
