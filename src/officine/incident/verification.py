"""Judging a journal: its chain, its anchor, and what each break means, in French.

Three kinds of findings:
- **altered**: the file says something else than what was written (an entry modified, deleted,
  swapped, renumbered, a line inserted, the end cut, the file emptied or deleted);
- **unproven**: the chain holds but its end cannot be proven (no anchor to compare with, entries
  the anchor never saw);
- **notice**: an event officine itself explains (a write interrupted by a crash or a power cut,
  kept in the file and recorded in the chain).

A journal is intact only without any altered or unproven finding.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from officine.incident.anchor import ANNOUNCED, WRITTEN, AnchorRow
from officine.incident.chain import GENESIS, INTERRUPTED, entry_hash, parse, split

ALTERED, UNPROVEN, NOTICE = "altered", "unproven", "notice"
# Renumbering is found by trying other sequence numbers against the hash: bounded work.
SEARCH_BUDGET = 200_000


@dataclass(frozen=True)
class Problem:
    kind: str  # modified, deleted, end_cut, emptied, file_deleted, swapped, moved, renumbered, duplicated,
    # chain_broken, replaced, unreadable, trace_removed, no_opening, unanchored, anchor_unavailable,
    # interrupted, unconfirmed
    severity: str
    message: str
    seq: int | None = None
    line: int | None = None


@dataclass
class Verification:
    entries: list[dict[str, Any]] = field(default_factory=list)  # readable entries, in file order
    problems: list[Problem] = field(default_factory=list)
    anchored: bool = False  # an anchor was read and compared

    @property
    def status(self) -> str:
        """intact, unproven or altered."""
        severities = {p.severity for p in self.problems}
        return ALTERED if ALTERED in severities else UNPROVEN if UNPROVEN in severities else "intact"

    @property
    def ok(self) -> bool:
        return self.status == "intact"

    @property
    def findings(self) -> list[Problem]:
        """What makes the journal not intact (altered, then unproven)."""
        return [p for p in self.problems if p.severity == ALTERED] + [
            p for p in self.problems if p.severity == UNPROVEN
        ]

    @property
    def notices(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == NOTICE]

    @property
    def head(self) -> tuple[int, str] | None:
        """Sequence number and hash of the highest entry of the file."""
        if not self.entries:
            return None
        last = max(self.entries, key=lambda e: int(e["seq"]))
        return int(last["seq"]), str(last["hash"])

    @property
    def last_hash(self) -> str:
        head = self.head
        return head[1] if head else GENESIS

    def has(self, kind: str) -> bool:
        return any(p.kind == kind for p in self.problems)


def runs(numbers: Iterable[int]) -> str:
    """ "n° 3 à 5, n° 8" for [3, 4, 5, 8]."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = prev = None
    for n in [*ordered, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None and prev is not None:
            parts.append(f"n° {start}" if start == prev else f"n° {start} à {prev}")
        start = prev = n
    return ", ".join(parts)


def _plural(numbers: Sequence[int], one: str, many: str) -> str:
    return one if len(numbers) == 1 else many


@dataclass
class _Line:
    number: int
    raw: bytes
    entry: dict[str, Any] | None
    complete: bool


class _Checker:
    def __init__(
        self,
        data: bytes | None,
        rows: Sequence[AnchorRow] | None,
        anchor_error: str | None,
        opening: str | None,
    ) -> None:
        self.data = data
        self.rows = rows
        self.anchor_error = anchor_error
        self.opening = opening
        self.result = Verification(anchored=rows is not None)
        self.budget = SEARCH_BUDGET
        self.written: dict[int, list[str]] = {}
        self.announced: dict[int, list[str]] = {}
        for row in rows or []:
            target = self.written if row.state == WRITTEN else self.announced if row.state == ANNOUNCED else None
            if target is not None:
                target.setdefault(row.seq, []).append(row.hash)
        self.anchor_head = max(self.written) if self.written else 0

    def add(self, kind: str, severity: str, message: str, seq: int | None = None, line: int | None = None) -> None:
        self.result.problems.append(Problem(kind, severity, message, seq, line))

    # -- the whole file --------------------------------------------------------------------
    def run(self) -> Verification:
        if self.anchor_error is not None:
            self.add(
                "anchor_unavailable",
                UNPROVEN,
                f"ancre inaccessible ({self.anchor_error}) : seule la chaîne a été vérifiée, "
                "la fin du journal n'est pas prouvée",
            )
        if self.data is None or not self.data.strip():
            self._empty()
            return self.result
        lines = self._lines()
        self._acknowledged(lines)
        by_seq = self._entries(lines)
        self._order()
        self._missing(by_seq)
        self._links(by_seq)
        self._anchor(by_seq)
        self._opening(by_seq)
        return self.result

    def _empty(self) -> None:
        if self.written:
            if self.data is None:
                self.add(
                    "file_deleted",
                    ALTERED,
                    f"le fichier du journal a été supprimé (l'ancre compte {self.anchor_head} entrée(s))",
                )
            else:
                self.add("emptied", ALTERED, f"le journal a été vidé (l'ancre compte {self.anchor_head} entrée(s))")
        elif self.announced:
            self.add(
                "interrupted",
                UNPROVEN,
                "journal vide : sa première écriture a été annoncée mais jamais confirmée (écriture interrompue, "
                "ou journal vidé avant sa confirmation)",
            )
        elif self.opening is not None:
            what = "absent" if self.data is None else "vide"
            self.add("no_opening", ALTERED, f"journal {what} : l'incident n'a pas d'entrée d'ouverture")

    def _lines(self) -> list[_Line]:
        complete, tail = split(self.data or b"")
        lines = [_Line(n, raw, parse(raw), True) for n, raw in enumerate(complete, start=1)]
        if tail:
            lines.append(_Line(len(complete) + 1, tail, parse(tail), False))
        return lines

    def _acknowledged(self, lines: list[_Line]) -> None:
        """Lines left incomplete by an interrupted write, which a later entry recorded by hash."""
        self.acks: dict[int, int] = {}
        for line in lines:
            e = line.entry
            if e is None or e.get("action") != INTERRUPTED or not isinstance(e.get("details"), dict):
                continue
            target, digest = e["details"].get("line"), e["details"].get("sha256")
            if not isinstance(target, int) or isinstance(target, bool):
                continue
            kept = lines[target - 1] if 1 <= target <= len(lines) else None
            if kept is not None and kept.entry is None and hashlib.sha256(kept.raw).hexdigest() == digest:
                self.acks[target] = e["seq"]
                self.add(
                    "interrupted",
                    NOTICE,
                    f"une écriture a été interrompue (ligne {target}, {len(kept.raw)} octets conservés) ; "
                    f"l'entrée n° {e['seq']} le consigne : l'action alors en cours n'a pas été enregistrée",
                    e["seq"],
                    target,
                )
            else:
                self.add(
                    "trace_removed",
                    ALTERED,
                    f"la trace de l'écriture interrompue consignée à l'entrée n° {e['seq']} (ligne {target}) "
                    "a été supprimée ou modifiée",
                    e["seq"],
                    target,
                )

    def _entries(self, lines: list[_Line]) -> dict[int, dict[str, Any]]:
        """Each readable entry under its original number; modified and renumbered ones named."""
        self.true_seq: dict[int, int] = {}  # line number -> original sequence number
        by_seq: dict[int, dict[str, Any]] = {}
        limit = min(max(len(lines), self.anchor_head) + 2, 10_000)
        for line in lines:
            e = line.entry
            if e is None:
                if line.number in self.acks:
                    continue
                if not line.complete:
                    self._torn_tail(line)
                else:
                    self.add(
                        "unreadable",
                        ALTERED,
                        f"ligne {line.number} illisible ou de forme inattendue : elle n'a pas été écrite par "
                        "officine-cyber",
                        line=line.number,
                    )
                continue
            self.result.entries.append(e)
            seq = int(e["seq"])
            if entry_hash_matches(e, seq):
                original = seq
            else:
                found = self._original_seq(e, limit)
                if found is not None:
                    original = found
                    self.add(
                        "renumbered",
                        ALTERED,
                        f"l'entrée n° {found} a été renumérotée en n° {seq} (ligne {line.number})",
                        found,
                        line.number,
                    )
                else:
                    original = seq
                    self.add(
                        "modified",
                        ALTERED,
                        f"l'entrée n° {seq} a été modifiée après son écriture (ligne {line.number})",
                        seq,
                        line.number,
                    )
            if original in by_seq:
                self.add(
                    "duplicated",
                    ALTERED,
                    f"l'entrée n° {original} figure deux fois (ligne {line.number})",
                    original,
                    line.number,
                )
                continue
            by_seq[original] = e
            self.true_seq[line.number] = original
        return by_seq

    def _original_seq(self, entry: dict[str, Any], limit: int) -> int | None:
        for candidate in range(1, limit + 1):
            if self.budget <= 0:
                return None
            self.budget -= 1
            if candidate != entry["seq"] and entry_hash_matches(entry, candidate):
                return candidate
        return None

    def _torn_tail(self, line: _Line) -> None:
        size = len(line.raw)
        if self.rows is None:
            self.add(
                "interrupted",
                NOTICE,
                f"la dernière écriture a été interrompue (ligne {line.number}, {size} octets) : "
                "entrée incomplète, gardée telle quelle",
                line=line.number,
            )
            return
        last = max((int(e["seq"]) for e in self.result.entries), default=0)
        # The entries read so far are all before the tail: the one being written was last + 1.
        if last + 1 in self.announced:
            self.add(
                "interrupted",
                NOTICE,
                f"la dernière écriture d'officine-cyber a été interrompue (ligne {line.number}, {size} octets "
                "gardés) : l'entrée alors en cours n'a pas été enregistrée",
                line=line.number,
            )
        else:
            self.add(
                "unanchored",
                UNPROVEN,
                f"ligne {line.number} incomplète à la fin du journal, que l'ancre n'annonçait pas",
                line=line.number,
            )

    # -- order, gaps, links ---------------------------------------------------------------------
    def _order(self) -> None:
        order = [(n, s) for n, s in self.true_seq.items()]
        seqs = [s for _, s in order]
        expected = sorted(seqs)
        if seqs == expected:
            return
        wrong = [i for i, (a, b) in enumerate(zip(seqs, expected, strict=True)) if a != b]
        if len(wrong) == 2 and seqs[wrong[0]] == expected[wrong[1]] and seqs[wrong[1]] == expected[wrong[0]]:
            (la, sa), (lb, sb) = order[wrong[0]], order[wrong[1]]
            first, second = sorted((sa, sb))
            self.add(
                "swapped",
                ALTERED,
                f"les entrées n° {first} et n° {second} ont été interverties (lignes {la} et {lb})",
                first,
                la,
            )
            return
        keep = set(_longest_increasing(seqs))
        for number, seq in order:
            if seq not in keep:
                self.add("moved", ALTERED, f"l'entrée n° {seq} a été déplacée (ligne {number})", seq, number)

    def _missing(self, by_seq: dict[int, dict[str, Any]]) -> None:
        top = max(by_seq, default=0)
        inside = [s for s in range(1, top) if s not in by_seq]
        if inside:
            self.add(
                "deleted",
                ALTERED,
                _plural(inside, "entrée ", "entrées ")
                + runs(inside)
                + _plural(inside, " supprimée", " supprimées")
                + (" (dont l'ouverture de l'incident)" if 1 in inside and self.opening else ""),
                inside[0],
            )
        beyond = list(range(top + 1, self.anchor_head + 1))
        if beyond and by_seq:
            self.add(
                "end_cut",
                ALTERED,
                f"la fin du journal a été coupée : {_plural(beyond, 'entrée', 'entrées')} {runs(beyond)} "
                f"{_plural(beyond, 'supprimée', 'supprimées')} (l'ancre compte {self.anchor_head} entrées)",
                beyond[0],
            )
        elif beyond:
            self.add(
                "emptied",
                ALTERED,
                f"le journal ne contient plus aucune entrée lisible (l'ancre en compte {self.anchor_head})",
            )

    def _links(self, by_seq: dict[int, dict[str, Any]]) -> None:
        self.broken: set[int] = set()
        for seq in sorted(by_seq):
            entry = by_seq[seq]
            if seq == 1:
                if entry["prev"] != GENESIS:
                    self.broken.add(seq)
                    self.add(
                        "chain_broken",
                        ALTERED,
                        "l'entrée n° 1 ne commence pas la chaîne : le début du journal a été remplacé",
                        1,
                    )
                continue
            before = by_seq.get(seq - 1)
            if before is None or entry["prev"] == before["hash"]:
                continue
            was = self._renumbered_with_new_hash(before, entry["prev"])
            self.broken.add(seq)
            if was is not None:
                self.add(
                    "renumbered",
                    ALTERED,
                    f"l'entrée n° {was} a été renumérotée en n° {before['seq']}, empreinte recalculée",
                    was,
                )
            else:
                self.add(
                    "chain_broken",
                    ALTERED,
                    f"l'entrée n° {seq} ne suit plus l'entrée n° {seq - 1} : l'une des deux a été réécrite "
                    "avec une empreinte recalculée, ou une entrée a été insérée",
                    seq,
                )

    def _renumbered_with_new_hash(self, entry: dict[str, Any], successor_prev: str) -> int | None:
        limit = min(max(len(self.result.entries), self.anchor_head) + 2, 10_000)
        for candidate in range(1, limit + 1):
            if self.budget <= 0:
                return None
            self.budget -= 1
            if candidate != entry["seq"] and _hash_with_seq(entry, candidate) == successor_prev:
                return candidate
        return None

    # -- the anchor -----------------------------------------------------------------------------
    def _anchor(self, by_seq: dict[int, dict[str, Any]]) -> None:
        if self.rows is None:
            return
        if not self.written and not self.announced:
            if by_seq:
                self.add(
                    "unanchored",
                    UNPROVEN,
                    "ce journal n'a jamais été ancré (écrit par une version plus ancienne, ou sans accès à la "
                    "base de données) : sa fin n'est pas prouvée",
                )
            return
        replaced = [
            seq
            for seq, hashes in self.written.items()
            if seq in by_seq and any(h != by_seq[seq]["hash"] for h in hashes)
        ]
        for seq in sorted(replaced):
            self.add(
                "replaced",
                ALTERED,
                f"l'entrée n° {seq} n'est plus celle qui avait été écrite (l'ancre garde une autre empreinte)",
                seq,
            )
        unconfirmed = [
            seq for seq in by_seq if seq not in self.written and by_seq[seq]["hash"] in self.announced.get(seq, [])
        ]
        for seq in unconfirmed:
            self.add(
                "unconfirmed",
                NOTICE,
                f"l'entrée n° {seq} a été écrite, mais sa confirmation dans l'ancre a été interrompue ; "
                "elle correspond à ce qu'officine-cyber avait annoncé",
                seq,
            )
        strangers = [seq for seq in by_seq if seq not in self.written and seq not in unconfirmed]
        if strangers:
            self.add(
                "unanchored",
                UNPROVEN,
                f"{_plural(strangers, 'entrée', 'entrées')} {runs(strangers)} absente(s) de l'ancre : "
                "ajoutée(s) hors d'officine-cyber, ou écrite(s) quand la base de données était inaccessible",
                min(strangers),
            )

    def _opening(self, by_seq: dict[int, dict[str, Any]]) -> None:
        if self.opening is None or 1 not in by_seq:
            return
        if by_seq[1].get("action") != self.opening:
            self.add("no_opening", ALTERED, "la première entrée n'est pas l'ouverture de l'incident", 1)


def entry_hash_matches(entry: dict[str, Any], seq: int) -> bool:
    return _hash_with_seq(entry, seq) == str(entry["hash"])


def _hash_with_seq(entry: dict[str, Any], seq: int) -> str:
    return entry_hash({**entry, "seq": seq})


def _longest_increasing(values: list[int]) -> list[int]:
    """One longest increasing subsequence (patience sorting): what stayed in place."""
    tails: list[int] = []
    tails_at: list[int] = []
    parent: list[int] = [-1] * len(values)
    for i, v in enumerate(values):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tails_at.append(i)
        else:
            tails[k] = v
            tails_at[k] = i
        parent[i] = tails_at[k - 1] if k else -1
    out: list[int] = []
    i = tails_at[-1] if tails_at else -1
    while i >= 0:
        out.append(values[i])
        i = parent[i]
    return out[::-1]


def verify(
    path: Path,
    rows: Sequence[AnchorRow] | None = None,
    anchor_error: str | None = None,
    opening: str | None = None,
) -> Verification:
    """Check a journal file. Without `rows`, only the chain is checked: its end is then not proven
    (a `Journal` with an anchor passes its rows). `opening`: the action the first entry must be."""
    try:
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        result = Verification(anchored=rows is not None)
        result.problems.append(
            Problem("unreadable", UNPROVEN, f"journal illisible ({exc.strerror or exc}) : rien n'a pu être vérifié")
        )
        return result
    return _Checker(data, rows, anchor_error, opening).run()
