"""The sentinel as the surfaces use it: default folders, the systemd unit, status, resume / end / ack."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from officine.errors import UserError
from officine.paths import ENV_CONFIG_DIR, ENV_DATA_DIR, config_dir, data_dir
from officine.sentinel import canaries, incident_link
from officine.sentinel.config import load_settings, sentinel_dir
from officine.sentinel.processes import SuspendedRecords, end, resume
from officine.sentinel.records import EventLog, acknowledge, read_status, unacknowledged_alarms
from officine.store import Store

UNIT_NAME = "officine-sentinel.service"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
ENV_UNIT_DIR = "OFFICINE_SYSTEMD_DIR"
# The status file is rewritten every few seconds: older than this, the sentinel is not running.
STALE_AFTER_S = 60


def default_folders(store_url: str | None = None) -> list[str]:
    """The sentinel's own settings, then the backup plan's sources, then the dashboard's folders."""
    found = list(load_settings().folders)
    try:
        from officine.backup.plan import default_plan_path, load_plan  # noqa: PLC0415

        if default_plan_path().exists():
            found += [s.path for s in load_plan().sources]
    except UserError:
        pass
    try:
        from officine.services.site import load_profile  # noqa: PLC0415

        profile = load_profile(Store(store_url))
        if profile is not None:
            found += [f.path for f in profile.folders]
    except UserError:
        pass
    return list(dict.fromkeys(found))


def unit_dir(override: Path | None = None) -> Path:
    return override or Path(os.environ.get(ENV_UNIT_DIR) or SYSTEM_UNIT_DIR)


def unit_text(folders: list[str], events_file: Path) -> str:
    command = [sys.executable, "-m", "officine", "sentinel", "watch", "--evenements", str(events_file), *folders]
    return (
        "[Unit]\n"
        "Description=officine-cyber : sentinelle anti-rançongiciel\n"
        "After=local-fs.target\n\n"
        "[Service]\n"
        "Type=simple\n"
        f"Environment={ENV_DATA_DIR}={data_dir()}\n"
        f"Environment={ENV_CONFIG_DIR}={config_dir()}\n"
        f"ExecStart={shlex.join(command)}\n"
        "Restart=on-failure\n"
        "RestartSec=5\n"
        # Processes the sentinel suspended are not its children: stopping it leaves them as they are.
        "KillMode=process\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def windows_commands(folders: list[str]) -> list[str]:
    """What to run in an elevated prompt on Windows (a scheduled task started at boot, as SYSTEM)."""
    shown = " ".join(f'\\"{f}\\"' for f in folders) or '\\"D:\\Pharmacie\\"'
    return [
        'schtasks /Create /TN "officine-cyber sentinelle" /SC ONSTART /RU SYSTEM /RL HIGHEST /F '
        f'/TR "py -m officine sentinel watch --evenements %ProgramData%\\officine-cyber\\evenements.jsonl {shown}"',
        'schtasks /Run /TN "officine-cyber sentinelle"',
    ]


@dataclass
class Installed:
    unit: Path
    enabled: bool
    message: str


def install(folders: list[str], directory: Path | None = None, enable: bool = True) -> Installed:
    from officine.sentinel.engine import check_folders  # noqa: PLC0415

    checked = check_folders(folders)
    target_dir = unit_dir(directory)
    events = sentinel_dir() / "evenements.jsonl"
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        unit = target_dir / UNIT_NAME
        tmp = unit.with_suffix(".tmp")
        tmp.write_text(unit_text(checked, events), encoding="utf-8")
        os.replace(tmp, unit)
    except OSError as exc:
        raise UserError(
            f"Impossible d'écrire le service dans {target_dir} ({exc.strerror or exc}) : relancez avec sudo."
        ) from exc
    # systemctl only for the real system folder: a unit written elsewhere (tests) is never enabled.
    if not enable or target_dir.resolve() != SYSTEM_UNIT_DIR or shutil.which("systemctl") is None:
        return Installed(unit, False, f"Service écrit dans {unit} (non activé).")
    for args in (["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", UNIT_NAME]):
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise UserError(f"« {' '.join(args)} » a échoué : {proc.stderr.strip()[:300]}")
    return Installed(unit, True, f"Sentinelle installée et démarrée ({unit}).")


def uninstall(directory: Path | None = None, disable: bool = True) -> list[str]:
    target_dir = unit_dir(directory)
    unit = target_dir / UNIT_NAME
    done: list[str] = []
    if disable and target_dir.resolve() == SYSTEM_UNIT_DIR and shutil.which("systemctl") is not None:
        subprocess.run(["systemctl", "disable", "--now", UNIT_NAME], capture_output=True, check=False)
        subprocess.run(["systemctl", "daemon-reload"], capture_output=True, check=False)
        done.append("service arrêté et désactivé")
    if unit.exists():
        unit.unlink()
        done.append(f"fichier {unit} supprimé")
    manifest = sentinel_dir() / "leurres.json"
    removed = canaries.remove(canaries.load_manifest(manifest))
    if removed:
        done.append(f"{removed} fichier(s)-leurres retiré(s)")
    if not done:
        raise UserError("La sentinelle n'est pas installée sur ce poste : rien à retirer.")
    return done


def status(store_url: str | None = None, directory: Path | None = None) -> dict[str, Any]:
    state = read_status(sentinel_dir() / "etat.json") or {}
    updated = state.get("updated_at")
    age = None
    if isinstance(updated, str):
        age = (datetime.now(UTC) - datetime.fromisoformat(updated)).total_seconds()
    alive = bool(state.get("running")) and _alive(state.get("pid")) and age is not None and age < STALE_AFTER_S
    suspended = SuspendedRecords(sentinel_dir() / "suspendus.json").still_stopped()
    alarms: list[dict[str, Any]] = []
    with contextlib.suppress(UserError):
        alarms = [
            {"id": r.id, "at": r.at.isoformat(), "pid": r.pid, "indicators": r.indicators, "paths": r.paths[:5]}
            for r in unacknowledged_alarms(Store(store_url))
        ]
    return {
        "running": alive,
        "status_age_seconds": None if age is None else round(age, 1),
        "mode": state.get("mode"),
        "folders": state.get("folders", []),
        "files_indexed": state.get("files_indexed"),
        "canaries": state.get("canaries"),
        "events_per_second": state.get("events_per_second"),
        "overflows": state.get("overflows"),
        "last_alarm": state.get("last_alarm"),
        "unacknowledged_alarms": alarms,
        "suspended": [
            {"pid": r["pid"], "cmdline": r.get("cmdline"), "since": r.get("at"), "state": r.get("state")}
            for r in suspended
        ],
        "unit_installed": (unit_dir(directory) / UNIT_NAME).exists(),
    }


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _events_log(store_url: str | None) -> EventLog:
    state = read_status(sentinel_dir() / "etat.json") or {}
    path = state.get("events_file")
    try:
        store: Store | None = Store(store_url)
    except UserError:
        store = None
    return EventLog(Path(path) if isinstance(path, str) else None, store)


def decide(pid: int, action: str, by: str, store_url: str | None = None) -> dict[str, Any]:
    """Resume ("resume") or end ("end") a process the sentinel suspended; journaled both ways."""
    records = SuspendedRecords(sentinel_dir() / "suspendus.json")
    record = resume(pid, records) if action == "resume" else end(pid, records)
    details: dict[str, Any] = {"cmdline": record.get("cmdline"), "alarm_id": record.get("alarm"), "by": by}
    _events_log(store_url).write("reaction", pid=pid, action=action, result="done", **details)
    incident_link.journal(
        f"sentinel_{action}", "décision sur un processus suspendu par la sentinelle", pid=pid, **details
    )
    return record


def acknowledge_alarm(event_id: int, by: str, store_url: str | None = None) -> None:
    if not acknowledge(Store(store_url), event_id, by):
        raise UserError(f"Aucune alarme n° {event_id} : voyez « officine sentinel status ».")
    incident_link.journal("sentinel_acknowledged", "alarme de la sentinelle", alarm=event_id, by=by)
