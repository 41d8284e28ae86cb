"""Pending updates, automatic security updates, freshness of the package lists (Debian family)."""

from __future__ import annotations

from officine.collectors.linux.common import packages
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers.apt import parse_apt_conf, parse_apt_upgradable
from officine.paths import cache_dir

APT_CONF_DIR = "/etc/apt/apt.conf.d"
TIMER = "apt-daily-upgrade.timer"
STAMPS = (
    "/var/lib/apt/periodic/update-success-stamp",
    "/var/lib/apt/lists/partial",
    "/var/cache/apt/pkgcache.bin",
)


def _apt_part_accepted(name: str) -> bool:
    """apt.conf(5): alphanumerics, '-', '_', '.'; no extension or '.conf'."""
    allowed = all(c.isalnum() or c in "-_." for c in name)
    return allowed and ("." not in name or name.endswith(".conf"))


def _apt_config(host: Host) -> tuple[dict[str, str], list[Observation]]:
    merged: dict[str, str] = {}
    used: list[Observation] = []
    listing = host.list_dir(APT_CONF_DIR)
    used.append(listing)
    for name in listing.entries or []:
        if _apt_part_accepted(name):
            obs = host.read_file(f"{APT_CONF_DIR}/{name}")
            if obs.ok:
                merged.update(parse_apt_conf(obs.output or ""))
                used.append(obs)
    main = host.read_file("/etc/apt/apt.conf")
    if main.ok:
        merged.update(parse_apt_conf(main.output or ""))
        used.append(main)
    return merged, used


def _timer_state(host: Host) -> tuple[str, list[Observation]]:
    """enabled / disabled / masked / absent, from the unit files (works on a mounted disk too)."""
    local = host.stat(f"/etc/systemd/system/{TIMER}")
    vendor = [host.stat(f"{d}/{TIMER}") for d in ("/lib/systemd/system", "/usr/lib/systemd/system")]
    wants = host.stat(f"/etc/systemd/system/timers.target.wants/{TIMER}")
    used = [local, *vendor, wants]
    if local.ok and local.stat and local.stat.get("size") == 0 and not local.stat.get("is_dir"):
        return "masked", used
    if local.status.value == "ok" or any(v.ok for v in vendor):
        return ("enabled" if wants.ok else "disabled"), used
    return "absent", used


def _with_private_cache(host: Host, config: dict[str, str]) -> list[str] | None:
    """Where APT's binary cache is switched off (container images), apt rebuilds it on every
    call, which costs seconds: give it a private cache in our own cache folder instead."""
    if not host.live or config.get("dir::cache::pkgcache", "x") != "":
        return None
    cache = cache_dir() / "apt"
    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return [
        "apt",
        "list",
        "--upgradable",
        "-o",
        f"Dir::Cache::pkgcache={cache}/pkgcache.bin",
        "-o",
        f"Dir::Cache::srcpkgcache={cache}/srcpkgcache.bin",
    ]


@collector(
    "linux.updates",
    platforms=("linux",),
    facts=("updates.pending", "updates.automatic", "updates.lists_refreshed"),
)
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    pkgs = packages(host)
    if pkgs.installed is None:
        reason = unknown_from(pkgs.obs, "base dpkg")
        if pkgs.obs.status.value == "missing":
            reason = unknown(
                "not_supported",
                "système sans dpkg (seules les familles Debian et Ubuntu sont gérées pour l'instant)",
                pkgs.obs,
            )
        return {"updates.pending": reason, "updates.automatic": reason, "updates.lists_refreshed": reason}

    facts: dict[str, Fact] = {}

    # Freshness of the package lists: without them "no pending update" means nothing.
    lists = host.list_dir("/var/lib/apt/lists")
    index_files = [
        e for e in (lists.entries or []) if e.endswith(("_Packages", "_Packages.lz4", "_Packages.gz", "_Packages.xz"))
    ]
    stamp_obs = [host.stat(p) for p in STAMPS]
    mtimes = [o.stat["mtime"] for o in stamp_obs if o.ok and o.stat]
    if index_files and not mtimes:
        # No stamp (a system that never ran apt's periodic job): the index files themselves are
        # as old as the last `apt update`.
        stamp_obs += [host.stat(f"/var/lib/apt/lists/{name}") for name in index_files[:20]]
        mtimes = [o.stat["mtime"] for o in stamp_obs if o.ok and o.stat]
    if not lists.ok:
        facts["updates.lists_refreshed"] = unknown_from(lists, "/var/lib/apt/lists")
    elif not index_files:
        facts["updates.lists_refreshed"] = observed({"index_files": 0, "refreshed_at": None}, lists)
    else:
        refreshed = max(mtimes) if mtimes else None
        facts["updates.lists_refreshed"] = observed(
            {"index_files": len(index_files), "refreshed_at": refreshed}, lists, *stamp_obs
        )

    config, conf_obs = _apt_config(host)
    sim = host.run(["apt", "list", "--upgradable"], timeout=60, exec_argv=_with_private_cache(host, config))
    if not sim.ok:
        facts["updates.pending"] = unknown_from(sim, "apt list --upgradable")
    elif sim.exit_code != 0:
        facts["updates.pending"] = unknown("error", f"apt a échoué (code {sim.exit_code})", sim)
    elif not index_files:
        facts["updates.pending"] = unknown(
            "error",
            "listes de paquets absentes : apt ne peut pas savoir quelles mises à jour existent",
            sim,
            lists,
        )
    else:
        upgrades = parse_apt_upgradable(sim.output or "")
        security = [u.package for u in upgrades if u.security]
        facts["updates.pending"] = observed(
            {
                "count": len(upgrades),
                "security_count": len(security),
                "security_packages": sorted(security)[:15],
            },
            sim,
            lists,
        )

    timer, timer_obs = _timer_state(host)
    has_uu = bool(pkgs.has("unattended-upgrades"))
    if not has_uu:
        facts["updates.automatic"] = observed(
            {"enabled": False, "mechanism": None, "why": "unattended-upgrades absent"}, pkgs.obs
        )
    else:
        periodic = config.get("apt::periodic::unattended-upgrade", "0")
        refresh = config.get("apt::periodic::update-package-lists", "0")
        enabled = periodic not in ("0", "") and refresh not in ("0", "") and timer in ("enabled", "absent")
        facts["updates.automatic"] = observed(
            {
                "enabled": enabled,
                "mechanism": "unattended-upgrades",
                "unattended_upgrade": periodic,
                "update_package_lists": refresh,
                "timer": timer,
            },
            pkgs.obs,
            *conf_obs,
            *timer_obs,
        )
    return facts
