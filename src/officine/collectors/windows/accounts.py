"""Windows accounts, logon and local security policy: SIDs and values, never localised names."""

from __future__ import annotations

import re
from typing import Any

from officine.collectors.registry import CollectContext, collector
from officine.collectors.windows.observe import objects
from officine.facts import Fact, observed, unknown
from officine.host.base import Host, Observation
from officine.parsers.windows import as_bool

# Built-in accounts by RID: Administrator, Guest, DefaultAccount, WDAGUtilityAccount.
BUILTIN_RIDS = ("500", "501", "503", "504")
# Groups whose membership is a whole population: in Administrators they make everyone an administrator.
EVERYONE_SIDS = {
    "S-1-1-0": "Everyone",
    "S-1-5-4": "INTERACTIVE",
    "S-1-5-11": "Authenticated Users",
    "S-1-5-32-545": "Users",
}
EVERYONE_DOMAIN_RIDS = ("513", "515")  # Domain Users, Domain Computers
# Domain groups expected in a domain PC's Administrators: Domain Admins, Enterprise Admins.
DOMAIN_ADMIN_RIDS = ("512", "519")
ENTRA_PREFIX = "S-1-12-1-"
ONLINE_SOURCES = ("MicrosoftAccount", "ActiveDirectory", "AzureAD")


def _rid(sid: object) -> str:
    return str(sid).rsplit("-", 1)[-1]


def _is_group(member: dict[str, Any]) -> bool:
    """A group principal, told by locale-independent facts: ADSI's schema class, a well-known SID, or
    Get-LocalGroupMember's ObjectClass (in the language seen: Group, Groupe, Gruppe)."""
    sid = str(member.get("SID") or "")
    kind = str(member.get("Class") or member.get("ObjectClass") or "").strip().lower()
    if sid in EVERYONE_SIDS or (
        sid.startswith("S-1-5-21-") and _rid(sid) in (*EVERYONE_DOMAIN_RIDS, *DOMAIN_ADMIN_RIDS)
    ):
        return True
    return kind in ("group", "groupe", "gruppe", "grupo", "gruppo")


def _group_kind(sid: str) -> str:
    if sid in EVERYONE_SIDS or (sid.startswith("S-1-5-21-") and _rid(sid) in EVERYONE_DOMAIN_RIDS):
        return "everyone"
    if sid.startswith("S-1-5-21-") and _rid(sid) in DOMAIN_ADMIN_RIDS:
        return "domain_admins"
    if sid.startswith(ENTRA_PREFIX):
        return "entra_role"
    return "other"


def _short(name: object) -> str:
    """`DOMAIN\\name` or an ADSI path `WinNT://DOMAIN/name` -> name."""
    text = str(name or "")
    return re.split(r"[\\/]", text)[-1] if text else ""


def admins_fact(users: list[dict[str, Any]], members: list[dict[str, Any]]) -> dict[str, Any]:
    """Enabled local accounts (built-ins excluded by RID) and the people in Administrators (S-1-5-32-544).
    Groups are not people: they are listed apart, with what they grant. Members are matched by SID;
    by name only when a capture carries no SID."""
    humans = sorted(
        str(u.get("Name")) for u in users if as_bool(u.get("Enabled")) and _rid(u.get("SID")) not in BUILTIN_RIDS
    )
    by_sid = {str(u.get("SID")): str(u.get("Name")) for u in users if u.get("SID")}
    builtin_enabled = any(
        as_bool(u.get("Enabled")) and _rid(u.get("SID")) == "500" for u in users if u.get("SID")
    ) or any(as_bool(u.get("Enabled")) and str(u.get("Name")) in ("Administrator", "Administrateur") for u in users)
    admins: set[str] = set()
    groups: list[dict[str, Any]] = []
    unresolved: list[str] = []
    for m in members:
        sid = str(m.get("SID") or "")
        name = _short(m.get("Name"))
        if _is_group(m):
            groups.append(
                {
                    "name": str(m.get("Name") or sid),
                    "sid": sid or None,
                    "source": str(m.get("PrincipalSource") or "") or None,
                    "kind": _group_kind(sid),
                }
            )
            continue
        local = by_sid.get(sid) if sid else (name if name in humans else None)
        if local is not None and local in humans:
            admins.add(local)
        elif sid.startswith(ENTRA_PREFIX) and (not name or name == sid):
            unresolved.append(sid)  # an Entra ID role or group whose name this PC cannot resolve
        elif str(m.get("PrincipalSource")) in ONLINE_SOURCES or (sid.startswith(ENTRA_PREFIX) and name):
            admins.add(name)  # an online, Entra ID or domain account used on this PC
    return {
        "humans": sorted(set(humans) | admins),
        "admins": sorted(admins),
        "extra_uid0": [],
        "groups": ["S-1-5-32-544"],
        "admin_groups": groups,
        "unresolved": unresolved,
        "builtin_admin_enabled": builtin_enabled,
    }


def _members(host: Host) -> tuple[list[Observation], list[dict[str, Any]] | Fact]:
    """Members of Administrators: Get-LocalGroupMember, else the same group read through ADSI."""
    m_obs, members = objects(host, "accounts.administrators")
    if not isinstance(members, Fact):
        return [m_obs], members
    a_obs, adsi = objects(host, "accounts.administrators_adsi")
    if isinstance(adsi, Fact):
        return [m_obs, a_obs], members
    return [m_obs, a_obs], adsi


def secpol_values(lines: list[str]) -> dict[str, int]:
    values = {}
    for line in lines:
        m = re.match(r"^(\w+) = (-?\d+)$", str(line).strip())
        if m:
            values[m.group(1)] = int(m.group(2))
    return values


def _autologin(values: dict[str, Any], users: list[dict[str, Any]] | Fact) -> dict[str, Any]:
    enabled = str(values.get("AutoAdminLogon", "0")).strip() == "1"
    if not enabled:
        return {"enabled": False, "entries": [], "managers": ["Winlogon"]}
    user = str(values.get("DefaultUserName") or "").strip()
    sid = str(values.get("AutoLogonSID") or "").strip()
    if not user and sid:
        # Only the account's SID is set (e.g. by Autologon tools): name it from the local accounts.
        named = [u for u in users if str(u.get("SID")) == sid] if isinstance(users, list) else []
        user = str(named[0].get("Name")) if named else sid
    return {
        "enabled": True,
        "entries": [
            {
                "manager": "Winlogon",
                "user": user or None,
                "file": "HKLM\\...\\Winlogon AutoAdminLogon=1" + (" AutoLogonSID" if sid else ""),
            }
        ],
        "managers": ["Winlogon"],
    }


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
    m_obs, members = _members(host)
    if isinstance(users, Fact):
        facts["accounts.admins"] = users
    elif isinstance(members, Fact):
        facts["accounts.admins"] = members
    else:
        facts["accounts.admins"] = observed(admins_fact(users, members), u_obs, *m_obs)

    w_obs, winlogon = objects(host, "logon.winlogon")
    if isinstance(winlogon, Fact):
        facts["accounts.autologin"] = winlogon
        facts["smartcard.removal_action"] = winlogon
    else:
        values = winlogon[0] if winlogon else {}
        facts["accounts.autologin"] = observed(_autologin(values, users), w_obs, u_obs)
        action = {"0": "none", "1": "lock", "2": "logoff", "3": "disconnect"}.get(
            str(values.get("ScRemoveOption", "0")).strip(), "none"
        )
        facts["smartcard.removal_action"] = observed({"action": action, "value": values.get("ScRemoveOption")}, w_obs)

    s_obs, secpol = objects(host, "accounts.security_policy", ctx.privileged)
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
            # -1: locked until an administrator unlocks the account.
            "unlock_time_s": None if duration is None or duration < 0 else duration * 60,
            "unlock_by_admin": duration is not None and duration < 0,
        },
        s_obs,
    )
    max_age = values.get("MaximumPasswordAge")
    facts["password.max_age"] = observed(
        {
            "days": 99999 if max_age is None or max_age in (-1, 0) else max_age,
            "setting": "MaximumPasswordAge",
            "raw": max_age,  # what the policy says (-1: never), quoted as is
            "explicit": max_age is not None,
        },
        s_obs,
    )
    return facts
