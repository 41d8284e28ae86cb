"""The audit of a password manager's entries: what is weak, common or leaked, reused, similar,
empty or expired, by entry title and never with the password.

The report (`AuditReport.to_json`) holds counts and entry titles only: it is what the database
stores, what MDP-04 and MDP-05 quote and what the dashboard shows. A title that contains one of
the passwords (someone wrote it there) is replaced by the entry's number."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from officine.passwords.estimate import estimate
from officine.passwords.lists import LEET_PLAIN, fold
from officine.passwords.pwned import PwnedFile
from officine.passwords.strength import assess_estimated, is_common
from officine.passwords.vault import Entry, Vault

KINDS = ("empty", "common", "leaked", "weak", "reused", "similar", "expired")
CODE = re.compile(r"\d{4,8}")  # a PIN kept in the vault: CNIL case 3 fits it
MIN_SIMILAR = 6  # shorter passwords are too many to call two of them similar
MIN_TITLE_SECRET = 4  # a password this long or longer is looked for in the titles
MAX_TITLE = 120


@dataclass(frozen=True)
class Finding:
    kind: str
    titles: tuple[str, ...]  # one title, or the titles of a group (reused, similar)
    detail: dict[str, Any] = field(default_factory=dict)  # numbers and codes only

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "titles": list(self.titles), "detail": self.detail}


@dataclass(frozen=True)
class AuditReport:
    source: str  # "keepass", "bitwarden", "firefox", "chrome"
    file_name: str
    audited_at: datetime
    entries: int  # entries with a password or a login (notes left out)
    case: int
    findings: tuple[Finding, ...]
    pwned_checked: bool

    def count(self, kind: str) -> int:
        """Entries concerned by a kind of finding (a reused group of 3 counts 3)."""
        return sum(len(f.titles) if kind in ("reused", "similar") else 1 for f in self.findings if f.kind == kind)

    @property
    def counts(self) -> dict[str, int]:
        return {k: self.count(k) for k in KINDS}

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "file_name": self.file_name,
            "audited_at": self.audited_at.isoformat(),
            "entries": self.entries,
            "case": self.case,
            "pwned_checked": self.pwned_checked,
            "counts": self.counts,
            "findings": [f.to_json() for f in self.findings],
        }


def analyse(
    vault: Vault,
    now: datetime,
    *,
    case: int = 1,
    context: Sequence[str] = (),
    pwned: PwnedFile | None = None,
    judge: Callable[[str, Sequence[str], int], tuple[bool, tuple[str, ...], bool]] | None = None,
) -> AuditReport:
    """`case`: the CNIL case an entry's password must meet (1 unless the accounts are known to
    block after errors); a code of 4 to 8 digits is judged as an unlock code (case 3)."""
    entries = [e for e in vault.entries if e.password or e.login]
    titles = _titles(entries)
    findings: list[Finding] = []
    by_password: dict[str, list[int]] = defaultdict(list)
    for i, entry in enumerate(entries):
        if entry.password:
            by_password[entry.password].append(i)
        elif entry.login:
            findings.append(Finding("empty", (titles[i],)))
        if entry.expires_at is not None and entry.expires_at < now:
            findings.append(Finding("expired", (titles[i],), {"since": entry.expires_at.date().isoformat()}))
    common = {p for p in by_password if is_common(p)}
    leaks = {p: n for p in by_password if p not in common and pwned is not None and (n := pwned.count(p))}
    to_judge = [(p, 3 if CODE.fullmatch(p) else case) for p in by_password if p not in common and p not in leaks]
    verdicts = _judge_all(to_judge, context, judge)
    for password, owners in by_password.items():
        owner_titles = tuple(titles[i] for i in owners)
        if password in common:
            findings += [Finding("common", (t,)) for t in owner_titles]
        elif password in leaks:
            findings += [Finding("leaked", (t,), {"times": leaks[password]}) for t in owner_titles]
        else:
            fits = 3 if CODE.fullmatch(password) else case
            acceptable, problems, meets_case_2 = verdicts[password]
            if not acceptable:
                detail = {"case": fits, "problems": list(problems), "meets_case_2": meets_case_2}
                findings += [Finding("weak", (t,), detail) for t in owner_titles]
        if len(owners) > 1:
            findings.append(Finding("reused", owner_titles, {"count": len(owners)}))
    for group in _similar_groups(list(by_password)):
        group_titles = tuple(titles[i] for p in group for i in by_password[p])
        findings.append(Finding("similar", group_titles, {"passwords": len(group)}))
    order = {k: i for i, k in enumerate(KINDS)}
    findings.sort(key=lambda f: (order[f.kind], f.titles))
    return AuditReport(vault.kind, vault.name, now, len(entries), case, tuple(findings), pwned is not None)


Verdict = tuple[bool, tuple[str, ...], bool]


def _judge_all(
    items: list[tuple[str, int]],
    context: Sequence[str],
    judge: Callable[[str, Sequence[str], int], Verdict] | None,
) -> dict[str, Verdict]:
    """Each distinct password judged once. (Worker processes were tried: on two busy cores they
    brought nothing, see docs/benchmarks.md.)"""
    run = judge or _judge
    return {p: run(p, context, c) for p, c in items}


def _judge(password: str, context: Sequence[str], case: int) -> tuple[bool, tuple[str, ...], bool]:
    """(acceptable, problems, acceptable for case 2), from one estimate."""
    guessed = estimate(password, context)
    result = assess_estimated(password, guessed, case)
    meets_2 = result.acceptable or (case == 1 and assess_estimated(password, guessed, 2).acceptable)
    return result.acceptable, result.problems, meets_2


def _titles(entries: list[Entry]) -> list[str]:
    """Each entry's title as shown in the report: its own (cut to 120 characters), numbered when
    two are alike, masked when it contains a password of the vault."""
    by_gram: dict[str, set[str]] = defaultdict(set)  # first 4 letters of a password -> passwords
    for e in entries:
        if len(e.password) >= MIN_TITLE_SECRET:
            secret = fold(e.password)
            by_gram[secret[:MIN_TITLE_SECRET]].add(secret)
    shown: list[str] = []
    seen: dict[str, int] = defaultdict(int)
    for number, entry in enumerate(entries, 1):
        title = " ".join(entry.title.split())[:MAX_TITLE] or f"entrée n° {number} (sans titre)"
        folded = fold(entry.title)
        grams = {folded[i : i + MIN_TITLE_SECRET] for i in range(len(folded) - MIN_TITLE_SECRET + 1)}
        if any(secret in folded for gram in grams & by_gram.keys() for secret in by_gram[gram]):
            title = f"entrée n° {number} (titre masqué : il contient un mot de passe)"
        seen[title] += 1
        shown.append(title if seen[title] == 1 else f"{title} ({seen[title]})")
    return shown


def _skeleton(password: str) -> str:
    """What is left once digits, symbols, case and leetspeak are set aside: "Pharmacie2023!"
    and "pharmacie2024?" share "pharmacie"."""
    return re.sub(r"[^a-z]", "", fold(password).translate(LEET_PLAIN))


def _similar_groups(passwords: list[str]) -> list[list[str]]:
    """Groups of different passwords that are variants of one another: the same letters once
    digits, symbols and case are set aside, or one character apart (a deletion neighbourhood,
    linear in the number of passwords)."""
    parent = list(range(len(passwords)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[root(i)] = root(j)

    keys: dict[str, int] = {}
    for i, password in enumerate(passwords):
        if len(password) < MIN_SIMILAR:
            continue
        variants = {"s:" + s} if len(s := _skeleton(password)) >= MIN_SIMILAR else set()
        variants |= {"d:" + password} | {"d:" + password[:k] + password[k + 1 :] for k in range(len(password))}
        for key in variants:
            if key in keys:
                join(i, keys[key])
            else:
                keys[key] = i
    groups: dict[int, list[str]] = defaultdict(list)
    for i, password in enumerate(passwords):
        groups[root(i)].append(password)
    return [g for g in groups.values() if len(g) > 1]
