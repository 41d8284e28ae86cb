"""The folders to back up, looked at before every run and drill.

restic 0.14 saves whatever it finds: a missing folder is a warning with exit code 0, an emptied
folder (an unmounted LGO volume, a wipe) a valid snapshot of nothing. So each folder is counted
first (files and bytes) and compared with the last count that was accepted as normal: a folder
that is missing, holds no file, or lost more than `max_source_drop_percent` of its files or of
its size is a failure that names it. Counts are kept in each run's details; they are the
baseline of the next run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from officine.backup import fr
from officine.backup.plan import Plan

SourceState = Literal["ok", "accepted", "missing", "not_dir", "empty", "shrunk"]
PROBLEMS = ("missing", "not_dir", "empty", "shrunk")  # the folder is not (fully) there to be saved
SAVED_STATES = ("ok", "accepted")


@dataclass(frozen=True)
class SourceCount:
    path: str
    state: SourceState
    files: int = 0
    bytes: int = 0
    errors: int = 0  # sub-folders or entries that could not be read while counting
    before: dict[str, Any] | None = None  # the baseline: files, bytes, at

    @property
    def problem(self) -> bool:
        return self.state in PROBLEMS

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"state": self.state, "files": self.files, "bytes": self.bytes}
        if self.errors:
            data["errors"] = self.errors
        if self.before is not None:
            data["before"] = self.before
        return data


def count_tree(root: Path) -> tuple[int, int, int]:
    """(regular files, their bytes, unreadable entries) under `root`, symlinks not followed."""
    files = size = errors = 0
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            files += 1
                            size += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        errors += 1
        except OSError:
            errors += 1
    return files, size, errors


def baselines(
    paths: Iterable[str], history: Iterable[tuple[datetime, dict[str, Any] | None]]
) -> dict[str, dict[str, Any]]:
    """For each folder, the newest count that was judged normal. `history`: (time, details) of
    earlier runs, any order; a count flagged as a problem is never a baseline."""
    found: dict[str, dict[str, Any]] = {}
    wanted = set(paths)
    for at, details in sorted(history, key=lambda pair: pair[0], reverse=True):
        for path, entry in ((details or {}).get("sources") or {}).items():
            usable = isinstance(entry, dict) and entry.get("state") in SAVED_STATES
            if usable and path in wanted and path not in found and isinstance(entry.get("files"), int):
                found[path] = {"files": entry["files"], "bytes": int(entry.get("bytes") or 0), "at": at.isoformat()}
        if len(found) == len(wanted):
            break
    return found


def judge(
    path: str, files: int, size: int, before: dict[str, Any] | None, drop_percent: int, errors: int = 0
) -> SourceCount:
    if files == 0:
        return SourceCount(path, "empty", 0, size, errors, before)
    if before is not None:
        keep = 1 - drop_percent / 100
        if files < before["files"] * keep or size < before["bytes"] * keep:
            return SourceCount(path, "shrunk", files, size, errors, before)
    return SourceCount(path, "ok", files, size, errors, before)


def survey(
    plan: Plan,
    history: Iterable[tuple[datetime, dict[str, Any] | None]],
    *,
    accept_drop: bool = False,
) -> list[SourceCount]:
    """Count every folder of the plan and judge it against its baseline."""
    paths = [s.path for s in plan.sources]
    base = baselines(paths, history)
    counts = []
    for path in paths:
        p = Path(path)
        if not p.exists():
            counts.append(SourceCount(path, "missing", before=base.get(path)))
            continue
        if not p.is_dir():
            counts.append(SourceCount(path, "not_dir", before=base.get(path)))
            continue
        files, size, errors = count_tree(p)
        count = judge(path, files, size, base.get(path), plan.thresholds.max_source_drop_percent, errors)
        if accept_drop and count.state == "shrunk":
            count = replace(count, state="accepted")
        counts.append(count)
    return counts


def describe(count: SourceCount | dict[str, Any], path: str | None = None) -> str:
    """One French sentence for a folder's problem (a SourceCount or its recorded JSON)."""
    data = count.to_json() if isinstance(count, SourceCount) else count
    where = count.path if isinstance(count, SourceCount) else (path or "?")
    state = data.get("state")
    before = data.get("before") or {}
    if state == "missing":
        return f"le dossier {where} est introuvable (déplacé, renommé ou volume non monté)"
    if state == "not_dir":
        return f"{where} n'est pas un dossier"
    if state == "empty":
        return f"le dossier {where} ne contient plus aucun fichier (volume non monté ou données effacées ?)"
    if state == "shrunk":
        return (
            f"le dossier {where} a fortement diminué : {data.get('files', 0)} fichier(s) et "
            f"{fr.size(int(data.get('bytes') or 0))}, contre {before.get('files', '?')} fichier(s) et "
            f"{fr.size(int(before.get('bytes') or 0))} le {fr.day(before['at']) if before.get('at') else '?'}"
        )
    return f"le dossier {where} est sauvegardé normalement"
