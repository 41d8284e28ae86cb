"""The backup guardian as every surface uses it: plan edition, runs, drills, status, restore."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from officine.answers import Answers
from officine.backup import guardian
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
from officine.backup.state import SIGHTING_WINDOW, build_state
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
    path = plan_path or default_plan_path()
    if path.exists() and not force:
        raise UserError(
            f"Un plan existe déjà ({path}). Modifiez-le avec « officine backup plan add-source » "
            "ou recommencez avec --remplacer."
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
    return save_plan(Plan(sources=entries), path)


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
    plan = load_plan(path)
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
    target = target.resolve()
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


def restore(
    g: Guardian,
    dest_id: str,
    target: Path,
    snapshot: str = "latest",
    include: list[str] | None = None,
    overwrite: bool = False,
) -> Path:
    dest = g.plan.destination(dest_id)
    target = check_restore_target(g.plan, target, overwrite)
    if not guardian.probe(dest, g.restic):
        raise UserError(f"« {dest.label} » n'est pas branché ou pas joignable. Branchez le disque puis relancez.")
    args = ["restore", snapshot, "--target", str(target), "--verify"]
    for pattern in include or []:
        args += ["--include", pattern]
    g.restic.run(dest, args, timeout=24 * 3600)
    return target


def snapshots(g: Guardian, dest_id: str) -> list[dict[str, Any]]:
    dest = g.plan.destination(dest_id)
    rows = g.restic.json(dest, ["snapshots", "--tag", "officine"]) or []
    return sorted(rows, key=lambda r: str(r.get("time", "")), reverse=True)


# -- schedule -------------------------------------------------------------------------------------
def systemd_units(officine_bin: str, on_calendar: str) -> dict[str, str]:
    service = (
        "[Unit]\nDescription=officine-cyber : sauvegarde et vérification\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\nType=oneshot\n"
        f"ExecStart={officine_bin} backup run\n"
        f"ExecStartPost={officine_bin} backup drill\n"
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
        f'/TR "cmd /c \\"{officine_exe}\\" backup run && \\"{officine_exe}\\" backup drill"'
    )


__all__ = [
    "BACKUP_MEASURES",
    "Guardian",
    "ResticError",
    "add_destination",
    "backup_status",
    "plan_init",
    "remove_destination",
    "restore",
    "site_facts",
]
