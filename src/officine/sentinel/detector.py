"""Indicators combined per process (per host without a process ID) into an alarm.

Pure bookkeeping: the workers tell it what each file event showed (`Finding`s); it says when
an actor crosses the threshold. Each file counts once per indicator within the window (a file
written ten times is still one file), and deletions and renames count only once a primary
indicator is present, so that a user tidying up folders is never taken for an attack.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from officine.sentinel.config import Thresholds

HOST = 0  # the actor when no process ID is known


@dataclass(frozen=True)
class Finding:
    """One indicator seen on one file by one process."""

    indicator: str
    path: str
    pid: int | None
    at: float
    detail: str = ""


@dataclass
class Alarm:
    actor: int  # a process ID, or HOST
    score: float
    findings: list[Finding]
    pids: list[int]
    first_at: float  # time of the first finding of this actor in the window
    at: float

    @property
    def indicators(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.indicator] = counts.get(f.indicator, 0) + 1
        return counts

    @property
    def paths(self) -> list[str]:
        return list(dict.fromkeys(f.path for f in self.findings if f.path))


@dataclass
class _Account:
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    alarmed_at: float | None = None


class Detector:
    def __init__(self, thresholds: Thresholds, per_process: bool) -> None:
        self.t = thresholds
        self.per_process = per_process
        self._accounts: dict[int, _Account] = {}
        self._notes: dict[tuple[int, str], set[str]] = {}
        self._rewrites: dict[int, deque[tuple[float, str]]] = {}
        self._alarmed_pids: set[int] = set()
        self._lock = threading.Lock()

    def add(self, finding: Finding) -> list[Alarm]:
        """Record a finding; the alarms it completes (at most one per actor per window)."""
        with self._lock:
            actors = [HOST] if finding.pid is None or not self.per_process else [finding.pid, HOST]
            alarms = []
            for actor in actors:
                account = self._accounts.setdefault(actor, _Account())
                self._expire(account, finding.at)
                account.findings.setdefault((finding.indicator, finding.path), finding)
                alarm = self._judge(actor, account, finding.at)
                if alarm is not None:
                    alarms.append(alarm)
            return alarms

    def note_written(self, pid: int | None, name: str, folder: str, at: float) -> list[Alarm]:
        """A small new text file written in a folder that existed before: a possible ransom note."""
        actor = pid if pid is not None and self.per_process else HOST
        with self._lock:
            folders = self._notes.setdefault((actor, name), set())
            folders.add(folder)
            enough = len(folders) >= self.t.note_folders
        if enough:
            return self.add(Finding("ransom_note", f"{folder}/{name}", pid, at, f"{len(folders)} dossiers"))
        return []

    def rewrite(self, pid: int | None, path: str, at: float) -> list[Alarm]:
        """An existing file rewritten: many distinct ones within a second is a signal."""
        actor = pid if pid is not None and self.per_process else HOST
        with self._lock:
            recent = self._rewrites.setdefault(actor, deque())
            recent.append((at, path))
            while recent and recent[0][0] < at - 1.0:
                recent.popleft()
            distinct = len({p for _, p in recent})
        if distinct >= self.t.rewrite_files_per_second:
            # One finding per actor and window, whatever the number of files (its path is left empty).
            return self.add(Finding("rewrite_rate", "", pid, at, f"{distinct} fichiers/s"))
        return []

    def _expire(self, account: _Account, now: float) -> None:
        horizon = now - self.t.window_seconds
        stale = [k for k, f in account.findings.items() if f.at < horizon]
        for key in stale:
            del account.findings[key]
        if account.alarmed_at is not None and account.alarmed_at < horizon:
            account.alarmed_at = None

    def score(self, actor: int) -> float:
        account = self._accounts.get(actor)
        return 0.0 if account is None else self._score(account)

    def _score(self, account: _Account) -> float:
        primary = sum(self.t.weight(k[0]) for k in account.findings if self.t.is_primary(k[0]))
        if primary == 0:
            return 0.0
        secondary = sum(self.t.weight(k[0]) for k in account.findings if not self.t.is_primary(k[0]))
        return primary + secondary

    def _judge(self, actor: int, account: _Account, now: float) -> Alarm | None:
        if account.alarmed_at is not None:
            return None
        threshold = self.t.host_alarm_score if actor == HOST and self.per_process else self.t.alarm_score
        score = self._score(account)
        if score < threshold:
            return None
        account.alarmed_at = now
        findings = sorted(account.findings.values(), key=lambda f: f.at)
        pids = sorted({f.pid for f in findings if f.pid is not None})
        if actor != HOST:
            self._alarmed_pids.add(actor)
        elif pids and set(pids) <= self._alarmed_pids:
            return None  # the host-wide sum only repeats alarms already raised for each process
        return Alarm(actor, score, findings, pids, findings[0].at, now)

    def retract(self, indicator: str, path: str) -> None:
        """Withdraw a finding shown to be harmless (a deleted file written back unchanged)."""
        with self._lock:
            for account in self._accounts.values():
                account.findings.pop((indicator, path), None)

    def reset(self, actor: int) -> None:
        """After a resume by the user: the actor starts afresh."""
        with self._lock:
            self._accounts.pop(actor, None)
            self._alarmed_pids.discard(actor)
