"""Updates and protection of the workstation (MAJ-*, POS-*)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from officine.catalogue.model import Verdict
from officine.checks.base import (
    COMBINED_RANK,
    CheckContext,
    Finding,
    Outcome,
    check,
    fail,
    finding,
    passed,
    unknown,
    warn,
    worst,
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


def french_date(value: date | None) -> str:
    """A date as people read it in France (29/11/2026), never ISO in a sentence."""
    return value.strftime("%d/%m/%Y") if value else "?"


def _os_name(info: dict[str, Any], release_name: str | None) -> str:
    """The product as people know it (Windows Server 2016, not "1607"), with what identifies it."""
    if info.get("family") == "windows" and release_name:
        ubr = f".{info['ubr']}" if info.get("ubr") is not None else ""
        edition = info.get("edition_id") or "édition inconnue"
        return f"{release_name} (build {info.get('build')}{ubr}, {edition})"
    if info.get("family") == "macos" and release_name:
        return f"{info.get('product') or 'macOS'} {release_name} {info.get('version_id')} ({info.get('build') or '?'})"
    return str(info.get("pretty_name") or f"{info.get('id')} {info.get('version_id')}")


@check(
    "MAJ-01",
    reasons=(
        "supported",
        "supported_open",
        "supported_extended",
        "extended_subscription",
        "ending_soon",
        "end_of_life",
        "end_of_life_before",
        "unknown_release",
    ),
)
def supported_os(ctx: CheckContext) -> Outcome:
    info = ctx.fact("os.info")
    if info.get("family") == "windows":
        release = ctx.reference.windows_release(info)
    elif info.get("family") == "macos":
        release = ctx.reference.macos_release(info.get("version_id"))
    elif info.get("family") == "linux":
        release = ctx.reference.linux_release(info.get("id", ""), info.get("version_id"))
    else:
        release = None
    data_as_of = french_date(ctx.reference.data_as_of)
    if release is None:
        return unknown("unknown_release", os=_os_name(info, None), data_as_of=data_as_of)
    today = ctx.collected_at.date()
    common: dict[str, Any] = {"os": _os_name(info, release.name), "data_as_of": data_as_of}
    if release.open_ended:
        return passed("supported_open", **common)
    if release.ended_before:
        return fail("end_of_life_before", since=french_date(release.support_end), **common)
    if release.support_end and today <= release.support_end:
        if release.support_end - today <= ENDING_SOON and not release.extended_end:
            return warn("ending_soon", until=french_date(release.support_end), **common)
        return passed("supported", until=french_date(release.support_end), **common)
    if release.extended_end and today <= release.extended_end:
        kind = release.extended_kind or "support étendu"
        if "abonnement" in kind.lower() or "esm" in kind.lower():
            return warn("extended_subscription", until=french_date(release.extended_end), kind=kind, **common)
        if release.extended_end - today <= ENDING_SOON:
            return warn("ending_soon", until=french_date(release.extended_end), **common)
        return passed("supported_extended", until=french_date(release.extended_end), kind=kind, **common)
    # An unsupported system is a failure, whatever its age.
    return fail("end_of_life", since=french_date(release.extended_end or release.support_end), **common)


@check(
    "MAJ-02",
    reasons=(
        "automatic_on",
        "automatic_off",
        "up_to_date",
        "up_to_date_manual",
        "security_pending_auto",
        "security_pending",
        "lists_stale",
        "lists_undated",
        "no_package_lists",
        "windows_recent",
        "windows_recent_manual",
        "windows_never",
        "windows_undated",
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
    return worst(_linux_patches(ctx))


def _automatic_settings(value: dict[str, Any]) -> str:
    """What keeps automatic updates off, in the configuration's own words."""
    if value.get("why"):
        return str(value["why"])
    settings = (
        ("APT::Periodic::Unattended-Upgrade", value.get("unattended_upgrade")),
        ("APT::Periodic::Update-Package-Lists", value.get("update_package_lists")),
        ("apt-daily-upgrade.timer", value.get("timer")),
    )
    return ", ".join(f"{name} = {setting}" for name, setting in settings if setting is not None) or "?"


def _linux_patches(ctx: CheckContext) -> list[Finding]:
    """Three findings, each on its own: automatic updates, freshness of the package lists, pending
    security updates. Automatic updates turned off is said even when the rest cannot be observed."""
    findings: list[Finding] = []
    auto = ctx.optional("updates.automatic")
    enabled = None
    if auto is None or auto.status is not FactStatus.observed:
        findings.append(ctx.unobserved("updates.automatic", "automatic"))
    else:
        enabled = bool(auto.value.get("enabled"))
        findings.append(
            finding(Verdict.passed, "automatic_on", "automatic", mechanism=auto.value.get("mechanism"))
            if enabled
            else finding(Verdict.warn, "automatic_off", "automatic", mechanism=_automatic_settings(auto.value))
        )
    lists = ctx.optional("updates.lists_refreshed")
    if lists is None or lists.status is not FactStatus.observed:
        return [*findings, ctx.unobserved("updates.lists_refreshed", "lists")]
    if not lists.value.get("index_files"):
        return [*findings, finding(Verdict.fail, "no_package_lists", "lists")]
    refreshed = lists.value.get("refreshed_at")
    if not isinstance(refreshed, int | float):
        return [*findings, finding(Verdict.unknown, "lists_undated", "lists")]
    age = ctx.collected_at - datetime.fromtimestamp(refreshed, ctx.collected_at.tzinfo)
    if age > LISTS_STALE:
        return [*findings, finding(Verdict.fail, "lists_stale", "lists", days=age.days)]
    pending = ctx.optional("updates.pending")
    if pending is None or pending.status is not FactStatus.observed:
        return [*findings, ctx.unobserved("updates.pending", "pending")]
    security, total = int(pending.value.get("security_count", 0)), int(pending.value.get("count", 0))
    packages = ", ".join(pending.value.get("security_packages") or [])
    if not security:
        return [*findings, finding(Verdict.passed, "up_to_date", "pending", total=total, days=max(age.days, 0))]
    if enabled and age <= LISTS_FRESH:
        found = finding(Verdict.warn, "security_pending_auto", "pending", security=security, packages=packages)
    else:
        found = finding(Verdict.fail, "security_pending", "pending", security=security, packages=packages)
    return [*findings, found]


WINDOWS_MONTHLY = timedelta(days=35)  # Patch Tuesday every month, with a few days' grace
WINDOWS_LATE = timedelta(days=60)


def _windows_patches(ctx: CheckContext) -> Outcome:
    value = ctx.fact("updates.windows")
    automatic = value.get("automatic")
    policy = value.get("policy") or ""
    level = value.get("patch_level") or "?"
    shown = {True: "oui", False: f"non ({policy})" if policy else "non"}.get(automatic, "inconnu")
    if not value.get("count"):
        # An empty list is an answer: this system never installed an update.
        return fail("windows_never", level=level, automatic=shown)
    if not value.get("last_installed"):
        return unknown("windows_undated", count=value["count"], level=level)
    installed = datetime.fromisoformat(value["last_installed"])
    last = installed.replace(tzinfo=ctx.collected_at.tzinfo)
    age = ctx.collected_at - last
    values = {"last": french_date(installed.date()), "days": max(age.days, 0), "automatic": shown, "level": level}
    if age > WINDOWS_LATE:
        return fail("windows_stale", **values)
    if age > WINDOWS_MONTHLY:
        return warn("windows_late", **values)
    if automatic is False:
        return warn("windows_recent_manual", policy=policy, **values)
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
    if product.get("assessments") is False:
        return fail("gatekeeper_off", product=name)
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
        # The measure requires real-time protection: on-demand scans alone let threats run.
        return fail("no_realtime", product=name, days=days)
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
        "standby",
        "gatekeeper_off",
    ),
)
def antivirus(ctx: CheckContext) -> Outcome:
    value = ctx.fact("antivirus.products")
    products = value.get("products") or []
    if not products:
        return fail("no_antivirus")
    judged = [(str(p.get("name")), _judge_antivirus(ctx, p)) for p in products]
    order = [
        "active_up_to_date",
        "signatures_aging",
        "state_unverified",
        "signatures_unknown",
        "no_realtime",
        "signatures_old",
        "not_running",
        "gatekeeper_off",
    ]
    # One real-time engine is enough (a second one is put in retreat by design, as Windows does with
    # Defender beside another antivirus): the best-protected product decides the measure, and every
    # product is listed.
    best_name, best = min(judged, key=lambda j: order.index(j[1].reason))
    protects = best.verdict in (Verdict.passed, Verdict.warn)
    findings = [
        finding(Verdict.not_applicable, "standby", name, product=name, active=best_name)
        if protects and name != best_name and COMBINED_RANK[o.verdict] > COMBINED_RANK[best.verdict]
        else Finding(o.verdict, o.reason, o.values, name)
        for name, o in judged
    ]
    return Outcome(best.verdict, best.reason, best.values, findings=tuple(findings))


# Windows Defender Firewall profiles, as people see them in Windows' settings.
PROFILE_NAMES = {"Domain": "domaine", "Private": "privé", "Public": "public"}


@check(
    "POS-02",
    reasons=("inbound_blocked", "inbound_open", "no_firewall", "profile_blocks", "profile_open", "profile_off"),
)
def firewall(ctx: CheckContext) -> Outcome:
    value = ctx.fact("firewall.state")
    where = "réglage enregistré" if value.get("source") == "configuration" else "règles actives"
    profiles = value.get("profiles") or {}
    if profiles:
        # One finding per profile: the network a PC is on picks the profile that applies.
        findings = []
        for name, profile in profiles.items():
            label = PROFILE_NAMES.get(name, name)
            if profile.get("enabled") is not True:
                findings.append(finding(Verdict.fail, "profile_off", name, profile=label, engine=value.get("engine")))
            elif profile.get("blocks"):
                findings.append(
                    finding(Verdict.passed, "profile_blocks", name, profile=label, engine=value.get("engine"))
                )
            else:
                inbound = profile.get("default_inbound") or "?"
                findings.append(
                    finding(
                        Verdict.fail, "profile_open", name, profile=label, engine=value.get("engine"), inbound=inbound
                    )
                )
        return worst(findings)
    if not value.get("active"):
        return fail("no_firewall", engine=value.get("engine"), where=where)
    if value.get("default_inbound") == "drop":
        return passed("inbound_blocked", engine=value.get("engine"), where=where)
    return fail("inbound_open", engine=value.get("engine"), where=where)


@check("POS-03", reasons=("encrypted", "not_encrypted", "encryption_suspended", "encryption_in_progress", "no_volume"))
def disk_encryption(ctx: CheckContext) -> Outcome:
    volumes = ctx.fact("disk.encryption").get("volumes") or []
    if not volumes:
        return unknown("no_volume")
    return worst([_volume_finding(v) for v in volumes])


def _volume_finding(volume: dict[str, Any]) -> Finding:
    mount, state = volume["mount"], volume.get("state")
    if volume.get("encrypted") and state != "in_progress":
        return finding(Verdict.passed, "encrypted", mount, volumes=f"{mount} ({volume.get('scheme')})")
    described = f"{mount} ({volume.get('device')}, {volume.get('scheme')})"
    if state == "suspended":
        # The data is encrypted but its key is stored in clear on the disk: a thief reads everything.
        return finding(Verdict.fail, "encryption_suspended", mount, volumes=described)
    if state == "in_progress":
        # Nothing is protected until the conversion is done.
        return finding(Verdict.warn, "encryption_in_progress", mount, volumes=described)
    return finding(Verdict.fail, "not_encrypted", mount, volumes=f"{mount} ({volume.get('device')})")


@check("POS-04", reasons=("autorun_off", "autorun_prompt", "users_undetermined"))
def autorun(ctx: CheckContext) -> Outcome:
    value = ctx.fact("removable.autorun")
    sessions = value.get("sessions") or []
    # With user accounts to look at, theirs are what sessions get; otherwise the system-wide value.
    users = [s for s in sessions if s.get("user")] or sessions
    findings = []
    for session in users:
        who = session.get("user") or "réglage du système"
        if session.get("autorun_never") is True:
            findings.append(finding(Verdict.passed, "autorun_off", who, sessions=who))
        else:
            findings.append(finding(Verdict.warn, "autorun_prompt", who, sessions=who))
    findings += [
        finding(Verdict.unknown, "users_undetermined", u["user"], users=u["user"])
        for u in value.get("undetermined") or []
    ]
    if not findings:
        return unknown("users_undetermined", users="aucune session")
    return worst(findings)


@check(
    "POS-05",
    reasons=(
        "risky_filtered",
        "smb1_enabled",
        "smb1_unknown",
        "rdp_without_nla",
        "risky_exposed",
        "remote_tool_running",
        "exposed_services",
        "nothing_exposed",
        "remote_tool_installed",
    ),
)
def exposed_services(ctx: CheckContext) -> Outcome:
    findings: list[Finding] = []
    remote = ctx.optional("network.remote_access")
    if remote is not None and remote.status is FactStatus.observed:
        if remote.value.get("smb1_server"):
            findings.append(finding(Verdict.fail, "smb1_enabled", "SMBv1", how=remote.value.get("smb1_source") or "?"))
        elif remote.value.get("smb1_server") is None and "smb1_server" in remote.value:
            findings.append(finding(Verdict.unknown, "smb1_unknown", "SMBv1"))
        if remote.value.get("rdp_enabled") and remote.value.get("rdp_nla") is False:
            findings.append(finding(Verdict.fail, "rdp_without_nla", "RDP"))
    listeners = ctx.optional("network.listeners")
    if listeners is None or listeners.status is not FactStatus.observed:
        findings.append(ctx.unobserved("network.listeners"))
        exposed = []
    else:
        exposed = [s for s in listeners.value.get("sockets") or [] if s.get("exposed")]
    firewall = ctx.optional("firewall.state")
    # Listening, but the firewall refuses inbound connections unless a rule opens them.
    filtered = (
        firewall is not None
        and firewall.status is FactStatus.observed
        and bool(firewall.value.get("active"))
        and firewall.value.get("default_inbound") == "drop"
    )
    for s in exposed:
        where = f"{s['port']}/{s['proto']} sur {s['address']}"
        if (s["proto"], s["port"]) in RISKY_PORTS:
            service = f"{RISKY_PORTS[(s['proto'], s['port'])]} {where}"
            verdict, reason = (Verdict.warn, "risky_filtered") if filtered else (Verdict.fail, "risky_exposed")
        else:
            service = f"{s.get('process') or 'service'} {where}"
            verdict, reason = Verdict.warn, "exposed_services"
        findings.append(finding(verdict, reason, where, services=service))
    tools = ctx.optional("software.remote_control")
    for tool in tools.value.get("tools", []) if tools and tools.status is FactStatus.observed else []:
        if tool.get("running"):
            findings.append(finding(Verdict.warn, "remote_tool_running", tool["name"], tools=tool["name"]))
        else:
            findings.append(finding(Verdict.passed, "remote_tool_installed", tool["name"], tools=tool["name"]))
    outcome = worst(findings or [finding(Verdict.passed, "nothing_exposed")])
    # A failure stands whatever the answer; otherwise the person's answer about the rules counts too.
    return outcome if outcome.verdict is Verdict.fail else ctx.with_answer(outcome)


@check(
    "POS-06",
    reasons=("keys_only", "password_auth", "kbd_interactive_auth", "root_password", "empty_passwords_allowed"),
)
def ssh_hardening(ctx: CheckContext) -> Outcome:
    value = ctx.fact("ssh.server")
    effective = value.get("source") == "effective"
    source = "configuration effective" if effective else "fichiers de configuration"
    origins = value.get("origins") or {}

    def at(key: str) -> str:
        """Where the value was set: file and line, or sshd's own default."""
        return str(origins.get(key) or ("sshd -T" if effective else "valeur par défaut d'OpenSSH"))

    root = value.get("permitrootlogin", "")
    password = value.get("passwordauthentication", "") == "yes"
    keyboard = value.get("kbdinteractiveauthentication", "") == "yes"
    findings = []
    if value.get("permitemptypasswords") == "yes":
        findings.append(
            finding(
                Verdict.fail,
                "empty_passwords_allowed",
                at("permitemptypasswords"),
                source=source,
                where=at("permitemptypasswords"),
            )
        )
    if root == "yes" and (password or keyboard):
        findings.append(
            finding(Verdict.fail, "root_password", at("permitrootlogin"), source=source, where=at("permitrootlogin"))
        )
    if password:
        where = at("passwordauthentication")
        findings.append(finding(Verdict.warn, "password_auth", where, source=source, root=root, where=where))
    if keyboard:
        where = at("kbdinteractiveauthentication")
        findings.append(finding(Verdict.warn, "kbd_interactive_auth", where, source=source, root=root, where=where))
    return worst(findings or [finding(Verdict.passed, "keys_only", source=source, root=root)])


UNSYNCED_GRACE = timedelta(days=1)


def _uptime(ctx: CheckContext, value: dict[str, Any]) -> timedelta | None:
    booted = _iso(value.get("booted_at"))
    if booted is None:
        return None
    if booted.tzinfo is None:
        booted = booted.replace(tzinfo=ctx.collected_at.tzinfo)
    return ctx.collected_at - booted


@check(
    "POS-07",
    reasons=("synchronized", "sync_daemon", "not_synchronized", "never_synchronized", "service_stopped", "no_sync"),
)
def time_sync(ctx: CheckContext) -> Outcome:
    value = ctx.fact("time.sync")
    if value.get("synchronized") is True:
        return passed("synchronized", source=value.get("source"))
    if value.get("synchronized") is None and value.get("daemons"):
        return passed("sync_daemon", daemons=", ".join(value["daemons"]))
    if value.get("ntp_enabled"):
        if value.get("synchronized") is None and value.get("service_running") is False:
            return warn("service_stopped", source=value.get("source"))
        uptime = _uptime(ctx, value)
        if value.get("synchronized") is False and uptime is not None and uptime > UNSYNCED_GRACE:
            # Up for more than a day and still never synchronised: it will not fix itself.
            return fail("never_synchronized", source=value.get("source"), days=uptime.days)
        return warn("not_synchronized", source=value.get("source"))
    return fail("no_sync")
