"""macOS built-in protection (Gatekeeper with XProtect) and automatic time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers import ParseError
from officine.parsers.macos import parse_network_time, parse_spctl

T = TypeVar("T")
SPCTL = ["spctl", "--status"]
NETWORK_TIME = ["systemsetup", "-getusingnetworktime"]
GATEKEEPER = "Gatekeeper et XProtect (protection intégrée de macOS)"


def parsed(obs: Observation, parser: Callable[[str], T], what: str) -> T | Fact:
    """The parsed output (stdout and stderr), or the unknown fact that says why there is none."""
    if not obs.ok:
        return unknown_from(obs, what)
    try:
        return parser((obs.output or "") + (obs.stderr or ""))
    except ParseError as exc:
        return unknown("parse_error", str(exc), obs)


def gatekeeper(obs: Observation) -> Fact:
    enabled = parsed(obs, parse_spctl, "spctl --status")
    if isinstance(enabled, Fact):
        return enabled
    # XProtect's signature date is not read: the check says so rather than assume they are current.
    # spctl only tells whether Gatekeeper assesses applications; XProtect runs either way, so
    # "assessments disabled" says nothing about XProtect.
    product = {
        "name": GATEKEEPER if enabled else "Gatekeeper",
        "source": "spctl",
        "running": True if enabled else None,
        "realtime": True if enabled else None,
        "assessments": enabled,
        "signature_age_days": None,
        "signatures_built_at": None,
    }
    return observed({"products": [product], "processes_visible": False}, obs)


def refused_without_rights(fact: Fact, obs: Observation, what: str, privileged: bool | None) -> Fact:
    """An administrator-only command that printed nothing readable in a run without administrator rights
    was refused: decided by the facts (the rights of the run), never by its message."""
    if fact.reason == "parse_error" and privileged is False:
        return unknown("permission_denied", f"{what} : droits administrateur nécessaires", obs)
    return fact


def network_time(obs: Observation, privileged: bool | None = None) -> Fact:
    on = parsed(obs, parse_network_time, "systemsetup -getusingnetworktime")
    if isinstance(on, Fact):
        return refused_without_rights(on, obs, "systemsetup -getusingnetworktime", privileged)
    return observed(
        {"synchronized": None, "ntp_enabled": on, "daemons": ["timed"] if on else [], "source": "systemsetup"}, obs
    )


@collector("macos.protection", platforms=("macos",), facts=("antivirus.products", "time.sync"))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    return {
        "antivirus.products": gatekeeper(host.run(SPCTL)),
        "time.sync": network_time(host.run(NETWORK_TIME), ctx.privileged),
    }
