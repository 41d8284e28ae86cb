"""A Host that answers from a snapshot's recorded observations."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from officine.host.base import Host, Observation, ObsKind, ObsStatus, observation_key
from officine.host.local import MAX_OUTPUT


def _capped(obs: Observation, limit: int) -> Observation:
    """A snapshot may hold more than a live read would have kept (a forged or foreign file):
    parsers never see more than the live limit, and the cut is marked as on a live host."""
    if obs.output is not None and len(obs.output) > limit:
        obs.output = obs.output[:limit]
        obs.truncated = True
    return obs


class ReplayHost(Host):
    def __init__(self, observations: Iterable[Observation], platform: str, live: bool) -> None:
        super().__init__()
        self._replayed = {o.key: o for o in observations}
        self.platform = platform
        self.live = live

    def _lookup(self, kind: ObsKind, target: list[str] | str) -> Observation:
        key = observation_key(kind, target)
        found = self._replayed.get(key)
        if found is not None:
            return copy.deepcopy(found)
        return Observation(
            kind=kind,
            target=target,
            status=ObsStatus.not_recorded,
            detail="absent de l'instantané",
        )

    def _recorded(self, kind: ObsKind, target: str) -> Observation:
        return _capped(self._lookup(kind, target), MAX_OUTPUT)

    def _run(self, argv: list[str], timeout: float, exec_argv: list[str] | None) -> Observation:
        return _capped(self._lookup("command", argv), MAX_OUTPUT)

    def _read_file(self, path: str, max_bytes: int) -> Observation:
        return _capped(self._lookup("file", path), max_bytes)

    def _list_dir(self, path: str) -> Observation:
        return self._lookup("dir", path)

    def _stat(self, path: str) -> Observation:
        return self._lookup("stat", path)
