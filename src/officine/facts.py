"""Facts: what collectors conclude from observations, before any judgement."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from officine.host.base import Observation, ObsStatus


class FactStatus(StrEnum):
    observed = "observed"
    unknown = "unknown"
    not_applicable = "not_applicable"


# Why a fact could not be observed. The French wording lives in messages.yaml.
UNKNOWN_REASONS = (
    "command_missing",
    "file_missing",
    "permission_denied",
    "timeout",
    "not_live",
    "not_recorded",
    "parse_error",
    "collector_error",
    "error",
    "not_supported",
    "location_denied",  # Windows hides WiFi details from programs not allowed to use location
)

_FROM_OBS = {
    ObsStatus.denied: "permission_denied",
    ObsStatus.timeout: "timeout",
    ObsStatus.unavailable: "not_live",
    ObsStatus.not_recorded: "not_recorded",
    ObsStatus.error: "error",
}


@dataclass
class Fact:
    status: FactStatus
    value: Any = None
    reason: str | None = None
    detail: str | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def observed(self) -> bool:
        return self.status is FactStatus.observed

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status.value}
        if self.value is not None:
            data["value"] = self.value
        if self.reason:
            data["reason"] = self.reason
        if self.detail:
            data["detail"] = self.detail
        data["sources"] = self.sources
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fact:
        return cls(
            status=FactStatus(data["status"]),
            value=data.get("value"),
            reason=data.get("reason"),
            detail=data.get("detail"),
            sources=list(data.get("sources", [])),
        )


def _keys(obs: tuple[Observation, ...]) -> list[str]:
    return [o.key for o in obs]


def observed(value: Any, *obs: Observation) -> Fact:
    return Fact(FactStatus.observed, value=value, sources=_keys(obs))


def unknown(reason: str, detail: str | None = None, *obs: Observation) -> Fact:
    assert reason in UNKNOWN_REASONS, reason  # noqa: S101 - programming error, not input
    return Fact(FactStatus.unknown, reason=reason, detail=detail, sources=_keys(obs))


def not_applicable(detail: str, *obs: Observation, value: Any = None) -> Fact:
    return Fact(FactStatus.not_applicable, value=value, detail=detail, sources=_keys(obs))


def unknown_from(obs: Observation, what: str | None = None) -> Fact:
    """The fact is unknown because this observation failed: say why, precisely."""
    if obs.status is ObsStatus.missing:
        reason = "command_missing" if obs.kind == "command" else "file_missing"
    elif obs.status is ObsStatus.ok:
        reason = "parse_error"
    else:
        reason = _FROM_OBS[obs.status]
    target = " ".join(obs.target) if isinstance(obs.target, list) else obs.target
    detail = what or target
    if obs.detail:
        detail = f"{detail} ({obs.detail})"
    return unknown(reason, detail, obs)
