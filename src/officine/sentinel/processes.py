"""Suspending the offending process, and giving the user the hand back (resume or end it).

The record is written (and synced) before SIGSTOP is sent: if the sentinel is killed at any
moment, no process stays suspended without a trace, and the next start (or `status`) reports
every process still stopped by an earlier run. A record names the process by its ID and its
start time, so a recycled ID is never resumed or killed by mistake.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from officine.errors import UserError


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    start_ticks: int | None
    name: str | None
    exe: str | None
    cmdline: list[str]
    ppid: int | None
    uid: int | None


def describe(pid: int) -> ProcessInfo:
    """What /proc says of a process (fields are None where it is gone or hidden)."""
    base = Path(f"/proc/{pid}")
    start = ppid = uid = None
    name = exe = None
    cmdline: list[str] = []
    try:
        stat = (base / "stat").read_text(encoding="utf-8", errors="replace")
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid, start = int(fields[1]), int(fields[19])
        cmdline = [a for a in (base / "cmdline").read_bytes().decode("utf-8", "replace").split("\0") if a]
        uid = base.stat().st_uid
        exe = os.readlink(base / "exe")
    except (OSError, ValueError, IndexError):
        pass
    return ProcessInfo(pid, start, name, exe, cmdline, ppid, uid)


def state(pid: int) -> str | None:
    """The process state letter (R, S, T for stopped...), None when it no longer exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[0]


def _same(record: dict[str, Any]) -> bool:
    info = describe(int(record["pid"]))
    return info.start_ticks is not None and info.start_ticks == record.get("start_ticks")


@dataclass
class Suspension:
    pid: int
    stopped: bool
    reason: str  # "stopped", "refused_self", "refused_init", "gone", "error: ..."


class SuspendedRecords:
    """The processes this sentinel suspended and that nobody resumed or ended yet (one JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []
        return [r for r in data if isinstance(r, dict) and "pid" in r]

    def _save(self, records: list[dict[str, Any]], sync: bool = True) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(records, fh, ensure_ascii=False, indent=1)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def add(self, info: ProcessInfo, alarm_id: str, sync: bool = True) -> None:
        records = [r for r in self.all() if r.get("pid") != info.pid]
        records.append({**asdict(info), "alarm": alarm_id, "at": time.time()})
        self._save(records, sync)

    def sync(self) -> None:
        """Push the records to the disk (after the signal: a loaded disk takes tens of milliseconds)."""
        with contextlib.suppress(OSError), self.path.open("rb") as fh:
            os.fsync(fh.fileno())

    def remove(self, pid: int) -> dict[str, Any] | None:
        records = self.all()
        found = next((r for r in records if r.get("pid") == pid), None)
        if found is not None:
            self._save([r for r in records if r.get("pid") != pid])
        return found

    def still_stopped(self) -> list[dict[str, Any]]:
        """Records whose process still exists (same start time) and is stopped; stale ones are dropped."""
        alive, stale = [], False
        for record in self.all():
            if _same(record):
                alive.append({**record, "state": state(int(record["pid"]))})
            else:
                stale = True
        if stale:
            self._save([{k: v for k, v in r.items() if k != "state"} for r in alive])
        return alive


def suspend(pid: int, records: SuspendedRecords, alarm_id: str) -> tuple[Suspension, ProcessInfo]:
    info = describe(pid)
    if sys.platform != "linux":
        return Suspension(pid, False, "not_supported"), info
    if pid in (os.getpid(), os.getppid()):
        return Suspension(pid, False, "refused_self"), info
    if pid == 1:
        return Suspension(pid, False, "refused_init"), info
    if info.start_ticks is None:
        return Suspension(pid, False, "gone"), info
    # Written before the signal, so that a sentinel killed at any moment leaves a trace; synced to
    # the disk just after it (the kernel keeps the written file if only the sentinel dies, and a
    # synchronous write first would let a fast ransomware run on for tens of milliseconds).
    records.add(info, alarm_id, sync=False)
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        records.remove(pid)
        return Suspension(pid, False, "gone"), info
    except OSError as exc:
        records.remove(pid)
        return Suspension(pid, False, f"error: {exc.strerror}"), info
    records.sync()
    return Suspension(pid, True, "stopped"), info


def _recorded(pid: int, records: SuspendedRecords) -> dict[str, Any]:
    record = next((r for r in records.all() if r.get("pid") == pid), None)
    if record is None:
        raise UserError(f"Le processus {pid} n'a pas été suspendu par la sentinelle : rien à faire.")
    if not _same(record):
        records.remove(pid)
        raise UserError(f"Le processus {pid} n'existe plus (il s'est arrêté ou a été arrêté) : rien à faire.")
    return record


def resume(pid: int, records: SuspendedRecords) -> dict[str, Any]:
    record = _recorded(pid, records)
    os.kill(pid, signal.SIGCONT)
    records.remove(pid)
    return record


def end(pid: int, records: SuspendedRecords) -> dict[str, Any]:
    """Ends a suspended process for good (SIGKILL: a stopped process cannot act on SIGTERM)."""
    record = _recorded(pid, records)
    os.kill(pid, signal.SIGKILL)
    records.remove(pid)
    return record
