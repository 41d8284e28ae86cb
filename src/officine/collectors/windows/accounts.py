"""Windows accounts, logon and local security policy: SIDs and values, never localised names."""

from __future__ import annotations

import re
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host
from officine.parsers.windows import as_bool

# Built-in accounts by RID: Administrator, Guest, DefaultAccount, WDAGUtilityAccount.
BUILTIN_RIDS = ("500", "501", "503", "504")


def _rid(sid: object) -> str:
    return str(sid).rsplit("-", 1)[-1]


def admins_fact(users: list[dict[str, Any]], members: list[dict[str, Any]]) -> dict[str, Any]:
    """Enabled local accounts (built-ins excluded by RID) and those in Administrators (S-1-5-32-544).
    Members are matched by SID; by name only when a capture carries no SID."""
    humans = sorted(
        str(u.get("Name")) for u in users if as_bool(u.get("Enabled")) and _rid(u.get("SID")) not in BUILTIN_RIDS
    )
    by_sid = {str(u.get("SID")): str(u.get("Name")) for u in users if u.get("SID")}
    admins: set[str] = set()
    for m in members:
        sid, name = str(m.get("SID") or ""), str(m.get("Name", "")).split("\\")[-1]
        local = by_sid.get(sid) if sid else (name if name in humans else None)
        if local is not None and local in humans:
            admins.add(local)
        elif str(m.get("PrincipalSource")) in ("MicrosoftAccount", "ActiveDirectory", "AzureAD"):
            admins.add(name)  # an online or domain account used on this PC
    return {
        "humans": sorted(set(humans) | admins),
        "admins": sorted(admins),
        "extra_uid0": [],
        "groups": ["S-1-5-32-544"],
    }


def secpol_values(lines: list[str]) -> dict[str, int]:
    values = {}
    for line in lines:
        m = re.match(r"^(\w+) = (-?\d+)$", str(line).strip())
        if m:
            values[m.group(1)] = int(m.group(2))
    return values


@collector(
    "windows.accounts",
    platforms=("windows",),
    facts=(
        "accounts.admins",
        "accounts.autologin",
        "smartcard.removal_action",
        "password.min_length",
        "password.lockout",
        "password.max_age",
    ),
)
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    u_obs, users = objects(host, "accounts.local_users")
    m_obs, members = objects(host, "accounts.administrators")
    if isinstance(users, Fact):
        facts["accounts.admins"] = users
    elif isinstance(members, Fact):
        facts["accounts.admins"] = members
    else:
        facts["accounts.admins"] = observed(admins_fact(users, members), u_obs, m_obs)

    w_obs, winlogon = objects(host, "logon.winlogon")
    if isinstance(winlogon, Fact):
        facts["accounts.autologin"] = winlogon
        facts["smartcard.removal_action"] = winlogon
    else:
        values = winlogon[0] if winlogon else {}
        enabled = str(values.get("AutoAdminLogon", "0")).strip() == "1"
        entries = (
            [
                {
                    "manager": "Winlogon",
                    "user": values.get("DefaultUserName"),
                    "file": "HKLM\\...\\Winlogon AutoAdminLogon=1",
                }
            ]
            if enabled
            else []
        )
        facts["accounts.autologin"] = observed(
            {"enabled": enabled, "entries": entries, "managers": ["Winlogon"]}, w_obs
        )
        action = {"0": "none", "1": "lock", "2": "logoff", "3": "disconnect"}.get(
            str(values.get("ScRemoveOption", "0")).strip(), "none"
        )
        facts["smartcard.removal_action"] = observed({"action": action, "value": values.get("ScRemoveOption")}, w_obs)

    s_obs, secpol = objects(host, "accounts.security_policy")
    if isinstance(secpol, Fact):
        for name in ("password.min_length", "password.lockout", "password.max_age"):
            facts[name] = secpol
        return facts
    values = secpol_values(list(secpol[0].get("lines", []))) if secpol else {}
    if "MinimumPasswordLength" not in values:
        why = unknown("parse_error", "stratégie de sécurité locale vide", s_obs)
        for name in ("password.min_length", "password.lockout", "password.max_age"):
            facts[name] = why
        return facts
    length = values["MinimumPasswordLength"]
    facts["password.min_length"] = observed(
        {"value": length, "module": "stratégie de sécurité locale", "minlen": length, "credits": 0}, s_obs
    )
    deny = values.get("LockoutBadCount", 0)
    duration = values.get("LockoutDuration")
    facts["password.lockout"] = observed(
        {
            "enabled": deny > 0,
            "module": "stratégie de sécurité locale",
            "deny": deny,
            "unlock_time_s": None if duration is None else duration * 60,
        },
        s_obs,
    )
    max_age = values.get("MaximumPasswordAge", -1)
    facts["password.max_age"] = observed(
        {"days": 99999 if max_age in (-1, 0) else max_age, "setting": "MaximumPasswordAge", "explicit": True}, s_obs
    )
    return facts
