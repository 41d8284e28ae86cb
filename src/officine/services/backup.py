"""The backup guardian as every surface uses it: plan edition, runs, drills, status, restore."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from officine.answers import Answers
from officine.backup import fr, guardian
from officine.backup.plan import (
    Destination,
    Hds,
    Plan,
    Source,
    default_plan_path,
    load_plan,
    save_plan,
)
from officine.backup.records import BackupRecords
from officine.backup.restic import Restic, ResticError
from officine.backup.state import SIGHTING_WINDOW, build_state, unreadable_plan
from officine.errors import UserError
from officine.facts import Fact
from officine.paths import config_dir
from officine.services.knowledge import load_knowledge
from officine.services.site import load_profile
from officine.store import Store
from officine.validation import explain

BACKUP_MEASURES = ("SAV-01", "SAV-02", "SAV-03", "SAV-04", "SAV-05", "SAV-06")


def secrets_dir() -> Path:
    return config_dir() / "secrets"


@dataclass
class Guardian:
    plan: Plan
    plan_path: Path
    records: BackupRecords
    restic: Restic

    @classmethod
    def open(cls, plan_path: Path | None = None, store_url: str | None = None, need_restic: bool = True) -> Guardian:
        path = plan_path or default_plan_path()
        plan = load_plan(path)
        restic = Restic.find() if need_restic else Restic("restic", Path())
        return cls(plan, path, BackupRecords(Store(store_url)), restic)


# -- plan edition ---------------------------------------------------------------------------------
def plan_init(sources: list[Path], lgo: list[Path], plan_path: Path | None = None, force: bool = False) -> Path:
    """Create the plan with its folders. With `force`, an existing plan gets the new folders but
    keeps its destinations, retention, schedule and thresholds; the old file is kept beside it."""
    path = plan_path or default_plan_path()
    if path.exists() and not force:
        raise UserError(
            f"Un plan existe déjà ({path}). Ajoutez un dossier avec « officine backup plan add-source DOSSIER », "
            "ou remplacez les dossiers avec --remplacer (les destinations sont conservées)."
        )
    entries = [Source(path=str(p.resolve()), lgo=False) for p in sources] + [
        Source(path=str(p.resolve()), lgo=True, label="LGO") for p in lgo
    ]
    if not entries:
        entries = declared_folders()
    if not entries:
        raise UserError(
            "Indiquez au moins un dossier à sauvegarder (--source DOSSIER ou --lgo DOSSIER), "
            "ou déclarez-les dans le tableau de bord (page « Pharmacie »)."
        )
    for s in entries:
        if not Path(s.path).is_dir():
            raise UserError(f"Le dossier {s.path} n'existe pas.")
    plan = Plan(sources=entries)
    if path.exists():
        with contextlib.suppress(UserError):  # an unreadable plan: start afresh, its file is kept below
            plan = load_plan(path).model_copy(update={"sources": entries})
        keep_previous(path)
    return save_plan(plan, path)


def keep_previous(path: Path) -> Path:
    """Copy the current plan file aside (dated) before it is replaced: nothing entered is lost."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.{stamp}.bak")
    shutil.copy2(path, kept)
    return kept


def previous_plans(plan_path: Path | None = None) -> list[Path]:
    """Copies kept by `plan init --remplacer`, newest first."""
    path = plan_path or default_plan_path()
    return sorted(path.parent.glob(f"{path.name}.*.bak"), reverse=True)


def add_source(folder: Path, lgo: bool = False, plan_path: Path | None = None) -> Path:
    plan = load_plan(plan_path)
    resolved = folder.resolve()
    if not resolved.is_dir():
        raise UserError(f"Le dossier {resolved} n'existe pas.")
    if any(Path(s.path) == resolved for s in plan.sources):
        raise UserError(f"Le dossier {resolved} est déjà dans le plan.")
    plan.sources.append(Source(path=str(resolved), lgo=lgo, label="LGO" if lgo else ""))
    return save_plan(plan, plan_path)


def remove_source(folder: Path, plan_path: Path | None = None) -> Path:
    """Take a folder out of the plan (by its path as written in the plan, or as given)."""
    plan = load_plan(plan_path)
    wanted = {str(folder), str(folder.resolve())}
    kept = [s for s in plan.sources if s.path not in wanted]
    if len(kept) == len(plan.sources):
        raise UserError(
            f"Le dossier {folder} n'est pas dans le plan. Dossiers : "
            + (", ".join(s.path for s in plan.sources) or "aucun")
        )
    if not kept:
        raise UserError("C'est le dernier dossier du plan : ajoutez-en un autre avant de le retirer.")
    plan.sources = kept
    return save_plan(plan, plan_path)


def declared_folders(store_url: str | None = None) -> list[Source]:
    """The data folders declared on the dashboard; one whose description names the LGO is marked so."""
    profile = load_profile(Store(store_url))
    if profile is None:
        return []
    sources = []
    for f in profile.folders:
        try:
            sources.append(Source(path=f.path, lgo="lgo" in f.label.lower(), label=f.label))
        except ValidationError as exc:
            raise UserError(
                f"Le dossier déclaré « {f.path} » n'est pas un chemin complet de ce poste : corrigez-le dans "
                "le tableau de bord ou indiquez les dossiers avec --source / --lgo."
            ) from exc
    return sources


def add_destination(
    *,
    dest_id: str,
    label: str,
    kind: str,
    place: str,
    repository: str,
    password_file: Path | None,
    immutable: bool = False,
    hds_reference: str | None = None,
    hds_expires: date | None = None,
    hds_certified: bool | None = None,
    plan_path: Path | None = None,
) -> tuple[Path, str | None]:
    """Add a destination; generate its password when none is given. Returns (password file, new password)."""
    plan = load_plan(plan_path)
    if any(d.id == dest_id for d in plan.destinations):
        raise UserError(f"La destination « {dest_id} » existe déjà.")
    generated = None
    if password_file is None:
        password_file = secrets_dir() / f"{dest_id}.pass"
        if password_file.exists():
            raise UserError(f"{password_file} existe déjà : indiquez-le avec --fichier-mot-de-passe.")
        generated = secrets.token_urlsafe(24)
        password_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(generated + "\n")
    hds = None
    if kind == "cloud" or hds_reference or hds_certified is not None:
        hds = Hds(
            certified=bool(hds_certified if hds_certified is not None else hds_reference),
            reference=hds_reference,
            expires=hds_expires,
        )
    try:
        dest = Destination.model_validate(
            {
                "id": dest_id,
                "label": label,
                "kind": kind,
                "place": place,
                "repository": repository,
                "password_file": str(password_file.resolve()),
                "immutable": immutable,
                "hds": hds,
            }
        )
    except ValueError as exc:
        if generated is not None:
            password_file.unlink(missing_ok=True)
        raise UserError(f"Destination invalide : {_first_error(exc)}") from exc
    plan.destinations.append(dest)
    save_plan(plan, plan_path)
    return password_file, generated


def _first_error(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return explain(exc)
    return str(exc)


def remove_destination(dest_id: str, plan_path: Path | None = None) -> None:
    plan = load_plan(plan_path)
    plan.destination(dest_id)
    plan.destinations = [d for d in plan.destinations if d.id != dest_id]
    save_plan(plan, plan_path)


# -- facts for the audit ----------------------------------------------------------------------------
def site_facts(
    store_url: str | None = None,
    plan_path: Path | None = None,
    now: datetime | None = None,
    store: Store | None = None,
) -> dict[str, Fact]:
    """Backup facts for evaluate(). Without a plan, nothing is opened and the facts say so;
    a caller that already holds the store passes it rather than opening a second one."""
    path = plan_path or default_plan_path()
    now = now or datetime.now(UTC)
    if not path.exists():
        return build_state(None, [], [], {}, {}, now)
    try:
        plan = load_plan(path)
    except UserError as exc:
        return unreadable_plan(exc.message)
    records = BackupRecords(store or Store(store_url))
    since = now - SIGHTING_WINDOW
    return build_state(
        plan,
        records.runs(),
        records.verifications(),
        {d.id: records.sightings(d.id, since) for d in plan.destinations},
        {d.id: records.first_sighting(d.id) for d in plan.destinations},
        now,
    )


def backup_status(
    store_url: str | None = None, plan_path: Path | None = None, now: datetime | None = None
) -> tuple[list[Any], dict[str, Fact]]:
    """The SAV-* verdicts alone, for `officine backup status` and monitoring tools."""
    facts = site_facts(store_url, plan_path, now)
    today = (now or datetime.now(UTC)).date()
    assessment = load_knowledge().judge([], Answers(), facts, today)
    return [m for m in assessment.measures if m.measure.id in BACKUP_MEASURES], facts


# -- restore --------------------------------------------------------------------------------------
def check_restore_target(plan: Plan, target: Path, overwrite: bool) -> Path:
    """Refuse, before anything is written, a target that would mix the restore with live data,
    with a repository, or that is not a folder."""
    target = target.expanduser().resolve()
    blocking = next((p for p in [target, *target.parents] if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UserError(
            f"{blocking} est un fichier, pas un dossier : indiquez avec --vers un dossier vide ou nouveau "
            "(ce fichier n'a pas été touché)."
        )
    for d in plan.destinations:
        repo = d.local_path.resolve() if d.local_path is not None else None
        if repo is not None and (target == repo or repo in target.parents or target in repo.parents):
            raise UserError(
                f"La restauration dans {target} toucherait le dépôt de « {d.label} » ({repo}) : "
                "choisissez un dossier ailleurs."
            )
    for s in plan.sources:
        src = Path(s.path).resolve()
        if (target == src or src in target.parents or target in src.parents) and not overwrite:
            raise UserError(
                f"La destination de restauration {target} touche les données en service ({src}). "
                "Restaurez dans un autre dossier, vérifiez, puis remplacez à la main ; "
                "ou ajoutez --ecraser si c'est vraiment voulu."
            )
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise UserError(f"Le dossier {target} n'est pas vide : choisissez un dossier vide ou nouveau.")
    return target


def _free_space(target: Path) -> int:
    existing = next(p for p in [target, *target.parents] if p.exists())
    return shutil.disk_usage(existing).free


def restore(
    g: Guardian,
    dest_id: str,
    target: Path,
    snapshot: str = "latest",
    include: list[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Restore a snapshot (by default the latest good one: never one marked suspect) into a
    separate folder, with restic's verification. Space is checked first when it can be."""
    dest = g.plan.destination(dest_id)
    target = check_restore_target(g.plan, target, overwrite)
    presence = guardian.where(dest, g.restic, g.records)
    if presence.state != "here":
        raise UserError(presence.why[:1].upper() + presence.why[1:] + ". Rien n'a été restauré.")
    chosen = [snapshot, "--tag", guardian.TAG] if snapshot == "latest" else [snapshot]
    if not include and not overwrite:
        stats = g.restic.json(dest, ["stats", *chosen, "--mode", "restore-size"], timeout=3600) or {}
        needed, free = int(stats.get("total_size") or 0), _free_space(target)
        if needed > free:
            raise UserError(
                f"Pas assez de place pour restaurer dans {target} : il faut {fr.size(needed)}, il reste "
                f"{fr.size(free)}. Choisissez un disque plus grand, ou restaurez seulement une partie avec "
                "--seulement CHEMIN. Rien n'a été restauré."
            )
    args = ["restore", *chosen, "--target", str(target), "--verify"]
    for pattern in include or []:
        args += ["--include", pattern]
    try:
        g.restic.run(dest, args, timeout=24 * 3600)
    except ResticError as exc:
        if exc.code == "read_only":
            raise ResticError(
                "target_read_only",
                f"Le disque où vous restaurez ({target}) est en lecture seule : rien n'a pu y être restauré. "
                "Choisissez un autre dossier. La sauvegarde elle-même n'a pas été touchée.",
                exc.detail,
            ) from exc
        if exc.code == "disk_full":
            raise ResticError(
                "target_full",
                f"Le disque où vous restaurez ({target}) est plein : la restauration est incomplète. Les "
                f"fichiers déjà écrits dans {target} peuvent être tronqués : ne les utilisez pas tels quels. "
                "Libérez de la place ou choisissez un autre disque, puis relancez dans un dossier vide. "
                "La sauvegarde elle-même n'a pas été touchée.",
                exc.detail,
            ) from exc
        raise
    return target


def snapshots(g: Guardian, dest_id: str) -> list[dict[str, Any]]:
    """The destination's snapshots, newest first; those taken while a folder was missing, emptied
    or shrunk carry the tag `officine-suspect` (never the 'latest' of a restore)."""
    dest = g.plan.destination(dest_id)
    rows = g.restic.json(dest, ["snapshots", "--tag", guardian.TAG, "--tag", guardian.SUSPECT_TAG]) or []
    return sorted(rows, key=lambda r: str(r.get("time", "")), reverse=True)


# -- schedule -------------------------------------------------------------------------------------
def systemd_units(officine_bin: str, on_calendar: str) -> dict[str, str]:
    service = (
        "[Unit]\nDescription=officine-cyber : sauvegarde et vérification\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\nType=oneshot\n"
        # One command for both: a failed backup must not skip the drill (an ExecStartPost would be
        # skipped), and the unit fails when either step is not proven (see docs/backups.md).
        f"ExecStart={officine_bin} backup run --verifier\n"
        "Nice=10\nIOSchedulingClass=idle\n"
    )
    timer = (
        "[Unit]\nDescription=officine-cyber : sauvegarde planifiée\n\n"
        f"[Timer]\nOnCalendar={on_calendar}\nPersistent=true\nRandomizedDelaySec=300\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    return {"officine-backup.service": service, "officine-backup.timer": timer}


def install_schedule(plan: Plan, unit_dir: Path, officine_bin: str | None = None) -> list[Path]:
    officine_bin = officine_bin or str(Path(sys.executable).with_name("officine"))
    unit_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in systemd_units(officine_bin, plan.schedule).items():
        path = unit_dir / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def remove_schedule(unit_dir: Path) -> list[Path]:
    removed = []
    for name in ("officine-backup.timer", "officine-backup.service"):
        path = unit_dir / name
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def windows_task(officine_exe: str = r"C:\Program Files\officine-cyber\officine.exe", at: str = "20:30") -> str:
    return (
        f'schtasks /Create /TN "officine-cyber\\Sauvegarde" /SC DAILY /ST {at} /RL HIGHEST /F '
        f'/TR "\\"{officine_exe}\\" backup run --verifier"'
    )


__all__ = [
    "BACKUP_MEASURES",
    "Guardian",
    "ResticError",
    "add_destination",
    "add_source",
    "backup_status",
    "plan_init",
    "remove_destination",
    "remove_source",
    "restore",
    "site_facts",
]
