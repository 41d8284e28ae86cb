"""Antivirus on Linux: ClamAV (packages, daemons, signature database age) and known agents."""

from __future__ import annotations

from typing import Any

from officine.collectors.linux.common import packages, processes
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown_from
from officine.host.base import Host, Observation
from officine.parsers import ParseError
from officine.parsers.misc import parse_clamav_header
from officine.parsers.text import parse_space_config

CLAMAV_DB_FILES = ("daily.cld", "daily.cvd", "main.cld", "main.cvd")
# Other Linux agents we can recognise: package names and process names.
OTHER_PRODUCTS = {
    "Microsoft Defender for Endpoint": (("mdatp",), ("wdavdaemon",)),
    "ESET": (("eea", "efs", "esets"), ("esets_daemon", "eea", "oaeventd")),
    "Sophos": (("sophos-spl",), ("sophos_threat_d", "sophosspl")),
    "Bitdefender": (("bitdefender-security-tools",), ("bdsecd",)),
    "Trellix / McAfee": (("mfeesp", "mcafeetp"), ("mfetpd",)),
}


def _clamav(host: Host, procs: list[Any] | None, used: list[Observation]) -> dict[str, Any] | None:
    pkgs = packages(host)
    installed = pkgs.has("clamav", "clamav-daemon", "clamav-freshclam", "clamdscan")
    if not installed:
        return None
    conf = host.read_file("/etc/clamav/freshclam.conf")
    used.append(conf)
    db_dir = (
        parse_space_config(conf.output or "").get("DatabaseDirectory", "/var/lib/clamav")
        if conf.ok
        else "/var/lib/clamav"
    )
    newest = None
    for name in CLAMAV_DB_FILES:
        obs = host.read_file(f"{db_dir}/{name}", max_bytes=512)
        if not obs.ok:
            continue
        used.append(obs)
        try:
            header = parse_clamav_header(obs.output or "")
        except ParseError:
            continue
        if name.startswith("daily") and (newest is None or header.built > newest):
            newest = header.built
    names = {p.comm for p in procs} if procs is not None else None
    return {
        "name": "ClamAV",
        "packages": installed,
        "signatures_built_at": newest.isoformat() if newest else None,
        "database_dir": db_dir,
        "running": None if names is None else bool(names & {"clamd", "freshclam"}),
        "daemon_running": None if names is None else "clamd" in names,
        "updater_running": None if names is None else "freshclam" in names,
        "realtime": None if names is None else "clamonacc" in names,
    }


@collector("linux.antivirus", platforms=("linux",), facts=("antivirus.products",))
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    pkgs = packages(host)
    ps_obs, procs = processes(host)
    used: list[Observation] = [pkgs.obs, ps_obs]
    if pkgs.installed is None and procs is None:
        return {"antivirus.products": unknown_from(pkgs.obs, "liste des logiciels installés")}
    products = []
    clam = _clamav(host, procs, used)
    if clam:
        products.append(clam)
    names = {p.comm for p in procs} if procs is not None else set()
    for product, (pkg_names, proc_names) in OTHER_PRODUCTS.items():
        found_pkg = pkgs.has(*pkg_names)
        running = bool(names & set(proc_names))
        if found_pkg or running:
            products.append(
                {
                    "name": product,
                    "packages": found_pkg,
                    "running": running if procs is not None else None,
                    "signatures_built_at": None,
                    "realtime": None,
                }
            )
    return {"antivirus.products": observed({"products": products, "processes_visible": procs is not None}, *used)}
