"""Windows identity: build and edition from the registry, server or client from CIM."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host
from officine.parsers.windows import as_int


def is_server(installation: str, product_type: int | None, edition: str) -> bool:
    """InstallationType is "Server" or "Server Core" (Nano too); ProductType 2 and 3 are servers."""
    if installation:
        return installation.strip().lower().startswith(("server", "nano"))
    if product_type is not None:
        return product_type != 1
    return edition.lower().startswith("server")


def boot_time(value: Any) -> str | None:
    """Win32_OperatingSystem.LastBootUpTime as ConvertTo-Json writes it: `/Date(ms)/` (PowerShell 5.1)
    or an ISO date (PowerShell 7, CIM text `20231204090000.500000+060`)."""
    text = str(value or "")
    m = re.search(r"/Date\((-?\d+)\)/", text)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC).isoformat()
    m = re.fullmatch(r"(\d{14})\.\d+([+-]\d{3})", text)
    if m:
        local = datetime.strptime(m.group(1), "%Y%m%d%H%M%S")
        minutes = int(m.group(2))
        return (local.replace(tzinfo=UTC) - timedelta(minutes=minutes)).isoformat()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


@collector("windows.os", platforms=("windows",), facts=("os.info",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    reg_obs, reg = objects(host, "os.currentversion")
    if isinstance(reg, Fact):
        return {"os.info": reg}
    values = reg[0] if reg else {}
    build = as_int(values.get("CurrentBuild") or values.get("CurrentBuildNumber"))
    if build is None:
        return {"os.info": unknown("parse_error", "numéro de build absent du registre", reg_obs)}
    cim_obs, cim = objects(host, "os.cim")
    cim_row = cim[0] if not isinstance(cim, Fact) and cim else {}
    product_type = as_int(cim_row.get("ProductType"))
    edition = str(values.get("EditionID") or "")
    installation = str(values.get("InstallationType") or "")
    server = is_server(installation, product_type, edition)
    if not installation and product_type is not None:
        installation = "Client" if product_type == 1 else "Server"
    # ProductName still says "Windows 10" on Windows 11: the build decides (>= 22000 is 11). On a
    # server, ProductName is right ("Windows Server 2016 Standard", "Windows Server Datacenter").
    registry_name = str(values.get("ProductName") or "").strip()
    if server:
        product = registry_name or "Windows Server"
    else:
        product = "Windows 11" if build >= 22000 else ("Windows 10" if build >= 10240 else registry_name or "Windows")
    display = str(values.get("DisplayVersion") or values.get("ReleaseId") or "")
    ubr = as_int(values.get("UBR"))
    version = f"{build}.{ubr}" if ubr is not None else str(build)
    name = product if server else f"{product} {display}".strip()
    return {
        "os.info": observed(
            {
                "family": "windows",
                "id": "windows",
                "product": product,
                "server": server,
                "build": build,
                "ubr": ubr,
                "display_version": display,
                "edition_id": edition,
                "installation_type": installation or None,
                "product_type": product_type,
                "booted_at": boot_time(cim_row.get("LastBootUpTime")),
                "pretty_name": f"{name} (build {version}, {edition or 'édition inconnue'})",
            },
            reg_obs,
            cim_obs,
        )
    }
