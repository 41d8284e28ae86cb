"""Is the ransomware sentinel running here: its systemd unit, the unit's state, its status file."""

from __future__ import annotations

import json
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown_from
from officine.host.base import Host, ObsStatus

UNIT = "/etc/systemd/system/officine-sentinel.service"
DEFAULT_DATA_DIR = "/root/.local/share/officine-cyber"


def _data_dir(unit_text: str) -> str:
    for line in unit_text.splitlines():
        if line.startswith("Environment=OFFICINE_DATA_DIR="):
            return line.split("=", 2)[2].strip()
    return DEFAULT_DATA_DIR


def _status(text: str | None) -> dict[str, Any] | None:
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    keep = ("running", "updated_at", "folders", "mode", "files_indexed", "canaries", "overflows", "last_alarm")
    return {k: data.get(k) for k in keep}


@collector("linux.sentinel", platforms=("linux",), facts=("sentinel.service",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    unit = host.read_file(UNIT)
    if unit.status is ObsStatus.missing:
        return {"sentinel.service": observed({"installed": False}, unit)}
    if not unit.ok:
        return {"sentinel.service": unknown_from(unit, "service de la sentinelle")}
    active = host.run(["systemctl", "is-active", "officine-sentinel.service"])
    state = ((active.output or "").strip() or None) if active.ok else None
    status_file = host.read_file(f"{_data_dir(unit.output or '')}/sentinelle/etat.json", max_bytes=200_000)
    value = {
        "installed": True,
        "unit_state": state,
        "status": _status(status_file.output) if status_file.ok else None,
    }
    return {"sentinel.service": observed(value, unit, active, status_file)}
