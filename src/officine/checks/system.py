"""Updates and protection of the workstation (MAJ-*, POS-*)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from officine.checks.base import (
    CheckContext,
    Outcome,
    check,
    fail,
    passed,
    unknown,
    warn,
)
from officine.facts import FactStatus

ENDING_SOON = timedelta(days=180)
LISTS_STALE = timedelta(days=7)
LISTS_FRESH = timedelta(days=2)
SIGNATURES_GOOD = timedelta(days=2)
SIGNATURES_MAX = timedelta(days=7)

# Services that must never be reachable from the network of a pharmacy (HYG 17: 135/445/3389).
RISKY_PORTS: dict[tuple[str, int], str] = {
    ("tcp", 21): "FTP",
    ("tcp", 23): "Telnet",
    ("udp", 69): "TFTP",
    ("tcp", 111): "rpcbind",
    ("udp", 111): "rpcbind",
    ("tcp", 135): "RPC Windows",
    ("tcp", 139): "partage Windows (NetBIOS)",
    ("udp", 137): "NetBIOS",
    ("udp", 138): "NetBIOS",
    ("udp", 161): "SNMP",
    ("tcp", 445): "partage Windows (SMB)",
    ("tcp", 512): "rexec",
    ("tcp", 513): "rlogin",
    ("tcp", 514): "rsh",
    ("tcp", 1433): "SQL Server",
    ("tcp", 1521): "Oracle",
    ("tcp", 2049): "NFS",
    ("tcp", 3306): "MySQL/MariaDB",
    ("tcp", 3389): "Bureau à distance (RDP)",
    ("tcp", 5432): "PostgreSQL",
    ("tcp", 5938): "TeamViewer",
    ("tcp", 6379): "Redis",
    ("tcp", 7070): "AnyDesk",
    ("tcp", 9200): "Elasticsearch",
    ("tcp", 11211): "memcached",
    ("udp", 11211): "memcached",
    ("tcp", 27017): "MongoDB",
}
RISKY_PORTS.update({("tcp", p): "VNC (prise de main)" for p in range(5900, 5911)})


@check(
    "MAJ-01",
    reasons=(
        "supported",
        "supported_extended",
        "extended_subscription",
        "ending_soon",
        "end_of_life",
        "unknown_release",
    ),
)
def supported_os(ctx: CheckContext) -> Outcome:
    info = ctx.fact("os.info")
    name = info.get("pretty_name") or f"{info.get('id')} {info.get('version_id')}"
    if info.get("family") == "windows":
        release = ctx.reference.windows_release(info)
    elif info.get("family") == "macos":
        release = ctx.reference.macos_release(info.get("version_id"))
    elif info.get("family") == "linux":
        release = ctx.reference.linux_release(info.get("id", ""), info.get("version_id"))
    else:
        release = None

    if release is None:
        return unknown("unknown_release", os=name, data_as_of=ctx.reference.data_as_of.isoformat())
    today = ctx.collected_at.date()
    common: dict[str, Any] = {"os": name, "data_as_of": ctx.reference.data_as_of.isoformat()}
    if release.support_end and today <= release.support_end:
        if release.support_end - today <= ENDING_SOON and not release.extended_end:
            return warn("ending_soon", until=release.support_end.isoformat(), **common)
        return passed("supported", until=release.support_end.isoformat(), **common)
    if release.extended_end and today <= release.extended_end:
        kind = release.extended_kind or "support étendu"
        if "abonnement" in kind.lower() or "esm" in kind.lower():
            return warn("extended_subscription", until=release.extended_end.isoformat(), kind=kind, **common)
        if release.extended_end - today <= ENDING_SOON:
            return warn("ending_soon", until=release.extended_end.isoformat(), **common)
        return passed("supported_extended", until=release.extended_end.isoformat(), kind=kind, **common)
    end = release.extended_end or release.support_end
    return fail("end_of_life", since=end.isoformat() if end else "?", **common)


@check(
    "MAJ-02",
    reasons=(
        "up_to_date_auto",
        "up_to_date_manual",
        "security_pending_auto",
        "security_pending",
        "lists_stale",
        "no_package_lists",
        "windows_recent",
        "windows_recent_manual",
        "windows_late",
        "windows_stale",
        "macos_pending",
        "macos_up_to_date_auto",
        "macos_up_to_date_auto_unknown",
    ),
)
def patches(ctx: CheckContext) -> Outcome:
    if ctx.optional("updates.windows") is not None:
        return _windows_patches(ctx)
    if ctx.optional("updates.macos") is not None:
        return _macos_patches(ctx)
    lists = ctx.fact("updates.lists_refreshed")
    auto = ctx.fact("updates.automatic")
    enabled = bool(auto.get("enabled"))
    if not lists.get("index_files"):
        return fail("no_package_lists")
    refreshed = lists.get("refreshed_at")
    age = (
        ctx.collected_at - datetime.fromtimestamp(refreshed, ctx.collected_at.tzinfo)
        if isinstance(refreshed, int | float)
        else None
    )
    if age is None or age > LISTS_STALE:
        days = age.days if age is not None else "?"
        return fail("lists_stale", days=days, automatic="oui" if enabled else "non")
    pending = ctx.fact("updates.pending")
    security, total = int(pending.get("security_count", 0)), int(pending.get("count", 0))
    packages = ", ".join(pending.get("security_packages") or [])
    if security:
        if enabled and age <= LISTS_FRESH:
            return warn("security_pending_auto", security=security, packages=packages, total=total)
        return fail(
            "security_pending",
            security=security,
            packages=packages,
            total=total,
            automatic="oui" if enabled else "non",
        )
    if enabled:
        return passed("up_to_date_auto", total=total, days=age.days)
    return warn("up_to_date_manual", total=total, days=age.days)


WINDOWS_MONTHLY = timedelta(days=35)  # Patch Tuesday every month, with a few days' grace
WINDOWS_LATE = timedelta(days=60)


def _windows_patches(ctx: CheckContext) -> Outcome:
    value = ctx.fact("updates.windows")
    last = datetime.fromisoformat(value["last_installed"]).replace(tzinfo=ctx.collected_at.tzinfo)
    age = ctx.collected_at - last
    automatic = value.get("automatic")
    values = {
        "last": value["last_installed"],
        "days": max(age.days, 0),
        "automatic": {True: "oui", False: "non"}.get(automatic, "inconnu"),
    }
    if age > WINDOWS_LATE:
        return fail("windows_stale", **values)
    if age > WINDOWS_MONTHLY:
        return warn("windows_late", **values)
    if automatic is False:
        return warn("windows_recent_manual", **values)
    return passed("windows_recent", **values)


def _macos_patches(ctx: CheckContext) -> Outcome:
    value = ctx.fact("updates.macos")
    labels = ", ".join(u["label"] for u in value.get("pending", []))
    auto = value.get("automatic")
    automatic = {True: "oui", False: "non"}.get(auto, "non vérifiée")
    if value.get("count"):
        verdict = fail if auto is False else warn
        return verdict("macos_pending", count=value["count"], labels=labels, automatic=automatic)
    if auto:
        return passed("macos_up_to_date_auto")
    if auto is None:
        return warn("macos_up_to_date_auto_unknown")
    return warn("up_to_date_manual", total=0, days="?")


def _iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _judge_antivirus(ctx: CheckContext, product: dict[str, Any]) -> Outcome:
    name = product.get("name")
    if product.get("running") is False:
        return fail("not_running", product=name)
    built = _iso(product.get("signatures_built_at"))
    age_days = product.get("signature_age_days")
    if built is not None:
        age = ctx.collected_at - built
    elif isinstance(age_days, int | float):
        age = timedelta(days=age_days)
    else:
        return unknown("signatures_unknown", product=name)
    days = max(age.days, 0)
    if age > SIGNATURES_MAX:
        return fail("signatures_old", product=name, days=days)
    if product.get("realtime") is False:
        return warn("no_realtime", product=name, days=days)
    if age > SIGNATURES_GOOD:
        return warn("signatures_aging", product=name, days=days)
    if product.get("realtime") is None or product.get("running") is None:
        return unknown("state_unverified", product=name, days=days)
    return passed("active_up_to_date", product=name, days=days)


@check(
    "POS-01",
    reasons=(
        "no_antivirus",
        "not_running",
        "signatures_unknown",
        "signatures_old",
        "no_realtime",
        "signatures_aging",
        "state_unverified",
        "active_up_to_date",
    ),
)
def antivirus(ctx: CheckContext) -> Outcome:
    value = ctx.fact("antivirus.products")
    products = value.get("products") or []
    if not products:
        return fail("no_antivirus")
    outcomes = [_judge_antivirus(ctx, p) for p in products]
    order = [
        "active_up_to_date",
        "signatures_aging",
        "no_realtime",
        "state_unverified",
        "signatures_unknown",
        "signatures_old",
        "not_running",
    ]
    return min(outcomes, key=lambda o: order.index(o.reason))  # the best-protected product counts


@check("POS-02", reasons=("inbound_blocked", "inbound_open", "no_firewall"))
def firewall(ctx: CheckContext) -> Outcome:
    value = ctx.fact("firewall.state")
    where = "réglage enregistré" if value.get("source") == "configuration" else "règles actives"
    if not value.get("active"):
        return fail("no_firewall", engine=value.get("engine"), where=where)
    if value.get("default_inbound") == "drop":
        return passed("inbound_blocked", engine=value.get("engine"), where=where)
    return fail("inbound_open", engine=value.get("engine"), where=where)


@check("POS-03", reasons=("encrypted", "not_encrypted"))
def disk_encryption(ctx: CheckContext) -> Outcome:
    volumes = ctx.fact("disk.encryption").get("volumes") or []
    clear = [v for v in volumes if not v.get("encrypted")]
    if clear:
        return fail("not_encrypted", volumes=", ".join(f"{v['mount']} ({v.get('device')})" for v in clear))
    return passed("encrypted", volumes=", ".join(f"{v['mount']} ({v.get('scheme')})" for v in volumes))


@check("POS-04", reasons=("autorun_off", "autorun_prompt", "users_undetermined"))
def autorun(ctx: CheckContext) -> Outcome:
    value = ctx.fact("removable.autorun")
    sessions = value.get("sessions") or []
    users = [s for s in sessions if s.get("user")] or sessions
    allowed = [s.get("user") or "réglage du système" for s in users if s.get("autorun_never") is not True]
    if allowed:
        return warn("autorun_prompt", sessions=", ".join(allowed))
    if value.get("undetermined"):
        return unknown("users_undetermined", users=", ".join(u["user"] for u in value["undetermined"]))
    return passed("autorun_off")


@check(
    "POS-05",
    reasons=(
        "risky_filtered",
        "smb1_enabled",
        "rdp_without_nla",
        "risky_exposed",
        "remote_tool_running",
        "exposed_services",
        "nothing_exposed",
        "remote_tool_installed",
    ),
)
def exposed_services(ctx: CheckContext) -> Outcome:
    remote = ctx.optional("network.remote_access")
    if remote is not None and remote.status is FactStatus.observed:
        if remote.value.get("smb1_server"):
            return fail("smb1_enabled")
        if remote.value.get("rdp_enabled") and remote.value.get("rdp_nla") is False:
            return fail("rdp_without_nla")
    listeners = ctx.fact("network.listeners")
    exposed = [s for s in listeners.get("sockets") or [] if s.get("exposed")]
    risky = [s for s in exposed if (s["proto"], s["port"]) in RISKY_PORTS]

    def describe(rows: list[dict[str, Any]]) -> str:
        return ", ".join(
            f"{RISKY_PORTS.get((s['proto'], s['port']), s.get('process') or 'service')} "
            f"{s['port']}/{s['proto']} sur {s['address']}"
            for s in rows
        )

    if risky:
        firewall = ctx.optional("firewall.state")
        filtered = (
            firewall is not None
            and firewall.status is FactStatus.observed
            and bool(firewall.value.get("active"))
            and firewall.value.get("default_inbound") == "drop"
        )
        if filtered:  # listening, but the firewall refuses inbound connections unless a rule opens them
            return ctx.with_answer(warn("risky_filtered", services=describe(risky)))
        return fail("risky_exposed", services=describe(risky))
    remote = ctx.optional("software.remote_control")
    tools = remote.value.get("tools", []) if remote and remote.status is FactStatus.observed else []
    running = [t["name"] for t in tools if t.get("running")]
    if running:
        return ctx.with_answer(warn("remote_tool_running", tools=", ".join(running)))
    if exposed:
        return ctx.with_answer(warn("exposed_services", services=describe(exposed)))
    if tools:
        return ctx.with_answer(passed("remote_tool_installed", tools=", ".join(t["name"] for t in tools)))
    return ctx.with_answer(passed("nothing_exposed"))


@check("POS-06", reasons=("keys_only", "password_auth", "root_password", "empty_passwords_allowed"))
def ssh_hardening(ctx: CheckContext) -> Outcome:
    value = ctx.fact("ssh.server")
    source = "configuration effective" if value.get("source") == "effective" else "fichiers de configuration"
    root = value.get("permitrootlogin", "")
    interactive_auth = value.get("passwordauthentication", "")
    if value.get("permitemptypasswords") == "yes":
        return fail("empty_passwords_allowed", source=source)
    if root == "yes" and interactive_auth == "yes":
        return fail("root_password", source=source)
    if interactive_auth == "yes" or value.get("kbdinteractiveauthentication") == "yes":
        return warn("password_auth", source=source, root=root)
    return passed("keys_only", source=source, root=root)


@check("POS-07", reasons=("synchronized", "sync_daemon", "not_synchronized", "no_sync"))
def time_sync(ctx: CheckContext) -> Outcome:
    value = ctx.fact("time.sync")
    if value.get("synchronized") is True:
        return passed("synchronized", source=value.get("source"))
    if value.get("synchronized") is None and value.get("daemons"):
        return passed("sync_daemon", daemons=", ".join(value["daemons"]))
    if value.get("ntp_enabled"):
        return warn("not_synchronized")
    return fail("no_sync")
