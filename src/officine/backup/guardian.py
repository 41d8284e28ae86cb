"""Running the plan: backups to every present destination, restore drills, presence sightings.

Nothing here is taken on trust: each run first counts the folders it saves (a missing, emptied or
sharply shrunk folder is a failure that names it, and the snapshot made anyway is tagged
`officine-suspect` so that it is never taken for the latest good one, never checked as such and
never pushes a good one out by retention); each destination is located before use (unplugged
disk, or disk here and repository gone); a drill that could compare nothing proves nothing.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from officine.backup import fr
from officine.backup.compare import COMPARE_BLOCK, Planned, compare_all, compare_one, mtime_ns, same_content
from officine.backup.plan import Destination, Plan
from officine.backup.presence import (
    Presence,
    known_volume,
    locate,
    volume_details,
    volume_of,
)
from officine.backup.records import BackupRecords, RunRecord, Sighting, VerificationRecord
from officine.backup.restic import Restic, ResticError, classify, stderr_errors
from officine.backup.sources import SourceCount, describe, survey
from officine.backup.state import repository_lost
from officine.parsers.misc import parse_json
from officine.paths import data_dir

Progress = Callable[[str], None]
CHECK_ROTATION = 30  # --read-data-subset n/30: every pack is read at least once every 30 days
TAG = "officine"
SUSPECT_TAG = "officine-suspect"  # a snapshot taken while a folder was missing, emptied or shrunk
NOTHING_CHECKED = ("absent", "unseen")  # error codes of runs and drills that could not reach the repository

__all__ = [
    "COMPARE_BLOCK",
    "DrillOutcome",
    "backup_destination",
    "compare_node",
    "drill_destination",
    "exclusive",
    "init_destination",
    "mtime_ns",
    "probe",
    "run_plan",
    "same_content",
    "sight",
    "source_unchanged",
]


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- one guardian at a time -------------------------------------------------------------------
class Busy(ResticError):
    def __init__(self) -> None:
        super().__init__(
            "busy",
            "Une sauvegarde ou une vérification d'officine-cyber est déjà en cours sur ce poste : "
            "attendez qu'elle se termine, puis relancez si besoin.",
        )


@contextlib.contextmanager
def exclusive(lock_dir: Path | None = None) -> Iterator[None]:
    """One run, drill or prune at a time on this machine (a manual run while the timer's runs)."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # Windows: restic's own repository locks remain the guard
        yield
        return
    folder = lock_dir or data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "backup.lock").open("a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Busy from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- presence ---------------------------------------------------------------------------------
def volume_encrypted(path: Path) -> bool | None:
    """Is the disk holding `path` a LUKS/dm-crypt volume? None when it cannot be told."""
    from officine.collectors.linux.encryption import map_mounts  # noqa: PLC0415

    volume = volume_of(path)
    if volume is None or shutil.which("lsblk") is None:
        return None
    proc = subprocess.run(
        ["lsblk", "-J", "-o", "NAME,TYPE,FSTYPE,MOUNTPOINT"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if proc.returncode != 0:
        return None
    try:
        mapped = map_mounts(parse_json(proc.stdout))
    except ValueError:
        return None
    entry = mapped.get(volume.mount_point)
    return None if entry is None else bool(entry["encrypted"])


def where(dest: Destination, restic: Restic, records: BackupRecords) -> Presence:
    """Locate a destination, remembering the filesystem its repository was last seen on."""
    history = sorted(
        [(r.started_at, r.details) for r in records.runs(dest.id, limit=50)]
        + [(v.at, v.details) for v in records.verifications(dest.id, limit=50)],
        key=lambda pair: pair[0],
        reverse=True,
    )
    return locate(dest, restic, known_volume(dest, [d for _, d in history]))


def sight(dest: Destination, restic: Restic, records: BackupRecords, at: datetime) -> Presence:
    """Locate and record a sighting. Only a proven absence (nothing mounted where the repository
    was) counts as 'unplugged'; a repository gone from a plugged disk is a disk still attached;
    a destination never seen is not recorded at all."""
    presence = where(dest, restic, records)
    attached = presence.disk_attached
    if attached is not None:
        encrypted = (
            volume_encrypted(dest.local_path) if attached and presence.volume and dest.local_path is not None else None
        )
        records.add_sighting(Sighting(dest.id, at, attached, encrypted))
    return presence


def probe(dest: Destination, restic: Restic) -> bool:
    """Is the repository there and openable? (No history: for one-off commands.)"""
    return locate(dest, restic).state == "here"


def _not_here(presence: Presence) -> tuple[str, str, str]:
    """(run status, error code, message) for a destination whose repository was not found."""
    if presence.state == "gone":
        return (
            "failed",
            "repository_gone",
            presence.why[:1].upper()
            + presence.why[1:]
            + ". Les sauvegardes qu'il contenait ne sont plus disponibles : vérifiez le disque, puis "
            "recréez le dépôt (« officine backup init ») et relancez une sauvegarde.",
        )
    return "absent", presence.state, presence.why[:1].upper() + presence.why[1:] + "."


# -- init -------------------------------------------------------------------------------------
def init_destination(dest: Destination, restic: Restic) -> str:
    if probe(dest, restic):
        return "déjà initialisé"
    if dest.local_path is not None:
        dest.local_path.mkdir(parents=True, exist_ok=True)
    restic.run(dest, ["init"], timeout=300)
    return "initialisé"


def on_system_disk(dest: Destination) -> bool:
    """A removable destination whose repository sits on the system disk: the disk was not mounted."""
    if not dest.removable or dest.local_path is None:
        return False
    here, root = volume_of(dest.local_path), volume_of(Path(Path.cwd().anchor or "/"))
    return here is not None and root is not None and here.mount_point == root.mount_point


# -- backup -----------------------------------------------------------------------------------
def _history(records: BackupRecords) -> list[tuple[datetime, dict[str, Any] | None]]:
    return [(r.started_at, r.details) for r in records.runs(limit=200) if r.status != "absent"]


def survey_sources(plan: Plan, records: BackupRecords, accept_drop: bool = False) -> list[SourceCount]:
    return survey(plan, _history(records), accept_drop=accept_drop)


_PROBLEM_CODE = {"missing": "source_missing", "not_dir": "source_missing", "empty": "source_empty"}
_ADVICE = {
    "source_missing": "Remettez le dossier en place (volume monté, dossier renommé ?) ou corrigez le plan "
    "(« officine backup plan remove-source » puis « add-source »).",
    "source_empty": "Vérifiez que le volume est bien monté. Si ce dossier doit rester vide, retirez-le du plan "
    "(« officine backup plan remove-source DOSSIER »).",
    "source_shrunk": "Si cette baisse est voulue (archivage, ménage), relancez avec "
    "« officine backup run --accepter-baisse » ; sinon vérifiez les données avant tout.",
}


def _source_failure(problems: list[SourceCount], saved_others: bool) -> tuple[str, str]:
    code = next(
        (_PROBLEM_CODE[p.state] for p in problems if p.state in ("missing", "not_dir")),
        "source_empty" if any(p.state == "empty" for p in problems) else "source_shrunk",
    )
    text = "Sauvegarde en échec : " + " ; ".join(describe(p) for p in problems) + ". "
    if saved_others:
        text += (
            "Les autres dossiers ont été sauvegardés dans une sauvegarde marquée douteuse, jamais prise "
            "pour la dernière bonne. "
        )
    return code, text + _ADVICE[code]


def _last_snapshot_run(runs: list[RunRecord]) -> RunRecord | None:
    """The newest run that made a snapshot meant to be kept (not one marked suspect)."""
    return next((r for r in runs if r.snapshot_id and (r.details or {}).get("tag", TAG) == TAG), None)


def contradiction(dest: Destination, restic: Restic, records: BackupRecords) -> None:
    """Does the repository still hold the newest snapshot the records say it holds? Retention
    never removes the newest one, so its absence means someone deleted it: recorded as a failed
    check, which the state reads as 'this repository no longer backs the records'."""
    last = _last_snapshot_run(records.runs(dest.id))
    if last is None:
        return
    snaps = restic.json(dest, ["snapshots", "--tag", TAG], timeout=600) or []
    ids = [(str(s.get("id", "")), str(s.get("short_id", ""))) for s in snaps if isinstance(s, dict)]
    if any(full_id.startswith(str(last.snapshot_id)) or short == last.snapshot_id for full_id, short in ids):
        return
    records.add_verification(
        VerificationRecord(
            dest.id,
            now_utc(),
            "failed",
            last.snapshot_id,
            error_code="snapshot_missing",
            message=_missing_message(dest, last),
            details={"snapshot": last.snapshot_id, "found_by": "run"},
        )
    )


def _missing_message(dest: Destination, last: RunRecord) -> str:
    return (
        f"La sauvegarde du {fr.when(last.started_at)} ({last.snapshot_id}) a disparu de « {dest.label} » : "
        "quelqu'un ou quelque chose l'a supprimée. Les copies enregistrées sur cette destination ne comptent "
        "plus tant qu'une vérification n'a pas réussi."
    )


def backup_destination(
    plan: Plan,
    dest: Destination,
    restic: Restic,
    records: BackupRecords,
    progress: Progress | None = None,
    *,
    counts: list[SourceCount] | None = None,
    accept_drop: bool = False,
) -> RunRecord:
    started = now_utc()
    counts = counts if counts is not None else survey_sources(plan, records, accept_drop)
    details: dict[str, Any] = {
        "sources": {c.path: c.to_json() for c in counts},
        "missing_sources": [c.path for c in counts if c.state in ("missing", "not_dir")],
    }

    def record(status: str, **fields: Any) -> RunRecord:
        run = RunRecord(dest.id, started, now_utc(), status, details=details, **fields)
        records.add_run(run)
        return run

    presence = sight(dest, restic, records, started)
    if presence.state != "here":
        status, why_code, why = _not_here(presence)
        suffix = " Rien n'a été sauvegardé sur cette destination." if status == "absent" else ""
        return record(status, error_code=why_code, message=why + suffix)
    details.update(volume_details(presence, dest))
    try:
        contradiction(dest, restic, records)
    except ResticError as exc:
        return record("failed", error_code=exc.code, message=exc.message)
    lost = repository_lost(records.runs(dest.id), records.verifications(dest.id))
    untrusted = lost is not None and not lost["cleared"]
    started = now_utc()  # after any contradiction recorded above: this run comes after it
    problems = [c for c in counts if c.problem]
    to_save = [c.path for c in counts if c.state not in ("missing", "not_dir", "empty")]
    if not to_save:
        why_code, why = _source_failure(problems, saved_others=False)
        return record("failed", error_code=why_code, message=why)
    summary: dict[str, Any] = {}

    def on_message(message: dict[str, Any]) -> None:
        if message.get("message_type") == "summary":
            summary.update(message)
        elif message.get("message_type") == "status" and progress is not None:
            progress(f"{dest.label} : {round(100 * float(message.get('percent_done', 0)))} %")

    tag = SUSPECT_TAG if problems else TAG
    details["tag"] = tag
    try:
        exit_code, stderr = restic.stream(dest, ["backup", "--tag", tag, *to_save], on_message)
    except ResticError as exc:
        return record("failed", error_code=exc.code, message=exc.message)
    unreadable = [str(e.get("item", "?")) for e in stderr_errors(stderr)]
    details.update(unreadable=unreadable[:50], unreadable_count=len(unreadable))
    if exit_code not in (0, 3) or not summary.get("snapshot_id"):
        error_code, why = classify(stderr, dest) if exit_code not in (0, 3) else ("failed", "restic a échoué")
        return record("failed", error_code=error_code, message=why[:1].upper() + why[1:] + ".")
    files_total = int(summary.get("total_files_processed", 0))
    previous = next((r for r in records.runs(dest.id) if r.status in ("success", "partial") and r.files_total), None)
    if previous is not None and previous.files_total and files_total < previous.files_total / 2:
        details["file_count_drop"] = {"before": previous.files_total, "now": files_total}  # kept for readers
    snapshot = {
        "snapshot_id": str(summary["snapshot_id"]),
        "files_total": files_total,
        "files_new": summary.get("files_new"),
        "files_changed": summary.get("files_changed"),
        "bytes_added": summary.get("data_added"),
        "bytes_total": summary.get("total_bytes_processed"),
    }
    if problems:
        error_code, message = _source_failure(problems, saved_others=True)
        return record("failed", error_code=error_code, message=message, **snapshot)
    if untrusted and lost is not None:
        # New data may lean on damaged or missing blobs of a repository that contradicted the
        # records: the snapshot is made, but it proves nothing until a drill passes.
        return record(
            "failed",
            error_code="repository_untrusted",
            message=f"Sauvegarde faite, mais le dépôt de « {dest.label} » n'est plus fiable depuis le "
            f"{fr.when(lost['at'])} ({lost['message'] or lost['code']}) : elle ne comptera qu'après une "
            f"vérification réussie (« officine backup drill --destination {dest.id} »). Si la vérification "
            "échoue encore, recréez le dépôt sur un autre disque.",
            **snapshot,
        )
    note = None
    if exit_code == 3:
        note = (
            f"Sauvegarde incomplète : {len(unreadable)} fichier(s) illisible(s)"
            + (f", par exemple {unreadable[0]}" if unreadable else "")
            + "."
        )
    run = record("partial" if exit_code == 3 else "success", message=note, **snapshot)
    _apply_retention(plan, dest, restic)
    return run


def _apply_retention(plan: Plan, dest: Destination, restic: Restic, prune: bool = False) -> None:
    r = plan.retention
    args = ["forget", "--tag", TAG, "--keep-daily", str(r.keep_daily), "--keep-weekly", str(r.keep_weekly)]
    args += ["--keep-monthly", str(r.keep_monthly)] + (["--prune"] if prune else [])
    if prune:
        restic.run(dest, args, timeout=12 * 3600)
        return
    with contextlib.suppress(ResticError):  # retention is housekeeping: the backup is recorded
        restic.run(dest, args, timeout=600)


def prune_destination(plan: Plan, dest: Destination, restic: Restic) -> None:
    """Apply the retention and give back the space of forgotten snapshots (`forget --prune`).
    Snapshots marked suspect are never forgotten by it: they may be the evidence of a bad day."""
    _apply_retention(plan, dest, restic, prune=True)


def run_plan(
    plan: Plan,
    restic: Restic,
    records: BackupRecords,
    only: list[str] | None = None,
    progress: Progress | None = None,
    *,
    accept_drop: bool = False,
) -> list[RunRecord]:
    """Back up to every destination of the plan (or those in `only`). The folders are counted
    once for all destinations, against the same baseline."""
    targets = [d for d in plan.destinations if not only or d.id in only]
    if not targets:
        return []
    counts = survey_sources(plan, records, accept_drop)
    return [
        backup_destination(plan, d, restic, records, progress, counts=counts, accept_drop=accept_drop) for d in targets
    ]


# -- drill ------------------------------------------------------------------------------------
@dataclass
class DrillOutcome:
    record: VerificationRecord
    mismatches: list[dict[str, str]] = field(default_factory=list)


def source_unchanged(node: dict[str, Any]) -> bool:
    planned = Planned.from_node(node)
    try:
        return planned.unchanged(os.stat(planned.path))
    except OSError:
        return False


def compare_node(node: dict[str, Any], restored_root: Path) -> tuple[str, str | None]:
    """('ok'|'changed'|'deleted'|'mismatch', why) for one file of the snapshot."""
    return compare_one(Planned.from_node(node), str(restored_root))


def _ls(restic: Restic, dest: Destination, snapshot_id: str) -> list[dict[str, Any]]:
    proc = restic.run(dest, ["ls", "--json", snapshot_id], timeout=3600)
    nodes = []
    for line in proc.stdout.splitlines():
        try:
            value = parse_json(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("type") == "file" and isinstance(value.get("path"), str):
            nodes.append(value)
    return nodes


def drill_destination(
    plan: Plan,
    dest: Destination,
    restic: Restic,
    records: BackupRecords,
    *,
    full: bool | None = None,
    rng: random.Random | None = None,
    work_dir: Path | None = None,
    progress: Progress | None = None,
    counts: list[SourceCount] | None = None,
) -> DrillOutcome:
    at = now_utc()
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    counts = counts if counts is not None else survey_sources(plan, records)
    timings["survey"] = time.perf_counter() - t_start
    base: dict[str, Any] = {"sources": {c.path: c.to_json() for c in counts}}

    def fail(code: str, message: str, **details: Any) -> DrillOutcome:
        record = VerificationRecord(
            dest.id, at, "failed", error_code=code, message=message, details={**base, **details, "timings_s": timings}
        )
        records.add_verification(record)
        return DrillOutcome(record, details.get("mismatches", []))

    t_sight = time.perf_counter()
    presence = sight(dest, restic, records, at)
    timings["locate"] = time.perf_counter() - t_sight
    if presence.state != "here":
        _status, code, message = _not_here(presence)
        suffix = " Rien n'a été vérifié sur cette destination." if code in NOTHING_CHECKED else ""
        return fail(code, message + suffix)
    base.update(volume_details(presence, dest))
    try:
        t0 = time.perf_counter()
        snaps = restic.json(dest, ["snapshots", "--tag", TAG], timeout=600) or []
        last = _last_snapshot_run(records.runs(dest.id))
        ids = [(str(s.get("id", "")), str(s.get("short_id", ""))) for s in snaps if isinstance(s, dict)]
        if last is not None and not any(
            full_id.startswith(str(last.snapshot_id)) or short == last.snapshot_id for full_id, short in ids
        ):
            return fail("snapshot_missing", _missing_message(dest, last), snapshot=last.snapshot_id)
        if not snaps:
            return fail("no_snapshot", f"Aucune sauvegarde dans « {dest.label} » : rien à vérifier.")
        latest = max((s for s in snaps if isinstance(s, dict)), key=lambda s: str(s.get("time", "")))
        snapshot_id = str(latest["id"])
        subset = f"{at.toordinal() % CHECK_ROTATION + 1}/{CHECK_ROTATION}"
        if progress:
            progress(f"{dest.label} : contrôle du dépôt ({subset} des données)")
        restic.run(dest, ["check", "--read-data-subset", subset], timeout=6 * 3600)
        timings["check"] = time.perf_counter() - t0
        t_ls = time.perf_counter()
        nodes = _ls(restic, dest, snapshot_id)
        timings["list"] = time.perf_counter() - t_ls
        if not nodes:
            return fail(
                "empty_snapshot",
                f"La dernière sauvegarde de « {dest.label} » ({snapshot_id[:8]}) ne contient aucun fichier : "
                "une restauration d'essai de rien ne prouve rien.",
                snapshot=snapshot_id,
            )
        last_full = next((v for v in records.verifications(dest.id) if v.full and v.status == "passed"), None)
        if full is None:
            full = last_full is None or at - last_full.at > timedelta(days=plan.thresholds.full_drill_every_days)
        chooser = rng or random.SystemRandom()
        sample = nodes if full else chooser.sample(nodes, min(plan.thresholds.sample_files, len(nodes)))
        planned = [Planned.from_node(n) for n in sample]
        target = Path(tempfile.mkdtemp(prefix="officine-drill-", dir=work_dir))
        try:
            if progress:
                progress(f"{dest.label} : restauration d'essai de {len(sample)} fichier(s)")
            t1 = time.perf_counter()
            # restic authenticates every blob it decrypts, so a damaged repository fails the restore
            # itself. Files whose original is unchanged are then compared byte for byte with it;
            # only the others need restic's own re-read (--verify) as proof, in a second pass.
            args = ["restore", snapshot_id, "--target", str(target)]
            if not full:
                for p in planned:
                    args += ["--include", p.path]
            restic.run(dest, args, timeout=12 * 3600)
            moved = [p for p in planned if not _unchanged(p)]
            if moved:
                verify_args = ["restore", snapshot_id, "--target", str(target), "--verify"]
                for p in moved:
                    verify_args += ["--include", p.path]
                restic.run(dest, verify_args, timeout=12 * 3600)
            timings["restore"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            by_path = compare_all(planned, target)
            results = [by_path[p.path] for p in planned]
            timings["compare"] = time.perf_counter() - t2
        finally:
            t_clean = time.perf_counter()
            shutil.rmtree(target, ignore_errors=True)
            timings["cleanup"] = time.perf_counter() - t_clean
    except ResticError as exc:
        return fail(exc.code, exc.message)
    drilled = _Drilled(snapshot_id, full, subset, planned, results, len(nodes))
    record = _judge_drill(plan, dest, at, drilled, counts, {**base, "timings_s": timings})
    records.add_verification(record)
    return DrillOutcome(record, (record.details or {}).get("mismatches", []))


def _unchanged(p: Planned) -> bool:
    try:
        return p.unchanged(os.stat(p.path))
    except OSError:
        return False


@dataclass(frozen=True)
class _Drilled:
    """What a drill restored and how each file compared."""

    snapshot_id: str
    full: bool
    subset: str
    planned: list[Planned]
    results: list[tuple[str, str | None]]
    files_in_snapshot: int


def _judge_drill(
    plan: Plan, dest: Destination, at: datetime, drilled: _Drilled, counts: list[SourceCount], base: dict[str, Any]
) -> VerificationRecord:
    """Passed only when files were restored, none differs from an unchanged original, every folder
    is there to compare with, and most sampled originals are still as they were backed up."""
    planned, results = drilled.planned, drilled.results
    pairs = zip(planned, results, strict=True)
    mismatches = [{"path": p.path, "why": why or ""} for p, (state, why) in pairs if state == "mismatch"]
    changed = sum(1 for state, _ in results if state == "changed")
    deleted = sum(1 for state, _ in results if state == "deleted")
    compared = sum(1 for state, _ in results if state == "ok")
    details = {
        **base,
        "mismatches": mismatches[:100],
        "mismatch_count": len(mismatches),
        "changed_since": changed,
        "deleted_since": deleted,
        "compared": compared,
        "files_in_snapshot": drilled.files_in_snapshot,
    }
    checked_bytes = sum(p.size for p in planned)
    restored = (
        f"La restauration d'essai de {len(planned)} fichier(s) a fonctionné (vérifiée par restic), "
        f"dont {compared} comparé(s) octet par octet à l'original"
    )
    status, code, message = "passed", None, None
    problems = [c for c in counts if c.problem]
    gone_share = (changed + deleted) / len(planned)
    if mismatches:
        names = ", ".join(m["path"] for m in mismatches[:5])
        status, code = "failed", "mismatch"
        message = f"La restauration d'essai a trouvé {len(mismatches)} fichier(s) différent(s) de l'original : {names}."
    elif problems:
        status, code = "failed", _source_failure(problems, saved_others=False)[0]
        message = (
            f"{restored}, mais la comparaison avec les originaux est impossible : "
            + " ; ".join(describe(c) for c in problems)
            + "."
        )
    elif gone_share * 100 > plan.thresholds.max_source_drop_percent:
        status, code = "failed", "source_changed"
        message = (
            f"{restored}. Mais depuis cette sauvegarde, {deleted} de ces fichiers ont disparu des dossiers "
            f"d'origine et {changed} ont changé : les données en service ont peut-être été effacées ou "
            "chiffrées. Vérifiez-les avant toute nouvelle sauvegarde."
        )
    return VerificationRecord(
        dest.id,
        at,
        status,
        drilled.snapshot_id,
        drilled.full,
        drilled.subset,
        len(planned),
        checked_bytes,
        code,
        message,
        details,
    )
