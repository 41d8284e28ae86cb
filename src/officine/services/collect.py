"""Observing this machine (or a mounted system): the snapshot every surface audits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from officine import snapshot as snapshots_mod
from officine.collectors.windows import live, native
from officine.errors import UserError
from officine.host.local import LocalHost
from officine.snapshot import Snapshot


def on_windows() -> bool:
    return sys.platform == "win32"


def collect_windows(progress: Callable[[str], None] | None = None) -> Snapshot:
    """Windows with Python: the manifest's items read directly (same snapshot as collect.ps1)."""
    return native.collect_snapshot(live.LiveWindows(), progress=progress)


def collect_local(root: Path | None = None, progress: Callable[[str], None] | None = None) -> Snapshot:
    if root is None and on_windows():
        return collect_windows(progress)
    if root is not None and not root.is_dir():
        raise UserError(f"Le dossier {root} n'existe pas : indiquez la racine du système monté.")
    return snapshots_mod.collect(LocalHost(root), progress)
