"""Shared pieces of the sentinel tests: the bench's simulator run as a separate process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM = [sys.executable, str(ROOT / "bench/sentinel_simulator.py")]
BENIGN = [sys.executable, str(ROOT / "bench/sentinel_benign.py")]


@contextmanager
def corpus(files: int = 60, folders: int = 4, max_kib: int = 256) -> Iterator[Path]:
    """A pharmacy-like folder made (and registered) by the simulator itself; removed afterwards."""
    out = subprocess.run(
        [*SIM, "prepare", "--files", str(files), "--folders", str(folders), "--max-kib", str(max_kib)],
        capture_output=True,
        text=True,
        check=True,
    )
    folder = Path(out.stdout.strip())
    try:
        yield folder
    finally:
        subprocess.run([*SIM, "discard", str(folder)], capture_output=True, check=False)


def wait_for(condition: Callable[[], object], timeout: float = 30.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def digests(root: Path) -> dict[str, str]:
    found = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as fh:
                    found[path] = hashlib.sha256(fh.read()).hexdigest()
            except OSError:
                found[path] = "?"
    return found
