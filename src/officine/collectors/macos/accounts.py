"""macOS accounts: screen lock, administrators, password policy (outputs are English whatever the
user's language)."""

from __future__ import annotations

from typing import Any

from officine.collectors.macos.protection import parsed, refused_without_rights
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers import ParseError
from officine.parsers.macos import (
    parse_defaults_int,
    parse_group_membership,
    parse_pwpolicy,
    parse_screenlock,
    parse_user_ids,
)

SCREENLOCK = ["sysadminctl", "-screenLock", "status"]
IDLE_TIME = ["defaults", "-currentHost", "read", "com.apple.screensaver", "idleTime"]
ADMIN_GROUP = ["dscl", ".", "-read", "/Groups/admin", "GroupMembership"]
USER_IDS = ["dscl", ".", "-list", "/Users", "UniqueID"]
PWPOLICY = ["pwpolicy", "-getaccountpolicies"]
FIRST_USER_UID = 501
COLLECTING_USER = "session qui a fait la collecte"  # the account is not named by these commands


def screenlock(lock: Observation, idle: Observation) -> Fact:
    delay = parsed(lock, parse_screenlock, "sysadminctl -screenLock status")
    if isinstance(delay, Fact):
        return delay
    undetermined: list[dict[str, Any]] = []
    sessions: list[dict[str, Any]] = []
    if delay is None:  # no password asked after the screen saver or sleep
        sessions.append({"user": COLLECTING_USER, "scope": "user", "lock_after_s": None, "source": "sysadminctl"})
    else:
        try:
            seconds = parse_defaults_int(idle.output or "") if idle.ok and idle.exit_code == 0 else None
        except ParseError:
            seconds = None
        if seconds:
            sessions.append(
                {
                    "user": COLLECTING_USER,
                    "scope": "user",
                    "lock_after_s": seconds + delay,
                    "source": "économiseur d'écran + sysadminctl",
                }
            )
        else:
            why = "délai de l'économiseur d'écran non réglé ou non lu (la mise en veille de l'écran n'est pas lue)"
            undetermined.append({"user": COLLECTING_USER, "detail": why})
    return observed(
        {"desktops": [{"desktop": "macos", "sessions": sessions, "undetermined": undetermined}]}, lock, idle
    )


def admins(group: Observation, users: Observation) -> Fact:
    if not group.ok or group.exit_code not in (0, None):
        return unknown_from(group, "dscl admin")
    try:
        members = [m for m in parse_group_membership(group.output or "") if m != "root" and not m.startswith("_")]
    except ParseError as exc:
        return unknown("parse_error", str(exc), group)
    try:
        ids = parse_user_ids(users.output or "") if users.ok else None
    except ParseError:
        ids = None
    if ids is not None:
        humans = sorted(n for n, uid in ids.items() if uid >= FIRST_USER_UID and not n.startswith("_"))
    else:
        humans = sorted(members)
    return observed(
        {
            "humans": sorted(set(humans) | set(members)),
            "admins": sorted(members),
            "extra_uid0": [],
            "groups": ["admin"],
            "humans_complete": ids is not None,
        },
        group,
        users,
    )


def password_facts(obs: Observation, privileged: bool | None = None) -> dict[str, Fact]:
    names = ("password.min_length", "password.lockout", "password.max_age")
    policy = parsed(obs, parse_pwpolicy, "pwpolicy")
    if isinstance(policy, Fact):
        # Without administrator rights pwpolicy prints no policy: a refusal, not a misunderstood answer.
        return dict.fromkeys(names, refused_without_rights(policy, obs, "pwpolicy -getaccountpolicies", privileged))
    length = policy["min_length"] or 0
    failed, expires = policy["max_failed"], policy["expires_days"]
    return {
        "password.min_length": observed(
            {"value": length, "module": "pwpolicy" if length else None, "minlen": length, "credits": 0}, obs
        ),
        "password.lockout": observed(
            {"enabled": bool(failed), "module": "pwpolicy", "deny": failed, "unlock_time_s": None}, obs
        ),
        "password.max_age": observed(
            {
                "days": expires if expires else 99999,
                "setting": "policyAttributeExpiresEveryNDays",
                "explicit": expires is not None,
            },
            obs,
        ),
    }


@collector(
    "macos.accounts",
    platforms=("macos",),
    facts=("screenlock.sessions", "accounts.admins", "password.min_length", "password.lockout", "password.max_age"),
)
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    facts = {
        "screenlock.sessions": screenlock(host.run(SCREENLOCK), host.run(IDLE_TIME)),
        "accounts.admins": admins(host.run(ADMIN_GROUP), host.run(USER_IDS)),
    }
    facts.update(password_facts(host.run(PWPOLICY), ctx.privileged))
    return facts
