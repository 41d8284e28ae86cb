"""Tools for hostile-input tests: resealed snapshots and the command run under resource limits.

A regression (an include bomb expanding again, a read that never ends) must fail the test,
not exhaust the machine: each case runs in its own process with an address-space limit, a
CPU-time limit and a wall-clock timeout.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from officine import snapshot

MEMORY_MB = 1024
CPU_S = 60
WALL_S = 120


def seal(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with a correct seal, as a forger who recomputes it would write it."""
    body = {k: v for k, v in doc.items() if k != "integrity"}
    body["integrity"] = {"algorithm": "sha256", "digest": snapshot.digest(body)}
    return body


def with_file(doc: dict[str, Any], path: str, text: str) -> dict[str, Any]:
    """A copy of `doc` where the file `path` was read with content `text`."""
    doc = copy.deepcopy(doc)
    doc["observations"] = [o for o in doc["observations"] if o.get("key") != f"file:{path}"]
    doc["observations"].append({"kind": "file", "target": path, "status": "ok", "output": text, "key": f"file:{path}"})
    return doc


def write(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(seal(doc), ensure_ascii=False), encoding="utf-8")
    return path


@dataclass
class Bounded:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def killed(self) -> bool:
        """Stopped by a signal (memory or CPU limit): the bound was hit."""
        return self.returncode < 0


def _limits(memory_mb: int, cpu_s: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))


def bounded(
    args: list[str],
    env: dict[str, str] | None = None,
    memory_mb: int = MEMORY_MB,
    cpu_s: int = CPU_S,
    wall_s: int = WALL_S,
    stdin: str = "",
) -> Bounded:
    """`python args…` in a new process that cannot take more than the given memory and time."""
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, *args],
            input=stdin,
            capture_output=True,
            text=True,
            # Wide lines: Rich would wrap a long path in the middle when output is not a terminal.
            env={**os.environ, "COLUMNS": "400", **(env or {})},
            timeout=wall_s,
            preexec_fn=lambda: _limits(memory_mb, cpu_s),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{args} still running after {wall_s} s: it hangs") from exc
    return Bounded(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


def officine_bounded(*args: str, env: dict[str, str] | None = None, **limits: int) -> Bounded:
    return bounded(["-m", "officine", *args], env=env, **limits)


# The dashboard's import, as the route calls it, on a database of its own.
IMPORT_DRIVER = """
import sys
from pathlib import Path
from officine.errors import UserError
from officine.services.pharmacy import Pharmacy
from officine.store import Store
snapshot_file, database = Path(sys.argv[1]), sys.argv[2]
try:
    pharmacy = Pharmacy(Store(f"sqlite:///{database}"))
    audit_id, snap = pharmacy.import_snapshot(snapshot_file.read_bytes(), snapshot_file.name)
except UserError as exc:
    print(exc.message, file=sys.stderr)
    sys.exit(2)
print(audit_id)
"""


def dashboard_import(snapshot_file: Path, database: Path, **limits: int) -> Bounded:
    return bounded(["-c", IMPORT_DRIVER, str(snapshot_file), str(database)], **limits)


def unsafe_characters(text: str) -> set[str]:
    """Characters a terminal obeys or hides: controls (but newline and tab), format characters
    (bidi overrides, zero-width), separators, surrogates."""
    return {ch for ch in text if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")}


ENGLISH_FRAGMENTS = (
    "Input should",
    "Extra inputs",
    "Field required",
    "No such file",
    "Permission denied",
    "Is a directory",
    "Traceback",
    "Error",
    "error:",
)


def english_in(text: str) -> list[str]:
    return [f for f in ENGLISH_FRAGMENTS if f in text]
