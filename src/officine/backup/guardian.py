"""Running the plan: backups to every present destination, restore drills, presence sightings."""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from officine.backup.plan import Destination, Plan
from officine.backup.records import BackupRecords, RunRecord, Sighting, VerificationRecord
from officine.backup.restic import Restic, ResticError, classify, stderr_errors
from officine.errors import os_reason
from officine.parsers.misc import parse_json, parse_mounts

Progress = Callable[[str], None]
CHECK_ROTATION = 30  # --read-data-subset n/30: every pack is read at least once every 30 days
COMPARE_BLOCK = 2 * 1024 * 1024


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- presence ---------------------------------------------------------------------------------
def _mount_of(path: Path) -> tuple[str, str] | None:
    """(device, mount point) of the filesystem holding `path`."""
    try:
        mounts = parse_mounts(Path("/proc/self/mounts").read_text(encoding="utf-8"))
    except OSError:
        return None
    resolved = str(path.resolve())
    best = None
    for device, point, _fstype in mounts:
        if (resolved == point or resolved.startswith(point.rstrip("/") + "/")) and (
            best is None or len(point) > len(best[1])
        ):
            best = (device, point)
    return best


def volume_encrypted(path: Path) -> bool | None:
    """Is the disk holding `path` a LUKS/dm-crypt volume? None when it cannot be told."""
    import subprocess  # noqa: PLC0415

    from officine.collectors.linux.encryption import map_mounts  # noqa: PLC0415

    mount = _mount_of(path)
    if mount is None or shutil.which("lsblk") is None:
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
    entry = mapped.get(mount[1])
    return None if entry is None else bool(entry["encrypted"])


def probe(dest: Destination, restic: Restic) -> bool:
    local = dest.local_path
    if local is not None:
        return (local / "config").is_file()
    try:
        restic.run(dest, ["cat", "config"], timeout=60)
    except ResticError:
        return False
    return True


def sight(dest: Destination, restic: Restic, records: BackupRecords, at: datetime) -> bool:
    present = probe(dest, restic)
    encrypted = volume_encrypted(dest.local_path) if present and dest.local_path is not None else None
    records.add_sighting(Sighting(dest.id, at, present, encrypted))
    return present


# -- init -------------------------------------------------------------------------------------
def init_destination(dest: Destination, restic: Restic) -> str:
    if probe(dest, restic):
        return "déjà initialisé"
    if dest.local_path is not None:
        dest.local_path.mkdir(parents=True, exist_ok=True)
    restic.run(dest, ["init"], timeout=300)
    return "initialisé"


# -- backup -----------------------------------------------------------------------------------
def backup_destination(
    plan: Plan, dest: Destination, restic: Restic, records: BackupRecords, progress: Progress | None = None
) -> RunRecord:
    started = now_utc()
    if not sight(dest, restic, records, started):
        run = RunRecord(
            dest.id,
            started,
            now_utc(),
            "absent",
            error_code="absent",
            message=f"« {dest.label} » n'est pas branché ou pas joignable : rien n'a été sauvegardé "
            "sur cette destination.",
        )
        records.add_run(run)
        return run
    # restic 0.14 exits 0 when a source path is missing: check every source ourselves first.
    missing = [s.path for s in plan.sources if not Path(s.path).exists()]
    present_sources = [s.path for s in plan.sources if Path(s.path).exists()]
    if not present_sources:
        run = RunRecord(
            dest.id,
            started,
            now_utc(),
            "failed",
            error_code="sources_missing",
            message="Aucun des dossiers à sauvegarder n'est accessible : " + ", ".join(missing),
            details={"missing_sources": missing},
        )
        records.add_run(run)
        return run
    summary: dict[str, Any] = {}

    def on_message(message: dict[str, Any]) -> None:
        if message.get("message_type") == "summary":
            summary.update(message)
        elif message.get("message_type") == "status" and progress is not None:
            progress(f"{dest.label} : {round(100 * float(message.get('percent_done', 0)))} %")

    try:
        code, stderr = restic.stream(dest, ["backup", "--tag", "officine", *present_sources], on_message)
    except ResticError as exc:
        run = RunRecord(dest.id, started, now_utc(), "failed", error_code=exc.code, message=exc.message)
        records.add_run(run)
        return run
    unreadable = [str(e.get("item", "?")) for e in stderr_errors(stderr)]
    previous = next((r for r in records.runs(dest.id) if r.status in ("success", "partial") and r.files_total), None)
    details: dict[str, Any] = {
        "missing_sources": missing,
        "unreadable": unreadable[:50],
        "unreadable_count": len(unreadable),
    }
    if code not in (0, 3) or not summary.get("snapshot_id"):
        error_code, why = classify(stderr, dest) if code not in (0, 3) else ("failed", "restic a échoué")
        run = RunRecord(
            dest.id,
            started,
            now_utc(),
            "failed",
            error_code=error_code,
            message=why[:1].upper() + why[1:] + ".",
            details=details,
        )
        records.add_run(run)
        return run
    files_total = int(summary.get("total_files_processed", 0))
    if previous is not None and previous.files_total and files_total < previous.files_total / 2:
        details["file_count_drop"] = {"before": previous.files_total, "now": files_total}
    status = "success" if code == 0 and not missing else "partial"
    message: str | None = None
    if status == "partial":
        parts = []
        if unreadable:
            parts.append(f"{len(unreadable)} fichier(s) illisible(s), par exemple {unreadable[0]}")
        if missing:
            parts.append("dossier(s) absent(s) : " + ", ".join(missing))
        message = "Sauvegarde incomplète : " + " ; ".join(parts) + "."
    run = RunRecord(
        dest.id,
        started,
        now_utc(),
        status,
        snapshot_id=str(summary["snapshot_id"]),
        files_total=files_total,
        files_new=summary.get("files_new"),
        files_changed=summary.get("files_changed"),
        bytes_added=summary.get("data_added"),
        bytes_total=summary.get("total_bytes_processed"),
        message=message,
        details=details,
    )
    records.add_run(run)
    r = plan.retention
    with contextlib.suppress(ResticError):  # retention is housekeeping: the backup is recorded
        restic.run(
            dest,
            [
                "forget",
                "--tag",
                "officine",
                "--keep-daily",
                str(r.keep_daily),
                "--keep-weekly",
                str(r.keep_weekly),
                "--keep-monthly",
                str(r.keep_monthly),
            ],
            timeout=600,
        )
    return run


def run_plan(
    plan: Plan,
    restic: Restic,
    records: BackupRecords,
    only: list[str] | None = None,
    progress: Progress | None = None,
) -> list[RunRecord]:
    return [
        backup_destination(plan, d, restic, records, progress) for d in plan.destinations if not only or d.id in only
    ]


# -- drill ------------------------------------------------------------------------------------
@dataclass
class DrillOutcome:
    record: VerificationRecord
    mismatches: list[dict[str, str]] = field(default_factory=list)


def same_content(a: Path, b: Path) -> bool:
    """Byte comparison in large unbuffered reads, with sequential read-ahead hints: in a drill one
    side is usually still in the page cache, so the speed is bound by reading the original."""
    if a.stat().st_size <= COMPARE_BLOCK:  # small files: one read each, no read-ahead to tune
        return a.read_bytes() == b.read_bytes()
    with a.open("rb", buffering=0) as fa, b.open("rb", buffering=0) as fb:
        for fh in (fa, fb):
            with contextlib.suppress(AttributeError, OSError):  # not on Windows and macOS
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while True:
            ca, cb = fa.read(COMPARE_BLOCK), fb.read(COMPARE_BLOCK)
            if ca != cb:
                return False
            if not ca:
                return True


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def mtime_ns(value: object) -> int | None:
    """restic's RFC 3339 times carry nanoseconds; datetime keeps only microseconds."""
    if not isinstance(value, str):
        return None
    m = _RFC3339.match(value)
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    try:
        seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    except ValueError:
        return None
    return seconds * 1_000_000_000 + int((m.group(2) or "0").ljust(9, "0")[:9])


def _same_metadata(node: dict[str, Any], st: os.stat_result) -> bool:
    """Same size and modification time (to the nanosecond) as when the snapshot was taken."""
    mtime = mtime_ns(node.get("mtime"))
    return mtime is not None and st.st_size == node.get("size") and st.st_mtime_ns == mtime


def source_unchanged(node: dict[str, Any]) -> bool:
    try:
        return _same_metadata(node, Path(str(node["path"])).stat())
    except OSError:
        return False


def compare_node(node: dict[str, Any], restored_root: Path) -> tuple[str, str | None]:
    """('ok'|'changed'|'deleted'|'mismatch', why) for one file of the snapshot."""
    path = str(node["path"])
    restored = restored_root / path.lstrip("/")
    if not restored.is_file():
        return "mismatch", "absent de la restauration"
    if restored.stat().st_size != node.get("size"):
        return "mismatch", "taille différente de celle de la sauvegarde"
    source = Path(path)
    try:
        st = source.stat()
    except FileNotFoundError:
        return "deleted", None
    except OSError as exc:
        return "changed", f"original illisible ({os_reason(exc)})"
    if not _same_metadata(node, st):
        return "changed", None  # modified since the backup: a difference is expected, not corruption
    if not same_content(restored, source):
        return "mismatch", "contenu différent de l'original alors que l'original n'a pas changé"
    return "ok", None


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
) -> DrillOutcome:
    at = now_utc()
    timings: dict[str, float] = {}

    def fail(code: str, message: str, **details: Any) -> DrillOutcome:
        record = VerificationRecord(
            dest.id, at, "failed", error_code=code, message=message, details={**details, "timings_s": timings}
        )
        records.add_verification(record)
        return DrillOutcome(record, details.get("mismatches", []))

    if not sight(dest, restic, records, at):
        return fail("absent", f"« {dest.label} » n'est pas branché ou pas joignable : pas de vérification.")
    try:
        t0 = time.perf_counter()
        snaps = restic.json(dest, ["snapshots", "--tag", "officine"], timeout=600) or []
        last = next((r for r in records.runs(dest.id) if r.status in ("success", "partial") and r.snapshot_id), None)
        ids = [(str(s.get("id", "")), str(s.get("short_id", ""))) for s in snaps if isinstance(s, dict)]
        if last is not None and not any(
            full_id.startswith(str(last.snapshot_id)) or short == last.snapshot_id for full_id, short in ids
        ):
            return fail(
                "snapshot_missing",
                f"La sauvegarde du {last.started_at:%d/%m/%Y %H:%M} "
                f"({last.snapshot_id}) a disparu de « {dest.label} » : quelqu'un ou quelque chose "
                "l'a supprimée.",
                snapshot=last.snapshot_id,
            )
        if not snaps:
            return fail("no_snapshot", f"Aucune sauvegarde dans « {dest.label} ».")
        latest = max((s for s in snaps if isinstance(s, dict)), key=lambda s: str(s.get("time", "")))
        snapshot_id = str(latest["id"])
        subset = f"{at.toordinal() % CHECK_ROTATION + 1}/{CHECK_ROTATION}"
        if progress:
            progress(f"{dest.label} : contrôle du dépôt ({subset} des données)")
        restic.run(dest, ["check", "--read-data-subset", subset], timeout=6 * 3600)
        timings["check"] = time.perf_counter() - t0
        nodes = _ls(restic, dest, snapshot_id)
        last_full = next((v for v in records.verifications(dest.id) if v.full and v.status == "passed"), None)
        if full is None:
            full = last_full is None or at - last_full.at > timedelta(days=plan.thresholds.full_drill_every_days)
        chooser = rng or random.SystemRandom()
        sample = nodes if full else chooser.sample(nodes, min(plan.thresholds.sample_files, len(nodes)))
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
                for node in sample:
                    args += ["--include", str(node["path"])]
            restic.run(dest, args, timeout=12 * 3600)
            moved = [n for n in sample if not source_unchanged(n)]
            if moved:
                verify_args = ["restore", snapshot_id, "--target", str(target), "--verify"]
                for node in moved:
                    verify_args += ["--include", str(node["path"])]
                restic.run(dest, verify_args, timeout=12 * 3600)
            timings["restore"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            # One more reader than cores keeps the disk busy while others compare in memory.
            ordered = sorted(sample, key=lambda n: -int(n.get("size") or 0))
            with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) + 1) as pool:
                by_path = dict(
                    zip(
                        (str(n["path"]) for n in ordered),
                        pool.map(lambda n: compare_node(n, target), ordered),
                        strict=True,
                    )
                )
            results = [by_path[str(n["path"])] for n in sample]
            timings["compare"] = time.perf_counter() - t2
        finally:
            shutil.rmtree(target, ignore_errors=True)
    except ResticError as exc:
        return fail(exc.code, exc.message)
    mismatches = [
        {"path": str(n["path"]), "why": why or ""}
        for n, (state, why) in zip(sample, results, strict=True)
        if state == "mismatch"
    ]
    changed = sum(1 for state, _ in results if state == "changed")
    deleted = sum(1 for state, _ in results if state == "deleted")
    checked_bytes = sum(int(n.get("size") or 0) for n in sample)
    details = {
        "mismatches": mismatches[:100],
        "mismatch_count": len(mismatches),
        "changed_since": changed,
        "deleted_since": deleted,
        "files_in_snapshot": len(nodes),
        "timings_s": timings,
    }
    if mismatches:
        names = ", ".join(m["path"] for m in mismatches[:5])
        record = VerificationRecord(
            dest.id,
            at,
            "failed",
            snapshot_id,
            full,
            subset,
            len(sample),
            checked_bytes,
            "mismatch",
            f"La restauration d'essai a trouvé {len(mismatches)} fichier(s) différent(s) de l'original : {names}.",
            details,
        )
    else:
        record = VerificationRecord(
            dest.id, at, "passed", snapshot_id, full, subset, len(sample), checked_bytes, details=details
        )
    records.add_verification(record)
    return DrillOutcome(record, mismatches)
