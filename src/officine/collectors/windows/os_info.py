"""Windows identity: build and edition from the registry, server or client from CIM."""

from __future__ import annotations

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host
from officine.parsers.windows import as_int


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
    product_type = as_int(cim[0].get("ProductType")) if not isinstance(cim, Fact) and cim else None
    installation = str(values.get("InstallationType") or "")
    if not installation and product_type is not None:
        installation = "Client" if product_type == 1 else "Server"
    # ProductName still says "Windows 10" on Windows 11: the build decides (>= 22000 is 11).
    product = (
        "Windows Server" if installation.lower() == "server" else ("Windows 11" if build >= 22000 else "Windows 10")
    )
    edition = str(values.get("EditionID") or "")
    display = str(values.get("DisplayVersion") or values.get("ReleaseId") or "")
    ubr = f".{values['UBR']}" if values.get("UBR") not in (None, "") else ""
    return {
        "os.info": observed(
            {
                "family": "windows",
                "id": "windows",
                "product": product,
                "build": build,
                "ubr": as_int(values.get("UBR")),
                "display_version": display,
                "edition_id": edition,
                "installation_type": installation or None,
                "product_type": product_type,
                "pretty_name": f"{product} {display} (build {build}{ubr}, {edition or 'édition inconnue'})",
            },
            reg_obs,
            cim_obs,
        )
    }
