"""WiFi on Windows: `netsh wlan show interfaces`, localised text read in French and English."""

from __future__ import annotations

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import observation
from officine.facts import Fact, not_applicable, observed, unknown, unknown_from
from officine.host.base import Host
from officine.parsers import ParseError
from officine.parsers.windows import parse_netsh_interfaces, wifi_security


@collector("windows.wifi", platforms=("windows",), facts=("wifi.connection",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    obs = observation(host, "wifi.interfaces")
    if not obs.ok:
        return {"wifi.connection": unknown_from(obs, "netsh wlan show interfaces")}
    text = obs.output or ""
    try:
        interfaces = parse_netsh_interfaces(text)
    except ParseError as exc:
        return {"wifi.connection": unknown("location_denied", str(exc), obs)}
    if not interfaces:
        # netsh says there is no wireless interface (or the WLAN service is off).
        return {"wifi.connection": not_applicable("aucune interface WiFi active sur ce poste", obs)}
    connected = [i for i in interfaces if i.get("state", "").lower().startswith(("connected", "connect"))]
    if not connected:
        return {"wifi.connection": not_applicable("WiFi présent mais non connecté", obs)}
    try:
        security = wifi_security(connected[0])
    except ParseError as exc:
        return {"wifi.connection": unknown("parse_error", str(exc), obs)}
    return {"wifi.connection": observed({"interface": connected[0].get("name"), **security}, obs)}
