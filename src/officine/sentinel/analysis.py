"""What one file event shows, compared with the baseline: the findings handed to the detector."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass

from officine.sentinel.config import Thresholds
from officine.sentinel.content import COMPRESSED_TYPES, EMPTY_TYPE, TEXT_TYPE, UNKNOWN_TYPE, Sample, sample_file
from officine.sentinel.detector import Alarm, Detector, Finding
from officine.sentinel.events import FsEvent, Kind
from officine.sentinel.index import BaselineIndex, Entry, extension


class Analyser:
    def __init__(self, index: BaselineIndex, detector: Detector, thresholds: Thresholds) -> None:
        self.index = index
        self.detector = detector
        self.t = thresholds
        # Baseline files and decoys deleted lately: a file written again under the same name is a
        # replacement (tar, restic restore, office saves), judged against what was there. A deletion
        # becomes a finding only when nothing came back within the grace delay.
        self._gone: dict[str, _Gone] = {}
        self._gone_lock = threading.Lock()

    def handle(self, event: FsEvent) -> list[Alarm]:
        if event.kind is Kind.write:
            return self._written(event.path, event.pid, event.at, self.index.get(event.path), rewrite=True)
        if event.kind is Kind.rename and event.old_path is not None:
            return self._renamed(event)
        if event.kind is Kind.delete:
            return self._deleted(event)
        if event.kind is Kind.create and event.is_dir:
            return []
        return []

    # -- events ---------------------------------------------------------------------------

    def _renamed(self, event: FsEvent) -> list[Alarm]:
        old, new = event.old_path or "", event.path
        if event.is_dir:
            self.index.move_dir(old, new)
            self._move_canaries(old, new)
            return []
        alarms: list[Alarm] = []
        if old in self.index.canaries:
            self.index.canaries.pop(old)
            alarms += self._add("canary_modified", old, event, f"renommé en {os.path.basename(new)}")
        before = self.index.get(old)
        replaced = self.index.move(old, new)
        if new in self.index.canaries:  # something moved over a decoy: its content decides
            return alarms + self._canary_written(new, FsEvent(Kind.write, new, event.pid, at=event.at))
        with self._gone_lock:
            gone = self._gone.get(new) if replaced is None else None
        if gone is not None and gone.digest is not None:  # moved over a deleted decoy
            return alarms + self._written(new, event.pid, event.at, None, rewrite=False)
        if gone is not None and gone.entry is not None:
            with self._gone_lock:
                self._gone.pop(new, None)
            replaced = gone.entry
            if gone.judged:
                self.detector.retract("deleted_original", new)
        old_ext, new_ext = extension(old), extension(new)
        if (
            new_ext != old_ext
            and old_ext
            and self._known(old_ext)
            and not self._known(new_ext)
            and new_ext not in self.t.benign_extensions
        ):
            alarms += self._add("renamed_unknown_extension", new, event, f".{old_ext} → .{new_ext or '(aucune)'}")
        # A file moved over an existing one replaces it: judge the new content against what was there.
        baseline = replaced or before
        if baseline is not None:
            alarms += self._written(new, event.pid, event.at, baseline, rewrite=False)
        return alarms

    def _deleted(self, event: FsEvent) -> list[Alarm]:
        if event.is_dir:
            self.index.remove_dir(event.path)
            return []
        if event.path in self.index.canaries:
            self._remember(event, None, self.index.canaries.pop(event.path))
            return []
        entry = self.index.remove(event.path)
        if entry is not None and entry.settled(event.at, self.t.settle_seconds) and not self._temporary(event.path):
            self._remember(event, entry, None)
        return []

    def _remember(self, event: FsEvent, entry: Entry | None, digest: str | None) -> None:
        with self._gone_lock:
            if len(self._gone) > 50_000:
                horizon = event.at - self.t.window_seconds
                self._gone = {p: g for p, g in self._gone.items() if g.at >= horizon}
            self._gone[event.path] = _Gone(entry, digest, event.at, event.pid)

    def flush(self, now: float) -> list[Alarm]:
        """Deletions not followed by a rewrite within the grace delay become findings."""
        due: list[tuple[str, _Gone]] = []
        with self._gone_lock:
            for path, gone in self._gone.items():
                if not gone.judged and now - gone.at >= self.t.deletion_grace_seconds:
                    gone.judged = True
                    due.append((path, gone))
        alarms: list[Alarm] = []
        for path, gone in due:
            indicator = "canary_deleted" if gone.digest is not None else "deleted_original"
            alarms += self.detector.add(Finding(indicator, path, gone.pid, gone.at))
        return alarms

    def _replaced(self, path: str, event: FsEvent) -> tuple[Entry | None, list[Alarm]]:
        """A file written where a baseline file or decoy was deleted: the deletion was a replacement."""
        with self._gone_lock:
            gone = self._gone.pop(path, None)
        if gone is None:
            return None, []
        if gone.digest is None:
            return gone.entry, []
        try:
            with open(path, "rb") as fh:
                same = hashlib.sha256(fh.read()).hexdigest() == gone.digest
        except OSError:
            return None, []
        if same:
            self.index.canaries[path] = gone.digest
            if gone.judged:
                self.detector.retract("canary_deleted", path)
            return None, []
        return None, self._add("canary_modified", path, event, "remplacé par un autre contenu")

    def _written(self, path: str, pid: int | None, at: float, before: Entry | None, rewrite: bool) -> list[Alarm]:
        event = FsEvent(Kind.write, path, pid, at=at)
        if path in self.index.canaries:
            return self._canary_written(path, event)
        alarms: list[Alarm] = []
        replaced = False
        with self._gone_lock:
            pending = path in self._gone
        if before is None and pending:
            before, alarms = self._replaced(path, event)
            replaced = before is not None
            if path in self.index.canaries or alarms:
                return alarms
        sample = sample_file(path, self.t.fragment_bytes, self.t.fragments_per_file, self.t.header_skip_bytes)
        if sample is None:
            return alarms
        if replaced and before is not None and sample.type == before.type:
            self.detector.retract("deleted_original", path)  # when it was already judged a loss
        if before is not None and not before.settled(at, self.t.settle_seconds):
            # Written moments ago by someone (a journal, a save in progress): not a baseline yet.
            self.index.set(path, Entry(sample.type, sample.size, at))
            return alarms
        if before is not None:
            if rewrite:
                alarms += self.detector.rewrite(pid, path, at)
            if before.type not in (EMPTY_TYPE, UNKNOWN_TYPE) and sample.type != before.type:
                alarms += self._add("type_changed", path, event, f"{before.type} → {sample.type}")
            if sample.random_interior and not self._compressed(sample, before):
                alarms += self._add("random_interior", path, event, _fragments(sample))
        else:
            alarms += self._new_file(path, event, sample)
        self.index.set(path, Entry(sample.type, sample.size, at))
        return alarms

    def _new_file(self, path: str, event: FsEvent, sample: Sample) -> list[Alarm]:
        alarms: list[Alarm] = []
        if sample.type == UNKNOWN_TYPE:
            # "x.pdf.abc" written next to (or instead of) "x.pdf": an unreadable copy of a known file.
            stem = path.rpartition(".")[0]
            with self._gone_lock:
                gone = self._gone.get(stem)
            original = self.index.get(stem) or (gone.entry if gone is not None else None)
            if original is not None and original.type not in (UNKNOWN_TYPE, EMPTY_TYPE):
                alarms += self._add("type_changed", path, event, f"copie illisible de {os.path.basename(stem)}")
            if sample.random_interior:
                alarms += self._add("new_random_file", path, event, _fragments(sample))
        folder, name = os.path.split(path)
        if sample.type == TEXT_TYPE and 0 < sample.size <= self.t.note_max_bytes and folder in self.index.dirs:
            alarms += self.detector.note_written(event.pid, name, folder, event.at)
        return alarms

    def _canary_written(self, path: str, event: FsEvent) -> list[Alarm]:
        try:
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            return []
        if digest == self.index.canaries.get(path):
            return []  # rewritten identical (a restore): not an attack
        return self._add("canary_modified", path, event, "contenu modifié")

    # -- helpers --------------------------------------------------------------------------

    def _add(self, indicator: str, path: str, event: FsEvent, detail: str = "") -> list[Alarm]:
        return self.detector.add(Finding(indicator, path, event.pid, event.at, detail))

    def _temporary(self, path: str) -> bool:
        """Office's own backup and lock names (~WRL0001.tmp, .~lock.x#): deleting them is a save."""
        name = os.path.basename(path)
        return extension(path) in self.t.benign_extensions or name.startswith(("~", ".~lock."))

    def _known(self, ext: str) -> bool:
        return ext in self.t.known_extensions or ext in self.index.extensions

    @staticmethod
    def _compressed(sample: Sample, before: Entry) -> bool:
        # Already high-entropy formats are judged by their type, never by the statistic (§1.3).
        return sample.type in COMPRESSED_TYPES or before.type in COMPRESSED_TYPES

    def _move_canaries(self, old: str, new: str) -> None:
        prefix = old + "/"
        for path in [p for p in self.index.canaries if p.startswith(prefix)]:
            self.index.canaries[new + path[len(old) :]] = self.index.canaries.pop(path)


@dataclass
class _Gone:
    entry: Entry | None  # a baseline file...
    digest: str | None  # ...or a decoy (its SHA-256)
    at: float
    pid: int | None
    judged: bool = False


def _fragments(sample: Sample) -> str:
    chi = f", χ² min {sample.min_chi_square:.0f}" if sample.min_chi_square is not None else ""
    return f"{sample.random_fragments}/{sample.fragments} fragments aléatoires{chi}"
