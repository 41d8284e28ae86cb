"""The Python Windows collector, for machines that have Python: it records the same manifest items as
collect.ps1, in the same observations, so both snapshots are read (and judged) the same way.

Windows is reached only through `WindowsAccess` (run a program, read registry values, list registry
keys, say who runs the collection): `live.LiveWindows` is the real machine; tests replay recorded
outputs through the same interface."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from officine.collectors.registry import CollectContext, run_collectors
from officine.collectors.windows.script import manifest, target
from officine.host.base import Observation, ObsStatus
from officine.host.replay import ReplayHost
from officine.snapshot import Snapshot

POWERSHELL = ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command"]
EXIT_MISSING = 3  # the CIM class or namespace does not exist (e.g. Security Center on Windows Server)
EXIT_DENIED = 5
COMMAND_TIMEOUT_S = 60.0
POWERSHELL_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Completed:
    exit_code: int
    stdout: str
    stderr: str = ""


class WindowsAccess(Protocol):
    """What the collector needs from Windows. Errors: FileNotFoundError (program absent),
    TimeoutError, PermissionError, OSError (anything else)."""

    def run(self, argv: Sequence[str], timeout: float) -> Completed: ...

    def registry(self, key: str, names: Sequence[str]) -> dict[str, Any] | None:
        """The listed values present under `key` (None when the key does not exist)."""

    def registry_tree(self, key: str, depth: int, value: str | None) -> list[dict[str, Any]] | None:
        """`{key, value}` for the subkeys of `key` down to `depth` levels (None when it does not exist)."""

    def identity(self) -> dict[str, Any]:
        """hostname, user, privileged (administrator), machine_guid."""


def pipeline(item: dict[str, Any]) -> str:
    """The PowerShell run for a `cim` or `powershell` item: the same read-only pipeline as collect.ps1,
    JSON on stdout (UTF-8), and an exit code that says why it failed."""
    if item["kind"] == "cim":
        properties = ", ".join(item["properties"])
        body = f"Get-CimInstance -Namespace '{item['namespace']}' -ClassName '{item['class']}' -ErrorAction Stop"
        body += f" | Select-Object -Property {properties}"
    else:
        body = str(item["script"])
    return (
        "[Console]::OutputEncoding = [Text.Encoding]::UTF8; $ErrorActionPreference = 'Stop'; "
        f"try {{ $r = @({body}); ConvertTo-Json -InputObject $r -Compress -Depth 4 }} "
        "catch [Microsoft.Management.Infrastructure.CimException] "
        f"{{ [Console]::Error.WriteLine($_.Exception.Message); exit {EXIT_MISSING} }} "
        "catch [System.UnauthorizedAccessException] "
        f"{{ [Console]::Error.WriteLine($_.Exception.Message); exit {EXIT_DENIED} }} "
        "catch { [Console]::Error.WriteLine($_.Exception.Message); exit 1 }"
    )


def _status_of(item: dict[str, Any], result: Completed, privileged: bool | None = None) -> ObsStatus:
    """By exit code and facts, never by the (localised) message: an access exception, or a failure of an
    administrator-only item in a run without administrator rights, is a refusal."""
    if result.exit_code == 0:
        return ObsStatus.ok
    if result.exit_code == EXIT_MISSING and item["kind"] == "cim":
        return ObsStatus.missing
    if result.exit_code == EXIT_DENIED or (item.get("admin") and privileged is False):
        return ObsStatus.denied
    return ObsStatus.error


def _read(
    item: dict[str, Any], access: WindowsAccess, privileged: bool | None = None
) -> tuple[ObsStatus, str | None, str | None, int | None]:
    """Status, output, detail and exit code of one manifest item."""
    kind = item["kind"]
    if kind == "registry":
        values = access.registry(item["key"], item["values"])
        if values is None:
            return ObsStatus.missing, None, "cle absente", None
        return ObsStatus.ok, json.dumps(values, ensure_ascii=False), None, None
    if kind == "registry_keys":
        rows = access.registry_tree(item["key"], int(item.get("depth", 1)), item.get("value"))
        if rows is None:
            return ObsStatus.missing, None, "cle absente", None
        return ObsStatus.ok, json.dumps(rows, ensure_ascii=False), None, None
    if kind == "command":
        result = access.run(item["argv"], COMMAND_TIMEOUT_S)
        # collect.ps1 merges the error stream into the output (2>&1): so does this collector.
        return ObsStatus.ok, result.stdout + result.stderr, None, result.exit_code
    result = access.run([*POWERSHELL, pipeline(item)], POWERSHELL_TIMEOUT_S)
    status = _status_of(item, result, privileged)
    if status is ObsStatus.ok:
        return status, result.stdout.strip() or "[]", None, None
    return status, None, result.stderr.strip() or f"code de sortie {result.exit_code}", None


def observe(item: dict[str, Any], access: WindowsAccess, privileged: bool | None = None) -> Observation:
    """One manifest item, recorded as collect.ps1 records it (never raises)."""
    started = time.monotonic()
    exit_code = None
    try:
        status, output, detail, exit_code = _read(item, access, privileged)
    except FileNotFoundError as exc:
        status, output, detail = ObsStatus.missing, None, f"{exc.filename or item.get('argv', ['?'])[0]} absent"
    except (TimeoutError, subprocess.TimeoutExpired):
        status, output, detail = ObsStatus.timeout, None, "délai dépassé"
    except PermissionError as exc:
        status, output, detail = ObsStatus.denied, None, str(exc)
    except OSError as exc:
        status, output, detail = ObsStatus.error, None, str(exc)
    return Observation(
        kind=item["kind"],
        target=target(item),
        status=status,
        exit_code=exit_code,
        output=output,
        detail=detail,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


def collect_snapshot(
    access: WindowsAccess, now: datetime | None = None, progress: Callable[[str], None] | None = None
) -> Snapshot:
    """Record every manifest item, then derive the facts from those observations (as a replay would)."""
    collected_at = (now or datetime.now(UTC)).replace(microsecond=0)
    started = time.monotonic()
    who = access.identity()  # first: whether a failure is a refusal depends on the rights of the run
    privileged = bool(who.get("privileged"))
    observations = []
    for item in manifest()["observations"]:
        observations.append(observe(item, access, privileged))
        if progress is not None:
            progress(item["id"])
    guid = who.get("machine_guid")
    host = ReplayHost(observations, "windows", live=True)
    facts = run_collectors(host, CollectContext(collected_at, privileged))
    return Snapshot(
        snapshot_id=str(uuid.uuid4()),
        platform="windows",
        mode="live",
        collected_at=collected_at,
        host={
            "hostname": who.get("hostname"),
            "machine_id_sha256": hashlib.sha256(str(guid).encode()).hexdigest() if guid else None,
        },
        collector={
            "user": who.get("user"),
            "privileged": bool(who.get("privileged")),
            "python": platform.python_version(),
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
        observations=observations,
        facts=facts,
    )
