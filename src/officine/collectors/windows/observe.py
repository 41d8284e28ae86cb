"""Reading the observations that collect.ps1 recorded, by manifest id."""

from __future__ import annotations

from typing import Any

from officine.collectors.windows.script import manifest, target
from officine.facts import Fact, unknown, unknown_from
from officine.host.base import Host, Observation, ObsStatus
from officine.parsers import ParseError
from officine.parsers.windows import parse_json_objects


def item(item_id: str) -> dict[str, Any]:
    return next(i for i in manifest()["observations"] if i["id"] == item_id)


def observation(host: Host, item_id: str) -> Observation:
    spec = item(item_id)
    if spec["kind"] == "command":
        return host.run(spec["argv"])
    return host.recorded(spec["kind"], target(spec))  # type: ignore[arg-type]


def objects(
    host: Host, item_id: str, privileged: bool | None = None
) -> tuple[Observation, list[dict[str, Any]] | Fact]:
    """The recorded PowerShell/CIM/registry objects, or the unknown fact that says why not."""
    obs = observation(host, item_id)
    if not obs.ok:
        return obs, unknown_from(obs, item_id) if not refused(item_id, obs, privileged) else refusal(item_id, obs)
    try:
        return obs, parse_json_objects(obs.output or "null")
    except ParseError as exc:
        return obs, unknown("parse_error", f"{item_id} : {exc}", obs)


def refused(item_id: str, obs: Observation, privileged: bool | None) -> bool:
    """A failure of an administrator-only item in a run without administrator rights is that refusal,
    whatever the message says and in whatever language: decided by the facts (the item needs rights,
    the run did not have them), never by the text."""
    return (
        bool(item(item_id).get("admin")) and privileged is False and obs.status in (ObsStatus.error, ObsStatus.denied)
    )


def refusal(item_id: str, obs: Observation) -> Fact:
    return unknown("permission_denied", f"{item_id} : droits administrateur nécessaires", obs)
