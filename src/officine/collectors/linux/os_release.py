"""Operating system identity from os-release."""

from __future__ import annotations

from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown, unknown_from
from officine.host.base import Host
from officine.parsers.text import parse_env_file


@collector("linux.os", platforms=("linux",), facts=("os.info",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    obs = host.read_file("/etc/os-release")
    if not obs.ok:
        fallback = host.read_file("/usr/lib/os-release")
        if not fallback.ok:
            return {"os.info": unknown_from(obs, "/etc/os-release")}
        obs = fallback
    data = parse_env_file(obs.output or "")
    if "ID" not in data:
        return {"os.info": unknown("parse_error", "os-release sans champ ID", obs)}
    return {
        "os.info": observed(
            {
                "family": "linux",
                "id": data["ID"].lower(),
                "id_like": data.get("ID_LIKE", "").lower().split(),
                "version_id": data.get("VERSION_ID"),
                "codename": data.get("VERSION_CODENAME"),
                "name": data.get("NAME"),
                "pretty_name": data.get("PRETTY_NAME"),
            },
            obs,
        )
    }
