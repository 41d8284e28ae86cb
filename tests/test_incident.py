"""The incident assistant: 72-hour clock, register, runbook, contacts, evidence, report."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pexpect
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from conftest import needs_root
from officine.errors import UserError
from officine.incident.breach import PARIS, Breach, cnil_draft, deadline
from officine.incident.chain import GENESIS, entry_hash
from officine.incident.contacts import Contact, load_contacts
from officine.incident.evidence import EvidenceIncomplete, collect, verify_manifest
from officine.incident.register import list_breaches, record
from officine.incident.runbook import current_incident, open_incident, steps

ROOT = Path(__file__).parents[1]


def officine(
    *args: str, env: dict[str, str] | None = None, stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in a new process. Its output is read as one line of words: messages that
    name long temporary paths wrap, and a sentence must not depend on where."""
    proc = subprocess.run(
        [sys.executable, "-m", "officine", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=stdin,
        env={**(env or os.environ), "COLUMNS": "200"},
    )
    proc.stdout, proc.stderr = " ".join(proc.stdout.split()), " ".join(proc.stderr.split())
    return proc


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
    kept, _ = record(
        Breach(
            discovered_at=datetime(2026, 11, 2, 9, 0, tzinfo=PARIS),
            nature="Clé USB chiffrée perdue",
            not_notified_reason="risque improbable : clé chiffrée, mot de passe non compromis",
        ),
        "Mme Martin",
    )
    notified, _ = record(
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
    return [(e.action, e.detail("step")) for e in incident.timeline() if e.action.startswith("step")]


def _answers(ids: list[str], **special: str) -> str:
    return "".join(f"  {i}: {special.get(i, 'fait' if i not in QUESTIONS else 'non')}\n" for i in ids)


QUESTIONS = {s.id for s in steps() if s.kind == "question"}


def test_the_two_yes_no_steps_are_questions() -> None:
    assert {"donnees_personnelles", "cartes_cps"} == QUESTIONS
    assert all(s.title.endswith("?") for s in steps() if s.kind == "question")


def test_scripted_runbook_records_every_step(tmp_path: Path) -> None:
    script = tmp_path / "reponses.yaml"
    ids = [s.id for s in steps()]
    script.write_text(
        "by: Mme Martin (titulaire)\nsteps:\n" + _answers(ids, cartes_cps="passe", donnees_personnelles="oui"),
        encoding="utf-8",
    )
    proc = officine("incident", "start", "--script", str(script))
    assert proc.returncode == 0, proc.stderr
    expected = [("step_skipped" if i == "cartes_cps" else "step_done", i) for i in ids]
    assert _steps_done() == expected
    incident = current_incident()
    assert incident is not None and {e.actor for e in incident.timeline()} == {"Mme Martin (titulaire)"}
    answered = incident.done_steps()["donnees_personnelles"]
    assert answered.detail("answer") == "oui" and "breach record" in proc.stdout
    assert incident.verify().ok


def test_scripted_runbook_rejects_unknown_steps(tmp_path: Path) -> None:
    script = tmp_path / "r.yaml"
    script.write_text("by: Paul\nsteps:\n  danser: fait\n", encoding="utf-8")
    proc = officine("incident", "start", "--script", str(script))
    assert proc.returncode == 2 and "Étape(s) inconnue(s)" in proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("by: Paul\nsteps:\n  debrancher: fiat\n", "Réponse non comprise pour l'étape « debrancher »"),
        ("by: Paul\nsteps:\n  cartes_cps: fait\n", "Réponse non comprise pour l'étape « cartes_cps »"),
        ("steps:\n  debrancher: fait\n", "Indiquez qui agit"),
        ("by: [Paul]\nsteps:\n  debrancher: fait\n", "« by » doit être un texte"),
        ("by: P\nsteps:\n  debrancher: fait\n", "Nom de la personne qui agit invalide"),
    ],
)
def test_scripted_runbook_refuses_a_typo_and_records_nothing(tmp_path: Path, content: str, message: str) -> None:
    script = tmp_path / "r.yaml"
    script.write_text(content, encoding="utf-8")
    proc = officine("incident", "start", "--script", str(script))
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert current_incident() is None  # not even an incident opened


def _spawn(*args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "officine", "incident", *args],
        env={**os.environ, "COLUMNS": "200"},
        encoding="utf-8",
        use_poll=True,
        timeout=60,
    )


def test_interactive_runbook_asks_who_refuses_typos_and_asks_questions_as_questions() -> None:
    child = _spawn("start")
    child.expect(r"Qui êtes-vous \?")
    child.sendline("")
    child.expect("Indiquez votre nom")
    child.expect(r"Qui êtes-vous \?")
    child.sendline("Paul Durand, préparateur")
    child.expect("Coupez le réseau de ce poste")
    child.expect(r"C'est fait \?")
    child.sendline("oiu")  # a typo: asked again, nothing skipped
    child.expect("Réponse non comprise")
    child.expect(r"C'est fait \?")
    assert _steps_done() == []
    child.sendline("o")
    child.expect("Note")
    child.sendline("câble débranché à 10 h 02")
    child.expect("noté : fait")
    assert _steps_done() == [("step_done", "debrancher")]  # written before the next question
    for _ in range(6):  # the action steps up to the first question
        child.expect(r"C'est fait \?")
        child.sendline("p")
        child.expect("noté : passé")
    child.expect(r"Des données personnelles ont-elles pu fuiter ou être perdues \? \[o = oui · n = non")
    child.sendline("n")
    child.expect("noté : non")
    child.expect(r"Une carte CPS ou e-CPS a-t-elle été utilisée frauduleusement \?")
    child.sendline("q")
    child.expect("Reprenez")
    child.expect(pexpect.EOF)
    incident = current_incident()
    assert incident is not None
    timeline = incident.timeline()
    assert {e.actor for e in timeline} == {"Paul Durand, préparateur"}
    first = next(e for e in timeline if e.action == "step_done")
    assert first.detail("note") == "câble débranché à 10 h 02"
    assert incident.done_steps()["donnees_personnelles"].detail("answer") == "non"
    assert "cartes_cps" not in incident.done_steps()


def test_actor_is_never_silently_root(tmp_path: Path) -> None:
    """Without --par and without a terminal, the record says the name was not given."""
    assert officine("incident", "start", "--script", str(_script(tmp_path)), "--par", "Mme Martin").returncode == 0
    proc = officine("incident", "close", stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    closing = [e for e in _all_entries() if e.action == "incident_closed"]
    assert "nom non indiqué" in closing[0].actor


def _all_entries() -> list[Any]:
    base = Path(os.environ["OFFICINE_DATA_DIR"]) / "incidents"
    from officine.incident.runbook import Incident

    return [e for folder in sorted(base.iterdir()) for e in Incident(folder).timeline()]


@pytest.mark.parametrize("by", ["", "x", "a" * 121, "Paul\x07"])
def test_bad_actor_name_is_refused(by: str) -> None:
    proc = officine("incident", "close", "--par", by)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


# -- status on strange but validly chained entries ------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
entry_like = st.fixed_dictionaries(
    {},
    optional={
        "at": json_values | st.sampled_from(["2026-11-29T10:00:00+00:00", "9999-12-31T23:59:59", "0001-01-01T00:00"]),
        "actor": json_values,
        "action": json_values | st.sampled_from(["step_done", "step_skipped", "incident_closed", "evidence_collected"]),
        "details": json_values
        | st.fixed_dictionaries(
            {"step": json_values | st.sampled_from([s.id for s in steps()])},
            optional={"answer": json_values, "note": json_values},
        ),
        "evidence": json_values,
        "extra": json_values,
    },
)


def write_chain(path: Path, bodies: list[dict[str, Any]]) -> None:
    """Entries of any shape, correctly numbered and chained: what only a forger or a future version writes."""
    lines, prev = [], GENESIS
    for seq, body in enumerate(bodies, start=1):
        entry = {**body, "seq": seq, "prev": prev}
        entry["hash"] = entry_hash(entry)
        prev = entry["hash"]
        lines.append(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


@given(bodies=st.lists(entry_like, min_size=0, max_size=6))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
def test_status_never_crashes_on_a_validly_chained_entry_of_unexpected_shape(bodies: list[dict[str, Any]]) -> None:
    from typer.testing import CliRunner

    from officine.cli.main import app

    folder = Path(os.environ["OFFICINE_DATA_DIR"]) / "incidents" / "20261129-100000"
    write_chain(folder / "journal.jsonl", [{"action": "incident_opened", "actor": "Mme Martin"}, *bodies])
    result = CliRunner().invoke(app, ["incident", "status"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0
    incident = current_incident()
    if incident is not None:  # closed by one of the strange entries otherwise
        assert incident.verify().status in ("intact", "unproven")  # chained, never "altered"


@given(bodies=st.lists(entry_like, min_size=1, max_size=4))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
def test_report_never_crashes_on_a_validly_chained_entry_of_unexpected_shape(
    bodies: list[dict[str, Any]], tmp_path: Path
) -> None:
    from officine.incident.report import build
    from officine.incident.runbook import Incident

    folder = Path(os.environ["OFFICINE_DATA_DIR"]) / "incidents" / "20261129-110000"
    write_chain(folder / "journal.jsonl", [{"action": "incident_opened", "actor": "Mme Martin"}, *bodies])
    out = build(Incident(folder), tmp_path / "r.pdf")
    assert out.read_bytes().startswith(b"%PDF")


# -- contacts: one model from the dashboard to the PDF ------------------------------------------------
def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_contacts_saved_on_the_dashboard_reach_the_cli_and_the_pdf(tmp_path: Path) -> None:
    from officine.services import site
    from officine.store import Store

    store = Store()  # the dashboard's database (the default one, as `officine serve` opens it)
    form = {
        "name": "Pharmacie des Tilleuls",
        "prestataire.name": "InfoPharma",
        "prestataire.phone": "04 00 00 00 01",
        "prestataire.email": "aide@infopharma.fr",
        "editeur_lgo.name": "LGO Plus",
        "editeur_lgo.phone": "04 00 00 00 02",
        "assureur.name": "Mutuelle des Pharmaciens",
        "assureur.phone": "04 00 00 00 03",
        "cpam.phone": "36 46",
    }
    site.save_profile(store, site.parse_profile(form), "marie")  # exactly what POST /parametres does
    proc = officine("incident", "start", "--script", str(_script(tmp_path, all_steps=True)), "--par", "Marie")
    assert proc.returncode == 0, proc.stderr
    for number in ("04 00 00 00 01", "04 00 00 00 02", "04 00 00 00 03", "36 46"):
        assert number in proc.stdout
    assert "InfoPharma" in proc.stdout and "Mutuelle des Pharmaciens" in proc.stdout
    assert "non renseigné" not in proc.stdout
    pdf = tmp_path / "rapport.pdf"
    assert officine("incident", "report", "--vers", str(pdf)).returncode == 0
    text = pdf_text(pdf)
    for value in ("InfoPharma", "04 00 00 00 01", "aide@infopharma.fr", "LGO Plus", "04 00 00 00 03", "36 46"):
        assert value in text
    assert "non renseigné" not in text
    # And the dashboard reads back the same model.
    profile = site.load_profile(store)
    assert profile is not None and profile.contacts["assureur"] == Contact(
        name="Mutuelle des Pharmaciens", phone="04 00 00 00 03"
    )


def test_hand_written_contacts_file_in_french_is_read_and_kept_by_the_first_dashboard_save() -> None:
    from officine.services import site
    from officine.store import Store

    path = Path(os.environ["OFFICINE_CONFIG_DIR"]) / "contacts.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("prestataire:\n  nom: Informatique Durand\n  telephone: 01 23 45 67 89\n", encoding="utf-8")
    durand = Contact(name="Informatique Durand", phone="01 23 45 67 89")
    assert load_contacts()["prestataire"] == durand
    store = Store()
    # The first-run form shows no contacts: saving it must not wipe the file's.
    site.save_profile(store, site.parse_profile({"name": "Pharmacie des Tilleuls"}), "marie")
    profile = site.load_profile(store)
    assert profile is not None and profile.contacts["prestataire"] == durand
    assert load_contacts()["prestataire"] == durand
    # Later, emptying the fields on the dashboard is a choice, and is followed.
    site.save_profile(store, site.parse_profile({"name": "Pharmacie des Tilleuls"}), "marie")
    assert not load_contacts()["prestataire"].filled


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("prestataire: [1, 2]\n", "rôle « prestataire »"),
        ("plombier:\n  nom: Léon\n", "rôle(s) inconnu(s) plombier"),
        ("prestataire:\n  adresse: ici\n", "champs possibles nom, telephone, courriel"),
        ("- a\n- b\n", "un rôle par ligne"),
        ("prestataire: {nom: [\n", "illisible"),
    ],
)
def test_broken_contacts_file_is_named_and_the_reflexes_go_on(tmp_path: Path, content: str, message: str) -> None:
    """Under attack, a broken contacts file must not stop the reflexes: it is named with what is
    wrong, the steps go on without the contacts, and the file is left as it was."""
    path = Path(os.environ["OFFICINE_CONFIG_DIR"]) / "contacts.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    proc = officine("incident", "start", "--script", str(_script(tmp_path)), "--par", "Marie")
    said = " ".join(proc.stdout.split())
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert message in said and "Les étapes suivent sans vos contacts" in said
    assert current_incident() is not None
    assert path.read_text(encoding="utf-8") == content


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
    assert json.loads(manifest.read_text(encoding="utf-8"))["complete"] is True
    found = json.loads((manifest.parent / "fichiers-recents.json").read_text(encoding="utf-8"))[0]
    assert any("LISEZ-MOI_DECRYPT" in p for p in found["ransom_note_like"])
    assert any(p.endswith(".lockbit") for p in found["unusual_extensions"])
    processes = json.loads((manifest.parent / "processus-executables.json").read_text(encoding="utf-8"))
    me = next(p for p in processes if p["pid"] == os.getpid())
    assert me["exe_sha256"] == hashlib.sha256(Path(os.readlink("/proc/self/exe")).read_bytes()).hexdigest()
    (manifest.parent / "processus.txt").write_text("effacé", encoding="utf-8")
    assert verify_manifest(manifest) == ["processus.txt"]


@contextlib.contextmanager
def mounted(where: Path, *options: str) -> Iterator[Path]:
    """A file system the test mounts and removes (never one of the machine's own)."""
    where.mkdir(parents=True)
    subprocess.run(["mount", *options, str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@contextlib.contextmanager
def read_only_key(tmp_path: Path) -> Iterator[Path]:
    source = tmp_path / "cle-source"
    source.mkdir()
    with mounted(tmp_path / "cle", "--bind", str(source)) as key:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(key)], check=True)
        yield key


@needs_root
def test_evidence_onto_a_read_only_key_writes_nothing_and_says_so(tmp_path: Path) -> None:
    with read_only_key(tmp_path) as key:
        proc = officine("incident", "evidence", "--vers", str(key), "--par", "Marie")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "lecture seule" in proc.stderr and "rien n'y a été écrit" in proc.stderr
        assert "Rien n'a été modifié" not in proc.stderr + proc.stdout
        assert list(key.iterdir()) == []
    failed = [e for e in _all_entries() if e.action == "evidence_failed"]
    assert len(failed) == 1 and "lecture seule" in failed[0].detail("result")


@needs_root
def test_evidence_onto_a_full_key_checks_the_space_first(tmp_path: Path) -> None:
    with mounted(tmp_path / "cle", "-t", "tmpfs", "-o", "size=16k", "tmpfs") as key:
        proc = officine("incident", "evidence", "--vers", str(key), "--par", "Marie")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "Place insuffisante" in proc.stderr and "Rien n'a été écrit" in proc.stderr
        assert list(key.iterdir()) == []


@needs_root
def test_key_filling_up_part_way_leaves_a_true_manifest_and_keeps_the_rest(tmp_path: Path) -> None:
    incident = open_incident("Marie")
    with mounted(tmp_path / "cle", "-t", "tmpfs", "-o", "size=4m", "tmpfs") as key:
        written: list[str] = []

        def fill_after_second(name: str) -> None:
            written.append(name)
            if len(written) == 2:  # someone copies a film onto the key meanwhile
                with (key / "film.mkv").open("wb", buffering=0) as fh, contextlib.suppress(OSError):
                    while True:
                        fh.write(b"\0" * 65536)

        with pytest.raises(EvidenceIncomplete) as caught:
            collect(key, [tmp_path], on_written=fill_after_second, keep_rest=incident.folder)
        exc = caught.value
        manifest_path = exc.bundle / "manifeste.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        on_key = sorted(p.name for p in exc.bundle.iterdir() if p.name != "manifeste.json")
        assert manifest["complete"] is False
        assert sorted(f["name"] for f in manifest["files"]) == on_key == sorted(exc.written)
        assert len(on_key) >= 2 and verify_manifest(manifest_path) == []
        assert "la clé est pleine" in exc.message and "manifeste" in exc.message
    assert exc.kept is not None and sorted(p.name for p in exc.kept.iterdir()) == sorted(exc.missing)
    assert exc.missing and set(exc.missing).isdisjoint(exc.written)


def test_cli_evidence_report_and_verify(tmp_path: Path) -> None:
    assert officine("incident", "start", "--script", str(_script(tmp_path)), "--par", "Mme Martin").returncode == 0
    dest = tmp_path / "cle"
    dest.mkdir()
    proc = officine("incident", "evidence", "--vers", str(dest), "--dossier", str(tmp_path), "--par", "Marie")
    assert proc.returncode == 0, proc.stderr
    pdf = tmp_path / "rapport.pdf"
    proc = officine("incident", "report", "--vers", str(pdf), "--pharmacie", "Pharmacie du Centre")
    assert proc.returncode == 0, proc.stderr
    receipt = proc.stdout.split("hors de ce poste : ")[1].split()[0]
    text = pdf_text(pdf)
    assert "Journal intact" in text and receipt.split(":")[2][:40] in text.replace("\n", "")
    assert officine("incident", "verify").returncode == 0
    assert officine("incident", "verify", "--recu", receipt).returncode == 0
    incident = current_incident()
    assert incident is not None
    lines = incident.journal.path.read_text(encoding="utf-8").splitlines(keepends=True)
    incident.journal.path.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    proc = officine("incident", "verify")
    assert proc.returncode == 1 and "ALTÉRÉ" in proc.stdout and "entrée n° 2 supprimée" in proc.stdout
    proc = officine("incident", "verify", "--recu", receipt)
    assert proc.returncode == 1 and "NON CONFORME" in proc.stdout


def test_verify_names_an_incident_without_opening_and_a_vanished_folder(tmp_path: Path) -> None:
    incident = open_incident("Marie")
    incident.record("Marie", "note", note="premier geste")
    empty = incident.folder.parent / "20200101-000000"
    empty.mkdir()  # a folder with no journal: an incident with no opening entry
    proc = officine("incident", "verify")
    assert proc.returncode == 1 and "l'incident n'a pas d'entrée d'ouverture" in proc.stdout
    empty.rmdir()
    for f in incident.folder.iterdir():
        f.unlink()
    incident.folder.rmdir()
    proc = officine("incident", "verify")
    assert proc.returncode == 1 and "dossier disparu" in proc.stdout and "supprimé" in proc.stdout


@pytest.mark.parametrize("receipt", ["n'importe quoi", "x:1:abc", "x:deux:" + "a" * 64, "x:1:" + "z" * 64])
def test_unreadable_receipt_is_a_french_error(receipt: str) -> None:
    proc = officine("incident", "verify", "--recu", receipt)
    assert proc.returncode == 2 and "Reçu illisible" in proc.stderr


@needs_root
def test_full_data_disk_is_said_in_french_and_changes_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "OFFICINE_DATABASE_URL": f"sqlite:///{tmp_path / 'base.db'}"}
    with mounted(tmp_path / "donnees", "-t", "tmpfs", "-o", "size=128k", "tmpfs") as data:
        env["OFFICINE_DATA_DIR"] = str(data)
        proc = officine("incident", "start", "--script", str(_script(tmp_path)), "--par", "Marie", env=env)
        assert proc.returncode == 0, proc.stderr
        journal = next(data.glob("incidents/*/journal.jsonl"))
        before = journal.read_bytes()
        with (data / "remplissage").open("wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
        proc = officine("incident", "close", "--par", "Marie", "--note", "n" * 8000, env=env)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "le disque est plein" in proc.stderr and "Rien n'y a été ajouté" in proc.stderr
        assert journal.read_bytes() == before


def _script(tmp_path: Path, all_steps: bool = False) -> Path:
    script = tmp_path / "s.yaml"
    body = _answers([s.id for s in steps()]) if all_steps else "  debrancher: fait\n  laisser_allume: fait\n"
    script.write_text("steps:\n" + body, encoding="utf-8")
    return script


def test_deleting_the_breach_register_is_seen() -> None:
    record(Breach(discovered_at=datetime.now(UTC), nature="Rançongiciel", notified=True), "Mme Martin")
    assert officine("incident", "verify").returncode == 0
    (Path(os.environ["OFFICINE_DATA_DIR"]) / "registre-violations.jsonl").unlink()
    proc = officine("incident", "verify")
    assert proc.returncode == 1 and "registre des violations" in proc.stdout and "supprimé" in proc.stdout


def test_two_people_recording_breaches_at_once_get_distinct_numbers() -> None:
    script = (
        "from datetime import UTC, datetime\nfrom officine.incident.breach import Breach\n"
        "from officine.incident.register import record\n"
        "for i in range(5):\n"
        "    record(Breach(discovered_at=datetime.now(UTC), nature='perte', notified=True), 'poste')\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert [b.id for b in list_breaches()] == list(range(1, 11))


@needs_root
def test_opening_an_incident_on_a_full_disk_leaves_no_half_incident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mounted(tmp_path / "donnees", "-t", "tmpfs", "-o", "size=64k", "tmpfs") as data:
        monkeypatch.setenv("OFFICINE_DATA_DIR", str(data))
        (data / "incidents").mkdir()
        with (data / "remplissage").open("wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
        with pytest.raises(UserError, match="le disque est plein"):
            open_incident("Marie", "rançon affichée")
        assert list((data / "incidents").iterdir()) == []


def test_damaged_database_never_stops_the_journal_and_verify_says_the_end_is_unproven(tmp_path: Path) -> None:
    db = Path(os.environ["OFFICINE_DATA_DIR"]) / "officine.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"ceci n'est pas une base SQLite" * 100)
    proc = officine("incident", "start", "--script", str(_script(tmp_path)), "--par", "Marie")
    assert proc.returncode == 0, proc.stderr
    assert "pas dans son ancre" in proc.stdout
    assert _steps_done() == [("step_done", "debrancher"), ("step_done", "laisser_allume")]
    proc = officine("incident", "verify")
    assert proc.returncode == 1 and "NON PROUVÉ" in proc.stdout and "ancre inaccessible" in proc.stdout


@needs_root
def test_read_only_data_disk_is_said_in_french_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "donnees"
    env = {**os.environ, "OFFICINE_DATA_DIR": str(data), "OFFICINE_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    assert officine("incident", "start", "--script", str(_script(tmp_path)), "--par", "Marie", env=env).returncode == 0
    journal = next(data.glob("incidents/*/journal.jsonl"))
    before = journal.read_bytes()
    with mounted(tmp_path / "vue", "--bind", str(data)) as view:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        proc = officine("incident", "close", "--par", "Marie", env={**env, "OFFICINE_DATA_DIR": str(view)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "lecture seule" in proc.stderr and "Rien n'y a été ajouté" in proc.stderr
    assert journal.read_bytes() == before
