"""The incident journal: what `verify` names, and the anchor that protects its end.

Every tampering below is done the way a person would: by editing the file (or the database) with
ordinary tools, never through the journal's own code. Expected findings are written from the edit
made, not copied from a run.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session

from conftest import needs_root
from officine.incident.anchor import WRITTEN, AnchorUnavailable, StoreAnchor
from officine.incident.chain import GENESIS, entry_hash
from officine.incident.journal import Journal, JournalWriteError, verify
from officine.incident.verification import ALTERED, NOTICE, UNPROVEN
from officine.store.models import JournalAnchorRow

KEY = "incident:essai"


@pytest.fixture
def anchor(tmp_path: Path) -> StoreAnchor:
    return StoreAnchor(url=f"sqlite:///{tmp_path / 'ancre.db'}")


@pytest.fixture
def journal(tmp_path: Path, anchor: StoreAnchor) -> Journal:
    j = Journal(tmp_path / "journal.jsonl", KEY, anchor)
    for i in range(1, 6):
        appended = j.append("Mme Martin", "note", {"note": f"entrée {i}"})
        assert appended.anchored and appended.warnings == []
    assert j.verify().ok and j.verify().anchored
    return j


def lines(j: Journal) -> list[str]:
    return j.path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(j: Journal, new_lines: list[str]) -> None:
    j.path.write_text("".join(new_lines), encoding="utf-8")


def dump(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"


def kinds(j: Journal) -> list[tuple[str, int | None]]:
    return [(p.kind, p.seq) for p in j.verify().problems]


# -- edits inside the file ------------------------------------------------------------------------
def test_modified_entry_is_named(journal: Journal) -> None:
    all_lines = lines(journal)
    entry = json.loads(all_lines[2])
    entry["details"]["note"] = "réécrit"
    all_lines[2] = dump(entry)
    rewrite(journal, all_lines)
    assert kinds(journal) == [("modified", 3)]
    assert journal.verify().status == ALTERED


def test_deleted_entry_is_named(journal: Journal) -> None:
    all_lines = lines(journal)
    del all_lines[1]
    rewrite(journal, all_lines)
    result = journal.verify()
    assert [(p.kind, p.seq) for p in result.problems] == [("deleted", 2)]
    assert "entrée n° 2 supprimée" in result.problems[0].message


def test_neighbours_swapped_are_a_swap(journal: Journal) -> None:
    all_lines = lines(journal)
    all_lines[2], all_lines[3] = all_lines[3], all_lines[2]
    rewrite(journal, all_lines)
    result = journal.verify()
    assert [(p.kind, p.seq) for p in result.problems] == [("swapped", 3)]
    assert "n° 3 et n° 4 ont été interverties (lignes 3 et 4)" in result.problems[0].message


def test_distant_swap_is_a_swap_not_a_run_of_deletions(journal: Journal) -> None:
    all_lines = lines(journal)
    all_lines[1], all_lines[4] = all_lines[4], all_lines[1]
    rewrite(journal, all_lines)
    assert kinds(journal) == [("swapped", 2)]


def test_moved_entry_is_named(journal: Journal) -> None:
    all_lines = lines(journal)
    moved = all_lines.pop(0)
    all_lines.insert(3, moved)
    rewrite(journal, all_lines)
    assert kinds(journal) == [("moved", 1)]


def test_renumbering_after_a_deletion_is_named_as_such(journal: Journal) -> None:
    """Entry 2 removed, 3..5 renumbered 2..4 by hand (hashes not recomputed)."""
    all_lines = lines(journal)
    del all_lines[1]
    renumbered = []
    for raw in all_lines[1:]:
        entry = json.loads(raw)
        entry["seq"] -= 1
        renumbered.append(dump(entry))
    rewrite(journal, [all_lines[0], *renumbered])
    assert sorted(kinds(journal), key=str) == sorted(
        [("deleted", 2), ("renumbered", 3), ("renumbered", 4), ("renumbered", 5)], key=str
    )
    messages = [p.message for p in journal.verify().problems]
    assert "l'entrée n° 3 a été renumérotée en n° 2 (ligne 2)" in messages


def test_renumbering_upwards_is_not_a_run_of_deletions(journal: Journal) -> None:
    all_lines = lines(journal)
    shifted = []
    for raw in all_lines[2:]:
        entry = json.loads(raw)
        entry["seq"] += 10
        shifted.append(dump(entry))
    rewrite(journal, [*all_lines[:2], *shifted])
    assert kinds(journal) == [("renumbered", 3), ("renumbered", 4), ("renumbered", 5)]


def test_renumbering_with_recomputed_hashes_is_still_named(journal: Journal) -> None:
    """A careful forger deletes entry 3 and renumbers 4 and 5, recomputing their own hashes."""
    all_lines = lines(journal)
    kept = [json.loads(raw) for raw in all_lines[:2]]
    forged = []
    for raw in all_lines[3:]:
        entry = json.loads(raw)
        entry["seq"] -= 1
        entry["hash"] = entry_hash(entry)
        forged.append(entry)
    rewrite(journal, [dump(e) for e in [*kept, *forged]])
    result = journal.verify()
    found = {(p.kind, p.seq) for p in result.problems}
    assert ("renumbered", 4) in found  # told by the link the next entry still carries
    assert ("end_cut", 5) in found and ("replaced", 3) in found  # and by the anchor
    assert not result.has("deleted")


def test_entry_rewritten_with_recomputed_hash_breaks_the_link_and_the_anchor(journal: Journal) -> None:
    all_lines = lines(journal)
    entry = json.loads(all_lines[1])
    entry["details"]["note"] = "rien vu"
    entry["hash"] = entry_hash(entry)
    all_lines[1] = dump(entry)
    rewrite(journal, all_lines)
    found = set(kinds(journal))
    assert ("chain_broken", 3) in found and ("replaced", 2) in found
    # Without the anchor the chain still sees the broken link.
    assert ("chain_broken", 3) in {(p.kind, p.seq) for p in verify(journal.path).problems}


def test_inserted_garbage_line_is_named(journal: Journal) -> None:
    all_lines = lines(journal)
    all_lines.insert(2, "pas du json\n")
    rewrite(journal, all_lines)
    assert kinds(journal) == [("unreadable", None)]
    assert journal.verify().problems[0].line == 3


# -- the end of the journal (the anchor) -------------------------------------------------------------
def test_deleting_the_last_entry_is_no_longer_intact(journal: Journal) -> None:
    rewrite(journal, lines(journal)[:-1])
    assert verify(journal.path).ok  # the chain alone cannot see it…
    result = journal.verify()  # …the anchor does
    assert result.status == ALTERED and [(p.kind, p.seq) for p in result.problems] == [("end_cut", 5)]


def test_emptying_the_file_is_no_longer_intact(journal: Journal) -> None:
    journal.path.write_bytes(b"")
    assert kinds(journal) == [("emptied", None)]


def test_deleting_the_file_is_no_longer_intact(journal: Journal) -> None:
    journal.path.unlink()
    result = journal.verify()
    assert result.status == ALTERED and kinds(journal) == [("file_deleted", None)]
    assert "5 entrée(s)" in result.problems[0].message


def test_forged_append_with_a_recomputed_hash_is_not_proven(journal: Journal) -> None:
    last = json.loads(lines(journal)[-1])
    forged = {
        "seq": 6,
        "at": "2026-11-29T10:00:00+00:00",
        "actor": "Mme Martin",
        "action": "note",
        "details": {"note": "sauvegarde vérifiée"},
        "evidence": [],
        "prev": last["hash"],
    }
    forged["hash"] = entry_hash(forged)
    with journal.path.open("a", encoding="utf-8") as fh:
        fh.write(dump(forged))
    assert verify(journal.path).ok  # a perfect chain…
    result = journal.verify()
    assert result.status == UNPROVEN and kinds(journal) == [("unanchored", 6)]
    # A later, genuine append does not launder it, and says something is wrong.
    appended = journal.append("Mme Martin", "note", {"note": "suite"})
    assert appended.anchored and any("pas dans l'ancre" in w for w in appended.warnings)
    assert kinds(journal) == [("unanchored", 6)]


def test_crash_between_file_and_anchor_is_told_apart_from_a_forged_append(
    journal: Journal, anchor: StoreAnchor
) -> None:
    """The exact state a crash leaves after step 2 (file written) and before step 3 (confirmed)."""
    last = json.loads(lines(journal)[-1])
    entry = {
        "seq": 6,
        "at": "2026-11-29T10:00:00+00:00",
        "actor": "Mme Martin",
        "action": "note",
        "details": {"note": "écrite juste avant la coupure"},
        "evidence": [],
        "prev": last["hash"],
    }
    entry["hash"] = entry_hash(entry)
    anchor.announce(KEY, [(6, entry["hash"])])
    with journal.path.open("a", encoding="utf-8") as fh:
        fh.write(dump(entry))
    result = journal.verify()
    assert result.ok and [(p.kind, p.severity) for p in result.problems] == [("unconfirmed", NOTICE)]
    journal.append("Mme Martin", "note", {"note": "reprise"})  # confirms it
    assert journal.verify().ok and journal.verify().problems == []
    assert [r.state for r in anchor.rows(KEY)] == [WRITTEN] * 7


def test_journal_never_anchored_is_not_proven(tmp_path: Path, anchor: StoreAnchor) -> None:
    path = tmp_path / "ancien.jsonl"
    old = Journal(path)  # written without any anchor (an older version)
    old.append("Mme Martin", "note", {"note": "avant la mise à jour"})
    result = Journal(path, "incident:ancien", anchor).verify()
    assert result.status == UNPROVEN and result.problems[0].kind == "unanchored"


def test_unreachable_store_keeps_the_entry_and_says_the_end_is_not_proven(tmp_path: Path) -> None:
    unreachable = StoreAnchor(url="postgresql+psycopg://personne@127.0.0.1:1/rien")
    with pytest.raises(AnchorUnavailable):
        unreachable.rows("x")
    j = Journal(tmp_path / "j.jsonl", "incident:x", unreachable)
    appended = j.append("Mme Martin", "note", {"note": "écrite quand même"})
    assert not appended.anchored and "pas dans son ancre" in appended.warnings[0]
    assert [e["details"]["note"] for e in j.entries()] == ["écrite quand même"]
    result = j.verify()
    assert result.status == UNPROVEN and result.problems[0].kind == "anchor_unavailable"


def test_anchor_shows_entries_replaced_after_a_truncation(journal: Journal) -> None:
    """Cut the end, then keep writing through officine: the cut stays visible."""
    rewrite(journal, lines(journal)[:3])
    appended = journal.append("Mme Martin", "note", {"note": "après la coupure"})
    assert any("ne correspond plus à son ancre" in w for w in appended.warnings)
    found = set(kinds(journal))
    assert ("replaced", 4) in found and ("end_cut", 5) in found


def test_rewriting_file_and_store_together_is_the_documented_limit(
    journal: Journal, anchor: StoreAnchor, tmp_path: Path
) -> None:
    """Someone who can write both rewrites both: only the printed receipt catches it."""
    receipt_hash = json.loads(lines(journal)[-1])["hash"]
    forged, prev = [], GENESIS
    for raw in lines(journal):
        entry = json.loads(raw)
        entry["details"] = {"note": "tout va bien"}
        entry["prev"] = prev
        entry["hash"] = entry_hash(entry)
        prev = entry["hash"]
        forged.append(entry)
    rewrite(journal, [dump(e) for e in forged])
    assert anchor._store is not None
    with Session(anchor._store.engine) as session, session.begin():
        for e in forged:
            session.execute(
                update(JournalAnchorRow)
                .where(JournalAnchorRow.journal == KEY, JournalAnchorRow.seq == e["seq"])
                .values(hash=e["hash"])
            )
    assert journal.verify().ok  # the anchor cannot see it: written in the guide
    assert forged[-1]["hash"] != receipt_hash  # the receipt kept elsewhere does


# -- interrupted writes stay visible -----------------------------------------------------------------
def test_interrupted_write_stays_visible_forever(journal: Journal) -> None:
    fragment = b'{"seq": 6, "at": "2026-11-29T10:00:00+00:00", "actor": "x", "act'
    with journal.path.open("ab") as fh:
        fh.write(fragment)
    result = journal.verify()
    assert [p.kind for p in result.problems] == ["unanchored"]  # nobody announced it
    assert len(result.entries) == 5
    journal.append("Mme Martin", "note", {"note": "après la coupure"})
    journal.append("Mme Martin", "note", {"note": "bien plus tard"})
    assert fragment in journal.path.read_bytes()  # never moved away
    assert not list(journal.path.parent.glob("*.partial"))
    after = journal.verify()
    assert after.ok and [(p.kind, p.line) for p in after.problems] == [("interrupted", 6)]
    assert [e["seq"] for e in after.entries] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert after.entries[5]["action"] == "interrupted_write"
    # Removing the fragment afterwards is tampering, and named.
    rewrite(journal, [raw for raw in lines(journal) if not raw.startswith('{"seq": 6, "at": "2026')])
    assert ("trace_removed", 6) in set(kinds(journal))


def test_journal_survives_a_process_killed_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    url = f"sqlite:///{tmp_path / 'ancre.db'}"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pathlib import Path\nfrom officine.incident.journal import Journal\n"
            "from officine.incident.anchor import StoreAnchor\n"
            f"j = Journal(Path({str(path)!r}), 'incident:k', StoreAnchor(url={url!r}))\n"
            "j.append('robot', 'note', {'note': 'go'})\nprint('go', flush=True)\n"
            "while True:\n    j.append('robot', 'note', {'note': 'x' * 200_000})\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "go"
    time.sleep(0.8)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    anchor = StoreAnchor(url=url)
    j = Journal(path, "incident:k", anchor)
    result = j.verify()
    # Killed anywhere (before, during or after the file write): explained, never tampering.
    assert result.ok, [p.message for p in result.problems]
    assert all(p.severity == NOTICE for p in result.problems)
    j.append("Mme Martin", "note", {"note": "reprise"})
    again = j.verify()
    assert again.ok and {p.kind for p in again.problems} <= {"interrupted"}


# -- two writers, a full disk ------------------------------------------------------------------------
def test_concurrent_appends_are_serialised(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    url = f"sqlite:///{tmp_path / 'ancre.db'}"
    script = (
        "import sys\nfrom pathlib import Path\nfrom officine.incident.journal import Journal\n"
        "from officine.incident.anchor import StoreAnchor\n"
        f"j = Journal(Path({str(path)!r}), 'incident:c', StoreAnchor(url={url!r}))\n"
        "for i in range(25):\n    j.append(sys.argv[1], 'note', {'note': str(i)})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, f"poste-{n}"]) for n in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    j = Journal(path, "incident:c", StoreAnchor(url=url))
    result = j.verify()
    assert result.ok and result.problems == []
    assert [e["seq"] for e in result.entries] == list(range(1, 101))
    assert sorted(e["actor"] for e in result.entries) == sorted(f"poste-{n}" for n in range(4) for _ in range(25))


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small file system of our own (removed afterwards): a full disk on demand."""
    where.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "remplissage"
    with filler.open("wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)
    return filler


@needs_root
def test_full_disk_adds_nothing_and_loses_nothing(tmp_path: Path, anchor: StoreAnchor) -> None:
    with tmpfs(tmp_path / "disque", "256k") as disk:
        j = Journal(disk / "journal.jsonl", KEY, anchor)
        j.append("Mme Martin", "note", {"note": "avant"})
        before = j.path.read_bytes()
        filler = fill(disk)
        with pytest.raises(JournalWriteError, match="le disque est plein"):
            j.append("Mme Martin", "note", {"note": "x" * 20_000})  # more than the last page holds
        assert j.path.read_bytes() == before  # our half-written bytes were taken back
        assert j.verify().ok
        filler.unlink()
        j.append("Mme Martin", "note", {"note": "après"})
        result = j.verify()
        assert result.ok and [e["details"]["note"] for e in result.entries] == ["avant", "après"]


# -- any edit of the bytes is seen, or changes nothing ----------------------------------------------
@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, list[Any]]:
    """An anchored journal of six entries: its bytes and its anchor rows, read once."""
    folder = tmp_path_factory.mktemp("scelle")
    anchor = StoreAnchor(url=f"sqlite:///{folder / 'ancre.db'}")
    j = Journal(folder / "journal.jsonl", KEY, anchor)
    for i in range(6):
        j.append(f"personne {i}", "note", {"note": f"geste {i}", "n": i})
    return j.path, j.path.read_bytes(), anchor.rows(KEY)


def _mutate(data: bytes, kind: str, a: int, b: int, byte: int) -> bytes:
    lines = data.splitlines(keepends=True)
    i, k = a % len(lines), b % len(lines)
    if kind == "delete":
        return b"".join(lines[:i] + lines[i + 1 :])
    if kind == "swap":
        lines[i], lines[k] = lines[k], lines[i]
        return b"".join(lines)
    if kind == "duplicate":
        return b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if kind == "truncate":
        return data[: a % len(data)]
    if kind == "flip":
        pos = a % len(data)
        return data[:pos] + bytes([data[pos] ^ (byte or 1)]) + data[pos + 1 :]
    return data[: a % len(data)] + bytes([byte]) + data[a % len(data) :]  # insert


def _content(data: bytes) -> list[str]:
    from officine.incident.chain import parse

    return sorted(json.dumps(e, sort_keys=True) for e in (parse(raw) for raw in data.split(b"\n")) if e)


@given(
    kind=st.sampled_from(["delete", "swap", "duplicate", "truncate", "flip", "insert"]),
    a=st.integers(min_value=0, max_value=10_000),
    b=st.integers(min_value=0, max_value=10_000),
    byte=st.integers(min_value=0, max_value=255),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_edit_of_the_bytes_is_seen_or_changes_nothing(
    sealed: tuple[Path, bytes, list[Any]], kind: str, a: int, b: int, byte: int
) -> None:
    path, original, rows = sealed
    edited = _mutate(original, kind, a, b, byte)
    path.write_bytes(edited)
    try:
        result = verify(path, rows)  # never raises, whatever the bytes
    finally:
        path.write_bytes(original)
    if result.ok:
        # Only an edit that leaves every entry as it was may pass (a space turned into a tab…).
        assert _content(edited) == _content(original), [p.message for p in result.problems]
    else:
        assert result.findings and all(p.message for p in result.findings)
