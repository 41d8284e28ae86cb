"""The sentinel's judgement on real files, without a watcher: types, statistics, decoys, indicators."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdf
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RootTree
from helpers import audit_root, evidence, verdict
from officine.errors import UserError
from officine.sentinel import canaries
from officine.sentinel.analysis import Analyser
from officine.sentinel.config import load_settings, thresholds
from officine.sentinel.content import CHI_SQUARE_RANDOM, chi_square, file_type, fragment_offsets, sample_file
from officine.sentinel.detector import HOST, Detector, Finding
from officine.sentinel.engine import check_folders
from officine.sentinel.events import FsEvent, Kind
from officine.sentinel.index import BaselineIndex
from officine.sentinel.records import EventLog, acknowledge, unacknowledged_alarms
from officine.store import Store

T = thresholds()
KEY = bytes(range(32))


def aes(data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(KEY), modes.CTR(bytes(16))).encryptor()
    return enc.update(data) + enc.finalize()


def text(size: int) -> bytes:
    words = "ordonnance patient délivrance générique remboursement mutuelle facture ".encode()
    return (words * (size // len(words) + 1))[:size]


# -- content ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "png"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
        (b"SQLite format 3\x00", "sqlite"),
        ("Compte rendu de la réunion d'équipe\n".encode(), "text"),
        (b"", "empty"),
    ],
)
def test_file_type_from_magic_bytes(head: bytes, kind: str) -> None:
    assert file_type(head) == kind


def test_ciphertext_is_not_text_and_its_fragments_are_flat() -> None:
    cipher = aes(text(65536))
    assert file_type(cipher[:512]) == "data"
    assert chi_square(cipher) < CHI_SQUARE_RANDOM
    assert chi_square(text(65536)) > 100 * CHI_SQUARE_RANDOM


@given(st.binary(max_size=2048))
def test_file_type_accepts_any_bytes(data: bytes) -> None:
    assert isinstance(file_type(data), str)


@given(st.integers(0, 50_000_000), st.sampled_from([4096, 65536]), st.integers(1, 8), st.integers(0, 8192))
@settings(max_examples=300)
def test_fragments_lie_inside_the_file_after_the_header(size: int, fragment: int, count: int, skip: int) -> None:
    offsets = fragment_offsets(size, fragment, count, skip)
    assert len(offsets) <= count
    assert offsets == sorted(set(offsets))
    assert all(skip <= o and o + fragment <= size for o in offsets)
    if size - skip >= fragment * count:
        assert len(offsets) == count  # room enough: every fragment asked for is tested


def test_sample_finds_intermittent_encryption_in_one_fragment(tmp_path: Path) -> None:
    plain = text(1_000_000)
    path = tmp_path / "rapport.txt"
    # Header kept, one 256 KiB run encrypted in the middle (a quarter of the file): 8 fragments of
    # 64 KiB spread over 1 MB are about 128 KiB apart, so a run as long as the spacing plus one
    # fragment always contains a whole fragment. Shorter runs can fall between fragments: the
    # decoys and the other indicators are there for them.
    path.write_bytes(plain[:400_000] + aes(plain[400_000:662_144]) + plain[662_144:])
    sample = sample_file(str(path), 65536, 8, 4096)
    assert sample is not None and sample.type == "text"
    assert sample.random_fragments >= 1 and sample.random_fragments < sample.fragments
    path.write_bytes(plain)
    clean = sample_file(str(path), 65536, 8, 4096)
    assert clean is not None and clean.random_fragments == 0


# -- decoys -------------------------------------------------------------------------------------


def test_decoys_are_real_documents() -> None:
    pdf = pypdf.PdfReader(io.BytesIO(canaries.pdf_document()))
    assert "leurre" in pdf.pages[0].extract_text()
    docx = zipfile.ZipFile(io.BytesIO(canaries.docx_document()))
    assert docx.testzip() is None and "leurre" in docx.read("word/document.xml").decode()
    jpeg = canaries.jpeg_document()
    assert jpeg.startswith(b"\xff\xd8\xff\xe0") and jpeg.endswith(b"\xff\xd9")
    assert [file_type(d[:512]) for d in (canaries.pdf_document(), canaries.docx_document(), jpeg)] == [
        "pdf",
        "zip",
        "jpeg",
    ]


def test_decoys_come_first_and_last(tmp_path: Path) -> None:
    for n in range(40):
        (tmp_path / f"facture_{n:03d}.pdf").write_bytes(b"%PDF-1.4\n")
    placed = canaries.place([str(tmp_path)])
    names = [Path(c.path).name for c in placed]
    listing = sorted(os.listdir(tmp_path))
    assert listing[0] == canaries.FIRST_NAME and listing[-1] == canaries.LAST_NAME
    scan = next(n for n in names if n.startswith("Scan ordonnance"))
    readdir = os.listdir(tmp_path)
    assert readdir.index(scan) < len(readdir) // 2  # the best of 16 candidates in readdir order
    assert all(hashlib.sha256(Path(c.path).read_bytes()).hexdigest() == c.sha256 for c in placed)
    # Placing again keeps the same decoys; removing takes only unchanged ones.
    again = canaries.place([str(tmp_path)])
    assert sorted(c.path for c in again) == sorted(c.path for c in placed)
    Path(placed[0].path).write_bytes(b"chiffre")
    assert canaries.remove(again) == 2 and Path(placed[0].path).exists()


# -- detector -------------------------------------------------------------------------------------


def _finding(indicator: str, path: str, pid: int | None = 42, at: float | None = None) -> Finding:
    return Finding(indicator, path, pid, time.time() if at is None else at)


def test_primary_indicators_add_up_to_an_alarm_per_process() -> None:
    detector = Detector(T, per_process=True)
    assert detector.add(_finding("type_changed", "/d/a.pdf")) == []
    assert detector.add(_finding("renamed_unknown_extension", "/d/a.pdf.lckd")) == []
    assert detector.add(_finding("type_changed", "/d/a.pdf")) == []  # the same file counts once
    assert detector.add(_finding("random_interior", "/d/b.docx")) == []
    assert detector.score(42) == pytest.approx(2.5)  # threshold 3.0 not reached yet
    alarms = detector.add(_finding("type_changed", "/d/b.docx"))
    assert [a.actor for a in alarms] == [42]  # the host-wide sum does not repeat it
    assert alarms[0].score == pytest.approx(3.5)
    assert set(alarms[0].paths) == {"/d/a.pdf", "/d/a.pdf.lckd", "/d/b.docx"}
    assert detector.add(_finding("type_changed", "/d/c.docx")) == []  # one alarm per window


def test_deletions_and_renames_alone_never_raise_the_alarm() -> None:
    detector = Detector(T, per_process=True)
    for n in range(500):
        assert detector.add(_finding("deleted_original", f"/d/{n}.pdf")) == []
        assert detector.add(_finding("renamed_unknown_extension", f"/d/{n}.xyz")) == []
    assert detector.score(42) == 0


def test_one_file_encrypted_on_purpose_is_not_an_attack() -> None:
    detector = Detector(T, per_process=True)
    for indicator in ("type_changed", "random_interior", "renamed_unknown_extension", "deleted_original"):
        assert detector.add(_finding(indicator, "/d/contrat.pdf")) == []


def test_a_decoy_changed_is_an_alarm_at_once() -> None:
    alarms = Detector(T, per_process=True).add(_finding("canary_modified", "/d/!Inventaire.pdf"))
    assert len(alarms) == 1 and alarms[0].indicators == {"canary_modified": 1}


def test_one_process_per_file_is_caught_by_the_host_wide_sum() -> None:
    detector = Detector(T, per_process=True)
    alarms = []
    for n in range(6):  # a script starting one encryption process per file
        alarms += detector.add(_finding("type_changed", f"/d/{n}.pdf", pid=1000 + n))
    assert [a.actor for a in alarms] == [HOST] and alarms[0].pids == [1000, 1001, 1002, 1003, 1004, 1005]


def test_findings_expire_and_can_be_withdrawn() -> None:
    detector = Detector(T, per_process=True)
    old = time.time() - T.window_seconds - 10
    detector.add(_finding("type_changed", "/d/a.pdf", at=old))
    detector.add(_finding("type_changed", "/d/b.pdf", at=old))
    assert detector.add(_finding("type_changed", "/d/c.pdf")) == []  # the old ones left the window
    detector.add(_finding("canary_deleted", "/d/!Inventaire.pdf"))
    detector.retract("canary_deleted", "/d/!Inventaire.pdf")
    assert detector.add(_finding("canary_deleted", "/d/zz.docx")) == []
    assert detector.score(42) == pytest.approx(2.0)


# -- analysis of real files -------------------------------------------------------------------------


@pytest.fixture
def analysed(tmp_path: Path) -> tuple[Analyser, Detector, Path]:
    for folder in ("Factures", "Scans", "Courriers"):
        (tmp_path / folder).mkdir()
        for n in range(5):
            (tmp_path / folder / f"doc{n}.txt").write_bytes(text(70_000 + n))
            (tmp_path / folder / f"lettre{n}.pdf").write_bytes(b"%PDF-1.4\n" + text(3000))
    index = BaselineIndex()
    index.build([str(tmp_path)])
    detector = Detector(T, per_process=True)
    return Analyser(index, detector, T), detector, tmp_path


def test_analysis_sees_types_change_and_names_change(analysed: tuple[Analyser, Detector, Path]) -> None:
    analyser, detector, root = analysed
    target = root / "Factures/lettre0.pdf"
    target.write_bytes(aes(target.read_bytes()))
    assert analyser.handle(FsEvent(Kind.write, str(target), 7)) == []
    os.rename(target, str(target) + ".lckd")
    analyser.handle(FsEvent(Kind.rename, str(target) + ".lckd", 7, old_path=str(target)))
    big = root / "Factures/doc0.txt"
    big.write_bytes(aes(big.read_bytes()))
    alarms = analyser.handle(FsEvent(Kind.write, str(big), 7))
    assert len(alarms) == 1
    assert alarms[0].indicators == {"type_changed": 2, "renamed_unknown_extension": 1, "random_interior": 1}
    assert detector.score(7) == pytest.approx(3.5)


def test_office_saves_and_replacements_are_not_findings(analysed: tuple[Analyser, Detector, Path]) -> None:
    analyser, detector, root = analysed
    original = root / "Courriers/lettre1.pdf"
    tmp = root / "Courriers/lu0001.tmp"
    tmp.write_bytes(b"%PDF-1.5\n" + text(5000))
    analyser.handle(FsEvent(Kind.write, str(tmp), 9))
    os.replace(tmp, original)
    assert analyser.handle(FsEvent(Kind.rename, str(original), 9, old_path=str(tmp))) == []
    # tar extracting over a file: deleted, then written back with the same type.
    victim = root / "Scans/lettre2.pdf"
    content = victim.read_bytes()
    victim.unlink()
    analyser.handle(FsEvent(Kind.delete, str(victim), 9))
    victim.write_bytes(content)
    analyser.handle(FsEvent(Kind.write, str(victim), 9))
    assert analyser.flush(time.time() + 10) == [] and detector.score(9) == 0


def test_deletions_count_once_nothing_came_back(analysed: tuple[Analyser, Detector, Path]) -> None:
    analyser, detector, root = analysed
    placed = canaries.place([str(root / "Scans")])
    analyser.index.canaries = {c.path: c.sha256 for c in placed}
    now = time.time()
    for path in [*(root / "Factures").glob("*.txt"), Path(placed[0].path)]:
        path.unlink()
        analyser.handle(FsEvent(Kind.delete, str(path), 13, at=now))
    assert analyser.flush(now + 1) == []  # still within the grace delay
    assert detector.score(13) == 0
    alarms = analyser.flush(now + T.deletion_grace_seconds + 0.1)
    # A deleted decoy (primary) with five deleted documents: 1.0 + 5 x 0.25, not yet an alarm.
    assert alarms == [] and detector.score(13) == pytest.approx(2.25)
    doc = root / "Courriers/doc0.txt"
    doc.write_bytes(aes(doc.read_bytes()))
    alarms = analyser.handle(FsEvent(Kind.write, str(doc), 13))
    assert len(alarms) == 1 and alarms[0].indicators["deleted_original"] == 5


def test_the_same_note_in_three_existing_folders_is_a_ransom_note(analysed: tuple[Analyser, Detector, Path]) -> None:
    analyser, _detector, root = analysed
    alarms = []
    for folder in ("Factures", "Scans", "Courriers"):
        note = root / folder / "LISEZ-MOI.txt"
        note.write_text("Vos fichiers sont chiffrés.\n", encoding="utf-8")
        alarms += analyser.handle(FsEvent(Kind.write, str(note), 11))
    assert len(alarms) == 1 and alarms[0].indicators == {"ransom_note": 1}


def test_a_decoy_written_back_unchanged_is_not_an_alarm(analysed: tuple[Analyser, Detector, Path]) -> None:
    analyser, _detector, root = analysed
    placed = canaries.place([str(root / "Scans")])
    analyser.index.canaries = {c.path: c.sha256 for c in placed}
    decoy = Path(placed[0].path)
    data = decoy.read_bytes()
    decoy.write_bytes(data)  # a restore of the same content
    assert analyser.handle(FsEvent(Kind.write, str(decoy), 5)) == []
    decoy.write_bytes(aes(data))
    alarms = analyser.handle(FsEvent(Kind.write, str(decoy), 5))
    assert alarms and alarms[0].indicators == {"canary_modified": 1}


# -- settings, folders, records ---------------------------------------------------------------------


def test_settings_file_is_validated_in_french(tmp_path: Path) -> None:
    path = tmp_path / "sentinelle.yaml"
    path.write_text("dossiers: [/srv/lgo]\nisoler: true\n", encoding="utf-8")
    settings_ = load_settings(path)
    assert settings_.folders == ["/srv/lgo"] and settings_.isolate and settings_.suspend
    path.write_text("eteindre: true\n", encoding="utf-8")
    with pytest.raises(UserError, match="Réglage\\(s\\) inconnu\\(s\\)"):
        load_settings(path)
    path.write_text("suspendre: peut-être\n", encoding="utf-8")
    with pytest.raises(UserError, match="oui ou non"):
        load_settings(path)


def test_folders_are_checked_before_anything(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="n'existe pas"):
        check_folders([str(tmp_path / "absent")])
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UserError, match="est un fichier"):
        check_folders([str(tmp_path / "f.txt")])
    (tmp_path / "a/b").mkdir(parents=True)
    with pytest.raises(UserError, match="déjà inclus"):
        check_folders([str(tmp_path / "a"), str(tmp_path / "a/b")])
    with pytest.raises(UserError, match="Aucun dossier"):
        check_folders([])
    with pytest.raises(UserError, match="est vide"):
        check_folders([""])


def test_events_file_and_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'o.db'}")
    log = EventLog(tmp_path / "ev.jsonl", store)
    log.write("alarm", pid=12, paths=["/d/a.pdf"], indicators={"type_changed": 2}, score=3.0)
    log.write("reaction", pid=12, action="suspend", result="stopped")
    lines = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["type"] for e in lines] == ["alarm", "reaction"]
    for event in lines:
        assert set(event) >= {"type", "at", "pid", "paths", "indicators"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", event["at"])
    alarms = unacknowledged_alarms(store)
    assert [(a.pid, a.indicators) for a in alarms] == [(12, {"type_changed": 2})]
    assert acknowledge(store, alarms[0].id, "Marie") and unacknowledged_alarms(store) == []
    assert not acknowledge(store, 999, "Marie")


def test_events_file_that_cannot_be_written_is_refused_in_french(tmp_path: Path) -> None:
    (tmp_path / "plein").write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="--evenements"):
        EventLog(tmp_path / "plein/ev.jsonl", None)


# -- the measure ------------------------------------------------------------------------------------


UNIT = """
[Service]
Environment=OFFICINE_DATA_DIR=/var/lib/officine
ExecStart=/usr/bin/python3 -m officine sentinel watch /srv/lgo
"""


def test_measure_fails_without_a_sentinel(tree: RootTree) -> None:
    tree.debian()
    results = audit_root(tree.path)
    assert verdict(results, "INC-05") == "fail" and "Aucune sentinelle" in evidence(results, "INC-05")


def test_measure_is_unknown_when_only_an_old_status_is_seen(tree: RootTree) -> None:
    tree.debian()
    tree.write("/etc/systemd/system/officine-sentinel.service", UNIT)
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    tree.write("/var/lib/officine/sentinelle/etat.json", json.dumps({"running": True, "updated_at": old}))
    # A mounted disk: no service manager to ask, a status three days old proves nothing either way.
    assert verdict(audit_root(tree.path), "INC-05") == "unknown"


def test_measure_passes_on_a_fresh_status(tree: RootTree) -> None:
    tree.debian()
    tree.write("/etc/systemd/system/officine-sentinel.service", UNIT)
    status = {"running": True, "updated_at": datetime.now(UTC).isoformat(), "folders": ["/srv/lgo"], "mode": "fanotify"}
    tree.write("/var/lib/officine/sentinelle/etat.json", json.dumps(status))
    results = audit_root(tree.path)
    assert verdict(results, "INC-05") == "pass" and "/srv/lgo" in evidence(results, "INC-05")
    status["running"] = False
    tree.write("/var/lib/officine/sentinelle/etat.json", json.dumps(status))
    assert verdict(audit_root(tree.path), "INC-05") == "unknown"


def test_dashboard_banner_shows_unacknowledged_alarms(tmp_path: Path) -> None:
    import jinja2

    from officine.services.sentinel import banner_alarms

    store = Store(f"sqlite:///{tmp_path / 'o.db'}")
    log = EventLog(None, store)
    log.write(
        "alarm",
        pid=4242,
        paths=["/srv/a.pdf", "/srv/b.docx"],
        indicators={"canary_modified": 1, "type_changed": 2},
        processes=[{"pid": 4242, "cmdline": ["/tmp/x", "--chiffrer"]}],
        suspended=[4242],
    )
    log.write("reaction", pid=4242, action="suspend", result="stopped")
    templates = Path(__file__).resolve().parents[1] / "src/officine/web/templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True)
    html = env.get_template("_sentinel_banner.html").render(sentinel_alarms=banner_alarms(store))
    assert 'role="alert"' in html and 'href="/incident"' in html
    assert "fichier-leurre modifié (1)" in html and "fichiers devenus illisibles (2)" in html
    assert "/tmp/x --chiffrer" in html and "officine sentinel resume 4242" in html
    assert re.search(r"\d\d/\d\d/\d{4} à \d\d:\d\d", html)
    acknowledge(store, banner_alarms(store)[0].id, "Marie")
    assert env.get_template("_sentinel_banner.html").render(sentinel_alarms=banner_alarms(store)).strip() == ""


def test_decoys_go_to_the_busiest_visible_folders_only(tmp_path: Path) -> None:
    for folder, count in ((".git/objects", 50), ("Factures", 10), ("Vide", 0), ("Scans/2026", 5)):
        (tmp_path / folder).mkdir(parents=True)
        for n in range(count):
            (tmp_path / folder / f"f{n}").write_bytes(b"x")
    chosen = canaries.choose_folders([str(tmp_path)])
    assert chosen == [str(tmp_path), str(tmp_path / "Factures"), str(tmp_path / "Scans/2026")]
