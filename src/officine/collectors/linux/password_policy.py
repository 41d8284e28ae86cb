"""Password length, lockout after failures and forced expiry, from PAM and its modules' files."""

from __future__ import annotations

from typing import Any

from officine.collectors.linux.common import login_defs, read_dir_files
from officine.collectors.linux.includes import Expansion
from officine.collectors.registry import CollectContext, collector
from officine.facts import Fact, observed, unknown, unknown_from
from officine.host.base import Host, Observation
from officine.parsers.pam import PamLine, parse_pam
from officine.parsers.text import parse_space_config

PASSWORD_STACKS = (
    "/etc/pam.d/common-password",
    "/etc/pam.d/system-auth",
    "/etc/pam.d/password-auth",
    "/etc/pam.d/passwd",
)
AUTH_STACKS = (
    "/etc/pam.d/common-auth",
    "/etc/pam.d/system-auth",
    "/etc/pam.d/password-auth",
    "/etc/pam.d/login",
)
QUALITY_MODULES = ("pam_pwquality.so", "pam_cracklib.so")
# Built-in defaults of the modules when no option is given.
PWQUALITY_DEFAULT_MINLEN = 8
CRACKLIB_DEFAULT_MINLEN = 9
UNIX_DEFAULT_MINLEN = 6
FAILLOCK_DEFAULT_DENY = 3
FAILLOCK_DEFAULT_UNLOCK = 600


def _stack(host: Host, path: str, used: list[Observation]) -> tuple[list[PamLine], str | None]:
    """A PAM file with its @include / include / substack lines expanded (each file once), and
    the problem that stopped the expansion, if any (a loop, too deep, too large)."""
    expansion = Expansion(host, used)
    lines: list[PamLine] = []

    def expand(file: str, chain: tuple[str, ...]) -> None:
        obs = expansion.enter(file, chain)
        if obs is None or not obs.ok:
            return
        for line in parse_pam(obs.output or ""):
            if line.type == "include" or line.control in ("include", "substack"):
                target = line.module if line.module.startswith("/") else f"/etc/pam.d/{line.module}"
                expand(target, (*chain, file))
            elif expansion.keep():
                lines.append(line)
            if expansion.problem is not None:
                return

    expand(path, ())
    return lines, expansion.problem


def _stacks(host: Host, paths: tuple[str, ...], used: list[Observation]) -> tuple[list[PamLine], str | None]:
    lines: list[PamLine] = []
    for path in paths:
        found, problem = _stack(host, path, used)
        if problem is not None:
            return [], f"{path} : {problem}"
        lines += found
    return lines, None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def min_length(lines: list[PamLine], pwq_conf: dict[str, str]) -> dict[str, Any] | None:
    """The shortest password the stack accepts, with the module that decides it."""
    best: dict[str, Any] | None = None
    for line in lines:
        if line.type != "password":
            continue
        if line.module in QUALITY_MODULES:
            is_pwq = line.module == "pam_pwquality.so"
            options = {**(pwq_conf if is_pwq else {}), **line.args}
            default = PWQUALITY_DEFAULT_MINLEN if is_pwq else CRACKLIB_DEFAULT_MINLEN
            minlen = _int(options.get("minlen")) or default
            # Positive credits let each character class count as extra length.
            credits = sum(
                max(_int(options.get(c)) or (0 if is_pwq else 1), 0)
                for c in ("dcredit", "ucredit", "lcredit", "ocredit")
            )
            effective = max(6, minlen - credits)
            candidate = {"value": effective, "module": line.module, "minlen": minlen, "credits": credits}
        elif line.module == "pam_unix.so":
            effective = _int(line.args.get("minlen")) or UNIX_DEFAULT_MINLEN
            candidate = {"value": effective, "module": line.module, "minlen": effective, "credits": 0}
        else:
            continue
        if best is None or candidate["value"] > best["value"]:
            best = candidate
    return best


def lockout(lines: list[PamLine], faillock_conf: dict[str, str]) -> dict[str, Any]:
    for line in lines:
        if line.type != "auth":
            continue
        if line.module == "pam_faillock.so":
            options = {**faillock_conf, **line.args}
            deny = _int(options.get("deny"))
            deny = FAILLOCK_DEFAULT_DENY if deny is None else deny
            unlock = _int(options.get("unlock_time"))
            return {
                "enabled": deny > 0,
                "module": line.module,
                "deny": deny,
                "unlock_time_s": FAILLOCK_DEFAULT_UNLOCK if unlock is None else unlock,
            }
        if line.module in ("pam_tally2.so", "pam_tally.so"):
            deny = _int(line.args.get("deny")) or 0
            return {
                "enabled": deny > 0,
                "module": line.module,
                "deny": deny,
                "unlock_time_s": _int(line.args.get("unlock_time")),
            }
    return {"enabled": False, "module": None, "deny": None, "unlock_time_s": None}


@collector(
    "linux.password_policy",
    platforms=("linux",),
    facts=("password.min_length", "password.lockout", "password.max_age"),
)
def collect(host: Host, ctx: CollectContext) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    used: list[Observation] = []
    pw_lines, pw_problem = _stacks(host, PASSWORD_STACKS, used)
    found_stack = [o for o in used if o.ok]
    pwq_files = [
        host.read_file("/etc/security/pwquality.conf"),
        *read_dir_files(host, "/etc/security/pwquality.conf.d", (".conf",)),
    ]
    pwq: dict[str, str] = {}
    for obs in pwq_files:
        if obs.ok:
            pwq.update(parse_space_config(obs.output or ""))
    if pw_problem is not None:
        facts["password.min_length"] = unknown("parse_error", pw_problem, *found_stack)
    elif not found_stack:
        first = used[0] if used else host.read_file(PASSWORD_STACKS[0])
        facts["password.min_length"] = unknown_from(first, "configuration PAM des mots de passe")
    else:
        length = min_length(pw_lines, pwq)
        if length is None:
            facts["password.min_length"] = observed({"value": 0, "module": None}, *found_stack, *pwq_files)
        else:
            facts["password.min_length"] = observed(length, *found_stack, *pwq_files)

    auth_used: list[Observation] = []
    auth_lines, auth_problem = _stacks(host, AUTH_STACKS, auth_used)
    auth_found = [o for o in auth_used if o.ok]
    fl = host.read_file("/etc/security/faillock.conf")
    if auth_problem is not None:
        facts["password.lockout"] = unknown("parse_error", auth_problem, *auth_found)
    elif not auth_found:
        facts["password.lockout"] = unknown_from(auth_used[0], "configuration PAM d'authentification")
    else:
        facts["password.lockout"] = observed(
            lockout(auth_lines, parse_space_config(fl.output or "") if fl.ok else {}), *auth_found, fl
        )

    defs_obs, defs = login_defs(host)
    if not defs_obs.ok:
        facts["password.max_age"] = unknown_from(defs_obs, "/etc/login.defs")
    else:
        days = _int(defs.get("PASS_MAX_DAYS"))
        if "PASS_MAX_DAYS" in defs and days is None:
            facts["password.max_age"] = unknown("parse_error", f"PASS_MAX_DAYS = {defs['PASS_MAX_DAYS']!r}", defs_obs)
        else:
            facts["password.max_age"] = observed(
                {
                    "days": 99999 if days is None else days,
                    "setting": "PASS_MAX_DAYS",
                    "explicit": days is not None,
                },
                defs_obs,
            )
    return facts
