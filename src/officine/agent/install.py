"""Running the agent on its own: a systemd service and timer on Linux (installed), the Windows
scheduled task (printed, to run in an administrator's PowerShell)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from officine.errors import UserError

UNIT = "officine-agent"
SYSTEMD_DIR = Path("/etc/systemd/system")
WINDOWS_TASK = "officine-cyber agent"


@dataclass(frozen=True)
class Units:
    service: str
    timer: str


def command_line(executable: str | None = None) -> list[str]:
    """How the timer calls the agent: this very Python and officine, wherever they are."""
    return [executable or sys.executable, "-m", "officine", "agent", "envoyer"]


def units(every_minutes: int, command: list[str], environment: dict[str, str]) -> Units:
    env = "".join(f"Environment={shlex.quote(f'{k}={v}')}\n" for k, v in sorted(environment.items()))
    service = (
        "[Unit]\n"
        "Description=officine-cyber : envoi de l'état du poste au serveur du parc\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{env}"
        f"ExecStart={shlex.join(command)}\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
        "TimeoutStartSec=30min\n"
    )
    timer = (
        "[Unit]\n"
        "Description=officine-cyber : envoi régulier au serveur du parc\n\n"
        "[Timer]\n"
        "OnBootSec=5min\n"
        f"OnUnitActiveSec={every_minutes}min\n"
        "RandomizedDelaySec=5min\n"
        "Persistent=true\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return Units(service, timer)


def install_systemd(units_: Units, folder: Path | None = None, activate: bool = True) -> list[Path]:
    """Write the unit files; enable and start the timer when they went to systemd's own folder."""
    target = folder or SYSTEMD_DIR
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for suffix, text in ((".service", units_.service), (".timer", units_.timer)):
            path = target / f"{UNIT}{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise UserError(
            f"Impossible d'écrire le minuteur dans {target} ({exc.strerror}) : lancez la commande en administrateur "
            "(sudo)."
        ) from exc
    if activate and folder is None:
        systemctl = shutil.which("systemctl")
        if systemctl is None:
            raise UserError("systemctl est introuvable : ce poste n'utilise pas systemd. Lancez l'agent par cron.")
        for args in (["daemon-reload"], ["enable", "--now", f"{UNIT}.timer"]):
            done = subprocess.run([systemctl, *args], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise UserError(f"systemctl {' '.join(args)} a échoué : {done.stderr.strip()[:300]}")
    return written


def windows_task(every_minutes: int, python: str = r"C:\Program Files\officine-cyber\python.exe") -> str:
    """The PowerShell lines that register the task (runs as SYSTEM, again every N minutes)."""
    return (
        f'$action = New-ScheduledTaskAction -Execute "{python}" -Argument "-m officine agent envoyer"\n'
        "$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date).AddMinutes(5) "
        f"-RepetitionInterval (New-TimeSpan -Minutes {every_minutes})\n"
        '$principal = New-ScheduledTaskPrincipal -UserId "SYSTEM" -LogonType ServiceAccount -RunLevel Highest\n'
        "$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -RunOnlyIfNetworkAvailable "
        "-ExecutionTimeLimit (New-TimeSpan -Minutes 30)\n"
        f'Register-ScheduledTask -TaskName "{WINDOWS_TASK}" -Action $action -Trigger $trigger '
        "-Principal $principal -Settings $settings -Force\n"
    )
