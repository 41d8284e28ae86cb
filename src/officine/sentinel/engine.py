"""The running sentinel: a thin reader fills bounded queues, analysis workers judge, reactions follow.

    OS events ──reader thread──> queues (one per worker, by folder) ──workers──> Analyser ──> Detector
                                      │ full: counted, then an overflow event and a rescan      │ alarm
                                      v                                                          v
                               status file every few seconds         suspend (record, then SIGSTOP),
                                                                    events file + store, journal, isolate

Events of one folder always go to the same worker, so a write and the rename that follows it are
judged in order.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from officine.errors import UserError
from officine.sentinel import canaries as canary_files
from officine.sentinel import incident_link
from officine.sentinel.analysis import Analyser
from officine.sentinel.config import Thresholds, sentinel_dir, thresholds
from officine.sentinel.detector import HOST, Alarm, Detector, Finding
from officine.sentinel.events import FsEvent, Kind, Watcher
from officine.sentinel.index import BaselineIndex
from officine.sentinel.processes import SuspendedRecords, describe, suspend
from officine.sentinel.records import EventLog, iso, write_status
from officine.store import Store

_STOP = FsEvent(Kind.overflow, "\0stop")


def check_folders(folders: list[str]) -> list[str]:
    """Absolute, existing, readable folders; anything else is refused in French, before any change."""
    if not folders:
        raise UserError(
            "Aucun dossier à surveiller : indiquez-en un (officine sentinel watch DOSSIER), déclarez les "
            "dossiers de données sur le tableau de bord, ou ajoutez des sources au plan de sauvegarde."
        )
    checked: list[str] = []
    for folder in folders:
        if not folder.strip():  # Path("") is the current folder: never watch (or seed decoys in) it by accident
            raise UserError("Un des dossiers à surveiller est vide : indiquez un chemin complet.")
        path = Path(folder).expanduser()
        try:
            path.is_dir()
        except OSError:  # a parent folder cannot be crossed with the current rights
            raise UserError(
                f"Le dossier « {folder} » ne peut pas être lu avec les droits actuels. "
                "Lancez la sentinelle en administrateur (sudo) ou choisissez un autre dossier."
            ) from None
        if not path.exists():
            raise UserError(f"Le dossier « {folder} » n'existe pas. Vérifiez le chemin (lecteur réseau débranché ?).")
        if not path.is_dir():
            raise UserError(f"« {folder} » est un fichier, pas un dossier : indiquez le dossier qui le contient.")
        if not os.access(path, os.R_OK | os.X_OK):
            raise UserError(
                f"Le dossier « {folder} » ne peut pas être lu avec les droits actuels. "
                "Lancez la sentinelle en administrateur (sudo) ou choisissez un autre dossier."
            )
        resolved = str(path.resolve())
        if resolved not in checked:
            checked.append(resolved)
    for folder in checked:
        if any(other != folder and folder.startswith(other.rstrip("/") + "/") for other in checked):
            raise UserError(f"Le dossier « {folder} » est déjà inclus dans un autre dossier surveillé : retirez-le.")
    return checked


def choose_watcher(kind: str = "auto") -> Watcher:
    """fanotify when root on Linux (it names the process), inotify otherwise, watchdog elsewhere."""
    if kind in ("auto", "fanotify") and sys.platform == "linux":
        from officine.sentinel.fanotify import FanotifyUnavailable, FanotifyWatcher  # noqa: PLC0415

        try:
            return FanotifyWatcher()
        except FanotifyUnavailable:
            if kind == "fanotify":
                raise UserError(
                    "fanotify n'est pas disponible (droits administrateur nécessaires, noyau 5.9 ou plus)."
                ) from None
    if kind in ("auto", "inotify") and sys.platform == "linux":
        from officine.sentinel.inotify import InotifyWatcher  # noqa: PLC0415

        return InotifyWatcher()
    from officine.sentinel.portable import WatchdogWatcher  # noqa: PLC0415

    return WatchdogWatcher()


@dataclass
class Options:
    events_file: Path | None = None
    store_url: str | None = None
    use_store: bool = True
    suspend: bool = True
    isolate: bool = False
    canaries: bool = True
    watcher: str = "auto"
    workers: int = 2
    queue_size: int = 100_000
    status_interval: float = 2.0
    journal: bool = True
    state_dir: Path | None = None
    # Safety-net rescan period (seconds) where the OS may drop events silently (watchdog).
    periodic_rescan: float | None = None
    say: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr, flush=True))


class Sentinel:
    def __init__(self, folders: list[str], options: Options | None = None, limits: Thresholds | None = None) -> None:
        self.roots = check_folders(folders)
        self.options = options or Options()
        self.t = limits or thresholds()
        self.state_dir = self.options.state_dir or sentinel_dir()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        store = Store(self.options.store_url) if self.options.use_store else None
        self.log = EventLog(self.options.events_file, store)
        self.suspended = SuspendedRecords(self.state_dir / "suspendus.json")
        self.watcher = choose_watcher(self.options.watcher)
        self.index = BaselineIndex()
        self.detector = Detector(self.t, per_process=self.watcher.gives_pid)
        self.analyser = Analyser(self.index, self.detector, self.t)
        self.alarms: list[dict[str, Any]] = []
        self.reactions: list[dict[str, Any]] = []
        self._queues = [queue.Queue[FsEvent](maxsize=self.options.queue_size) for _ in range(self.options.workers)]
        self._overflow_pending = threading.Event()
        self._rescan_pending = threading.Event()
        if self.options.periodic_rescan is None and self.watcher.mode == "watchdog":
            self.options.periodic_rescan = 600.0  # watchdog may drop a Windows overflow silently
        self._last_rescan = time.time()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._react_lock = threading.Lock()
        self._stopped_pids: set[int] = set()
        self.events_seen = 0
        self.overflows = 0
        self.dropped = 0
        self.started_at = time.time()
        self._last_alarm: dict[str, Any] | None = None
        self._rate = 0.0
        self._last_flush = 0.0
        own = [str(self.state_dir) + "/"]
        if self.options.events_file is not None:
            own.append(str(self.options.events_file.resolve()))
        self._own_prefixes = tuple(own)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        for record in self.suspended.still_stopped():
            self.log.write(
                "still_suspended",
                pid=int(record["pid"]),
                paths=[],
                indicators={},
                cmdline=record.get("cmdline"),
                since=iso(float(record.get("at", 0) or 0)),
                state=record.get("state"),
            )
            self.options.say(
                f"Attention : le processus {record['pid']} ({_command(record)}) est toujours suspendu par une "
                "alarme précédente. Décidez : officine sentinel resume PID (reprendre) ou officine sentinel end PID "
                "(arrêter définitivement)."
            )
        self.watcher.start(self.roots, self._emit)  # before the index: nothing written meanwhile is missed
        placed: list[canary_files.Canary] = []
        if self.options.canaries:
            placed = canary_files.place(canary_files.choose_folders(self.roots))
            self.index.canaries = {c.path: c.sha256 for c in placed}
            canary_files.save_manifest(self.state_dir / "leurres.json", placed)
        for n in range(self.options.workers):
            self._spawn(self._work, f"sentinel-worker-{n}", n)
        self._spawn(self._build_index, "sentinel-index")
        self._spawn(self._status_loop, "sentinel-status")
        self.log.write(
            "started",
            paths=self.roots,
            mode=self.watcher.mode,
            canaries=len(placed),
            pid_self=os.getpid(),
            suspend=self.options.suspend,
            isolate=self.options.isolate,
        )

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.watcher.stop()
        for q in self._queues:
            with contextlib.suppress(queue.Full):
                q.put(_STOP, timeout=1)
        for thread in self._threads:
            thread.join(timeout=5)
        self._write_status(running=False)
        self.log.write("stopped", paths=self.roots, events=self.events_seen, overflows=self.overflows)

    def wait_ready(self, timeout: float = 60) -> bool:
        return self.index.ready.wait(timeout)

    def idle(self) -> bool:
        """No event waiting to be judged (for tests and the benchmark)."""
        return all(q.unfinished_tasks == 0 for q in self._queues)

    # -- reader side: must stay thin ---------------------------------------------------------

    def _emit(self, event: FsEvent) -> None:
        if event.path.startswith(self._own_prefixes):
            return  # the sentinel's own status and events files, when they sit in a watched folder
        if event.kind is Kind.overflow:
            self._overflow_pending.set()
            with contextlib.suppress(queue.Full):
                self._queues[0].put_nowait(event)
            return
        shard = hash(os.path.dirname(event.path)) % len(self._queues) if len(self._queues) > 1 else 0
        try:
            self._queues[shard].put_nowait(event)
        except queue.Full:
            self.dropped += 1
            self._overflow_pending.set()

    # -- workers -----------------------------------------------------------------------------

    def _work(self, shard: int) -> None:
        q = self._queues[shard]
        while True:
            try:
                event = q.get(timeout=0.5)
            except queue.Empty:
                if shard == 0:
                    self._maintain()
                continue
            try:
                if event is _STOP:
                    return
                if shard == 0:
                    self._maintain()
                if event.kind is Kind.overflow:
                    continue
                self.events_seen += 1
                for alarm in self.analyser.handle(event):
                    self._react(alarm)
            except Exception as exc:  # one bad event must never stop the watch
                self.log.write("error", paths=[event.path], error=f"{type(exc).__name__}: {exc}")
            finally:
                q.task_done()

    def _maintain(self) -> None:
        """Worker 0, between events and when idle: overflow and timed rescans, due deletions."""
        try:
            if self._overflow_pending.is_set():
                self._overflow_pending.clear()
                self._overflow()
            elif self._rescan_pending.is_set():
                self._rescan_pending.clear()
                self._rescan()
            self._flush()
        except Exception as exc:  # never stop the watch
            self.log.write("error", action="maintenance", error=f"{type(exc).__name__}: {exc}")

    def _flush(self) -> None:
        now = time.time()
        if now - self._last_flush >= 0.25:
            self._last_flush = now
            for alarm in self.analyser.flush(now):
                self._react(alarm)

    def _build_index(self) -> None:
        count = self.index.build(self.roots, skip=[str(self.state_dir)])
        self.options.say(f"Sentinelle prête : {count} fichiers indexés dans {len(self.roots)} dossier(s).")

    def _overflow(self) -> None:
        """Events were lost: say so, count it as a signal, and rescan to catch what they hid."""
        self.overflows += 1
        self.log.write("overflow", paths=self.roots, dropped=self.dropped, mode=self.watcher.mode)
        for alarm in self.detector.add(Finding("overflow", self.roots[0], None, time.time())):
            self._react(alarm)
        self._rescan()

    def _rescan(self) -> None:
        """Walk the folders again; a type that changed unseen counts against the host."""
        before = {p: e.type for p, e in self.index.items()}
        self.index.build(self.roots, skip=[str(self.state_dir)])
        changed = 0
        now = time.time()
        for path, entry in self.index.items():
            old = before.get(path)
            if old is not None and old not in ("empty", "data") and old != entry.type:
                changed += 1
                for alarm in self.detector.add(Finding("type_changed", path, None, now, f"{old} → {entry.type}")):
                    self._react(alarm)
        self.log.write("rescan", paths=self.roots, files=len(self.index), type_changes=changed)

    # -- reaction ----------------------------------------------------------------------------

    def _react(self, alarm: Alarm) -> None:
        with self._react_lock:
            alarm_id = uuid.uuid4().hex[:12]
            targets = [alarm.actor] if alarm.actor != HOST else alarm.pids
            outcomes = []
            if self.options.suspend:
                for pid in targets:
                    if pid in self._stopped_pids:
                        continue
                    result, info = suspend(pid, self.suspended, alarm_id)
                    if result.stopped:
                        self._stopped_pids.add(pid)
                    outcomes.append((result, info))
            infos = {info.pid: info for _, info in outcomes} or {pid: describe(pid) for pid in targets[:5]}
            evidence = {
                "alarm_id": alarm_id,
                "score": round(alarm.score, 2),
                "first_at": iso(alarm.first_at),
                "processes": [
                    {"pid": i.pid, "name": i.name, "exe": i.exe, "cmdline": i.cmdline, "ppid": i.ppid, "uid": i.uid}
                    for i in infos.values()
                ],
                "suspended": [r.pid for r, _ in outcomes if r.stopped],
                "findings": [
                    {"indicator": f.indicator, "path": f.path, "pid": f.pid, "at": iso(f.at), "detail": f.detail}
                    for f in alarm.findings[:50]
                ],
            }
            actor_pid = alarm.actor if alarm.actor != HOST else None
            record = self.log.write(
                "alarm", pid=actor_pid, paths=alarm.paths[:200], indicators=alarm.indicators, at=alarm.at, **evidence
            )
            self.alarms.append(record)
            self._last_alarm = {"at": record["at"], "pid": actor_pid, "indicators": alarm.indicators}
            for result, info in outcomes:
                reaction = self.log.write(
                    "reaction",
                    pid=result.pid,
                    paths=alarm.paths[:20],
                    indicators=alarm.indicators,
                    action="suspend",
                    result=result.reason,
                    alarm_id=alarm_id,
                    cmdline=info.cmdline,
                )
                self.reactions.append(reaction)
            self._say_alarm(alarm, infos, outcomes)
            if self.options.journal:
                self._journal(alarm, evidence, outcomes)
            if self.options.isolate:
                self._isolate(alarm_id)

    def _say_alarm(self, alarm: Alarm, infos: dict[int, Any], outcomes: list[tuple[Any, Any]]) -> None:
        who = ", ".join(f"{i.pid} ({' '.join(i.cmdline)[:80] or i.name})" for i in infos.values()) or "inconnu"
        lines = [
            "ALARME : des fichiers sont peut-être en train d'être chiffrés (rançongiciel).",
            f"  Processus : {who}",
            "  Indices : " + ", ".join(f"{k} × {v}" for k, v in alarm.indicators.items()),
            "  Fichiers : " + ", ".join(alarm.paths[:5]) + (" …" if len(alarm.paths) > 5 else ""),
        ]
        for result, _info in outcomes:
            if result.stopped:
                lines.append(
                    f"  Le processus {result.pid} est suspendu. Laissez le poste allumé, appelez votre prestataire. "
                    f"Reprendre : officine sentinel resume {result.pid} ; arrêter : officine sentinel end {result.pid}"
                )
            else:
                lines.append(f"  Le processus {result.pid} n'a pas pu être suspendu ({result.reason}).")
        if not outcomes:
            lines.append("  Aucun processus suspendu : débranchez le câble réseau et appelez votre prestataire.")
        lines.append("  Suivez les réflexes : officine incident start")
        self.options.say("\n".join(lines))

    def _journal(self, alarm: Alarm, evidence: dict[str, Any], outcomes: list[tuple[Any, Any]]) -> None:
        try:
            incident_id = incident_link.journal(
                "sentinel_alarm",
                "alarme de la sentinelle anti-rançongiciel",
                **evidence,
                indicators=alarm.indicators,
            )
            self.log.write("reaction", action="journal", incident=incident_id, alarm_id=evidence["alarm_id"])
        except Exception as exc:
            self.log.write("error", action="journal", error=f"{type(exc).__name__}: {exc}")

    def _isolate(self, alarm_id: str) -> None:
        try:
            text = incident_link.isolate_network()
            self.log.write("reaction", action="isolate", result=text, alarm_id=alarm_id)
            self.options.say(text)
        except Exception as exc:
            self.log.write("reaction", action="isolate", result=f"échec : {exc}", alarm_id=alarm_id)
            self.options.say(f"Isolement réseau impossible : {exc}. Débranchez le câble réseau à la main.")

    # -- status ------------------------------------------------------------------------------

    def _status_loop(self) -> None:
        last_count, last_time = 0, time.time()
        while not self._stopping.wait(self.options.status_interval):
            now = time.time()
            self._rate = (self.events_seen - last_count) / max(now - last_time, 1e-6)
            last_count, last_time = self.events_seen, now
            self._write_status(running=True)
            if self.options.periodic_rescan and now - self._last_rescan > self.options.periodic_rescan:
                self._last_rescan = now
                self._rescan_pending.set()

    def status(self, running: bool = True) -> dict[str, Any]:
        return {
            "running": running,
            "pid": os.getpid(),
            "mode": self.watcher.mode,
            "gives_pid": self.watcher.gives_pid,
            "folders": self.roots,
            "files_indexed": len(self.index),
            "indexing": not self.index.ready.is_set(),
            "canaries": len(self.index.canaries),
            "events_total": self.events_seen,
            "events_per_second": round(self._rate, 2),
            "queue_depth": sum(q.qsize() for q in self._queues),
            "overflows": self.overflows,
            "alarms": len(self.alarms),
            "last_alarm": self._last_alarm,
            "suspend": self.options.suspend,
            "isolate": self.options.isolate,
            "events_file": str(self.options.events_file) if self.options.events_file else None,
            "updated_at": iso(),
        }

    def _write_status(self, running: bool) -> None:
        with contextlib.suppress(OSError):
            write_status(self.state_dir / "etat.json", self.status(running))


def _command(record: dict[str, Any]) -> str:
    cmd = record.get("cmdline") or []
    return " ".join(str(c) for c in cmd)[:80] if cmd else str(record.get("name") or "?")
