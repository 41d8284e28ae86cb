"""Observation records and the abstract Host."""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar

T = TypeVar("T")
ObsKind = Literal["command", "file", "dir", "stat", "registry", "registry_keys", "cim", "powershell"]
OBS_KINDS = ("command", "file", "dir", "stat", "registry", "registry_keys", "cim", "powershell")


class ObsStatus(StrEnum):
    ok = "ok"  # observed (a command may still have a non-zero exit code)
    missing = "missing"  # command not installed, file or directory absent
    denied = "denied"  # permission denied
    timeout = "timeout"  # the command did not answer in time
    error = "error"  # any other failure (detail says which)
    unavailable = "unavailable"  # cannot be observed on this kind of host (mounted disk)
    not_recorded = "not_recorded"  # replay: the snapshot holds no such observation


def observation_key(kind: ObsKind, target: Sequence[str] | str) -> str:
    """Stable identifier of an observation: kind plus what was observed."""
    if kind == "command":
        return "command:" + json.dumps(list(target), ensure_ascii=False)
    return f"{kind}:{target}"


@dataclass
class Observation:
    """One raw observation, exactly as the host gave it."""

    kind: ObsKind
    target: list[str] | str
    status: ObsStatus
    exit_code: int | None = None
    output: str | None = None  # command stdout or file content
    stderr: str | None = None
    entries: list[str] | None = None  # directory listing
    stat: dict[str, int | float] | None = None  # mtime, size, mode, uid
    detail: str | None = None
    truncated: bool = False
    redaction: str | None = None  # set when the output was reduced before recording
    duration_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return observation_key(self.kind, self.target)

    @property
    def ok(self) -> bool:
        return self.status is ObsStatus.ok

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["key"] = self.key

        def empty(v: Any) -> bool:  # 0 is a value (an exit code); None/False/{}/[] are not
            return v is None or v is False or (isinstance(v, dict | list) and not v)

        return {k: v for k, v in data.items() if not empty(v) or k in ("status", "target", "kind")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        fields = {k: v for k, v in data.items() if k != "key"}
        fields["status"] = ObsStatus(fields["status"])
        return cls(**fields)


def redact_length(text: str) -> str:
    """Keep only the length of a secret (e.g. a WiFi key), never the secret."""
    secret = text.rstrip("\n")
    return f"<secret length={len(secret)}>" if secret else "<secret empty>"


def redact_shadow(text: str) -> str:
    """Keep account names and whether a password is set, empty or locked; drop every hash."""
    lines = []
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        pw = rest.split(":", 1)[0]
        state = "" if pw == "" else ("!" if pw.startswith(("!", "*")) else "<redacted>")
        lines.append(f"{name}:{state}")
    return "\n".join(lines) + ("\n" if lines else "")


REDACTIONS = {"length": redact_length, "shadow": redact_shadow}


class Host(ABC):
    """What a collector may do. Every call is recorded once and memoised."""

    live: bool
    platform: str

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observations: dict[str, Observation] = {}
        self._memo: dict[str, Any] = {}

    # -- public API -------------------------------------------------------
    def run(
        self,
        argv: Sequence[str],
        timeout: float = 10.0,
        redact: str | None = None,
        exec_argv: Sequence[str] | None = None,
    ) -> Observation:
        """Run `argv`. `exec_argv`, when given, is what really runs (same command with options
        that only change speed, e.g. a cache path): the observation is recorded under `argv`
        so that a snapshot replays the same on any machine."""
        key = observation_key("command", argv)
        cached = self._cached(key)
        if cached is not None:
            return cached
        obs = self._run(list(argv), timeout, list(exec_argv) if exec_argv else None)
        if redact is not None and obs.output is not None and obs.redaction is None:
            obs.output = REDACTIONS[redact](obs.output)
            obs.redaction = redact
        return self._record(obs)

    def read_file(self, path: str, max_bytes: int = 2_000_000, redact: str | None = None) -> Observation:
        cached = self._cached(observation_key("file", path))
        if cached is not None:
            return cached
        obs = self._read_file(path, max_bytes)
        if redact is not None and obs.output is not None and obs.redaction is None:
            obs.output = REDACTIONS[redact](obs.output)
            obs.redaction = redact
        return self._record(obs)

    def list_dir(self, path: str) -> Observation:
        cached = self._cached(observation_key("dir", path))
        return cached if cached is not None else self._record(self._list_dir(path))

    def stat(self, path: str) -> Observation:
        cached = self._cached(observation_key("stat", path))
        return cached if cached is not None else self._record(self._stat(path))

    def recorded(self, kind: ObsKind, target: str) -> Observation:
        """A Windows observation (registry, CIM, PowerShell) by its manifest target. Only snapshots
        made by the PowerShell collector hold them; elsewhere they are unavailable."""
        key = observation_key(kind, target)
        cached = self._cached(key)
        return cached if cached is not None else self._record(self._recorded(kind, target))

    def _recorded(self, kind: ObsKind, target: str) -> Observation:
        return Observation(
            kind=kind,
            target=target,
            status=ObsStatus.unavailable,
            detail="observation Windows : utilisez le collecteur PowerShell",
        )

    def observations(self) -> list[Observation]:
        with self._lock:
            return sorted(self._observations.values(), key=lambda o: o.key)

    # -- helpers ------------------------------------------------------------
    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Share a parsed result between collectors (they run concurrently)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            return self._memo.setdefault(key, value)  # type: ignore[no-any-return]

    def text(self, path: str) -> str | None:
        obs = self.read_file(path)
        return obs.output if obs.ok else None

    def _cached(self, key: str) -> Observation | None:
        with self._lock:
            return self._observations.get(key)

    def _record(self, obs: Observation) -> Observation:
        with self._lock:
            return self._observations.setdefault(obs.key, obs)

    # -- to implement -------------------------------------------------------
    @abstractmethod
    def _run(self, argv: list[str], timeout: float, exec_argv: list[str] | None) -> Observation: ...

    @abstractmethod
    def _read_file(self, path: str, max_bytes: int) -> Observation: ...

    @abstractmethod
    def _list_dir(self, path: str) -> Observation: ...

    @abstractmethod
    def _stat(self, path: str) -> Observation: ...
