"""Replays a snapshot's recorded Windows observations through the Python collector's WindowsAccess
interface, the way the real machine would answer (a test double for what cannot run here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from officine.collectors.windows.native import EXIT_DENIED, EXIT_MISSING, POWERSHELL, Completed, pipeline
from officine.collectors.windows.script import manifest
from officine.host.base import Observation, ObsStatus, observation_key
from officine.snapshot import Snapshot


class RecordedWindows:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.by_key = {o.key: o for o in snap.observations}
        self.scripts = {pipeline(i): i for i in manifest()["observations"] if i["kind"] in ("cim", "powershell")}
        self.calls: list[str] = []

    def _get(self, kind: Any, target: Any) -> Observation:
        self.calls.append(observation_key(kind, target))
        return self.by_key[observation_key(kind, target)]

    @staticmethod
    def _raise(obs: Observation) -> None:
        if obs.status is ObsStatus.denied:
            raise PermissionError(obs.detail)
        if obs.status is ObsStatus.timeout:
            raise TimeoutError(obs.detail)
        if obs.status is not ObsStatus.ok:
            raise OSError(obs.detail)

    def run(self, argv: Sequence[str], timeout: float) -> Completed:
        if list(argv[:-1]) == POWERSHELL:
            item = self.scripts[argv[-1]]
            target = item["id"] if item["kind"] == "powershell" else f"{item['namespace']}:{item['class']}"
            obs = self._get(item["kind"], target)
            code = {ObsStatus.ok: 0, ObsStatus.missing: EXIT_MISSING, ObsStatus.denied: EXIT_DENIED}
            return Completed(code.get(obs.status, 1), obs.output or "", "" if obs.ok else obs.detail or "")
        obs = self._get("command", list(argv))
        if obs.status is ObsStatus.missing:
            raise FileNotFoundError(2, "absent", argv[0])
        self._raise(obs)
        return Completed(obs.exit_code or 0, obs.output or "")

    def _registry(self, kind: Any, key: str) -> Any:
        obs = self._get(kind, key)
        if obs.status is ObsStatus.missing:
            return None
        self._raise(obs)
        return json.loads(obs.output or "null")

    def registry(self, key: str, names: Sequence[str]) -> dict[str, Any] | None:
        values = self._registry("registry", key)
        return None if values is None else {k: v for k, v in values.items() if k in names}

    def registry_tree(self, key: str, depth: int, value: str | None) -> list[dict[str, Any]] | None:
        rows = self._registry("registry_keys", key)
        return None if rows is None else list(rows)

    def identity(self) -> dict[str, Any]:
        return {
            "hostname": self.snap.host.get("hostname"),
            "user": self.snap.collector.get("user"),
            "privileged": self.snap.collector.get("privileged"),
            "machine_guid": None,
        }
