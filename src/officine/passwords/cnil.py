"""CNIL deliberation 2022-100 (21 July 2022): which of its cases a password satisfies.

The CNIL counts entropy from the size of the character pool, as if every character had been
drawn at random: log2(pool ** length), with 26 lower-case letters, 26 capitals, 10 digits and
37 special characters (the AZERTY keyboard's, 99 symbols in all). Any other character (an
accented letter, a space) counts among the special characters. The deliberation gives examples
that meet each case; its first example (12 characters of the four kinds: 12 x log2(99) = 79.6
bits) is deemed to meet the 80 bits of case 1, so an example met is a case met.

Pool entropy says nothing of guessability ("Pharmacie2024!" has the four kinds): `strength`
adds the estimate of guesses."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

LOWER, UPPER, DIGITS, SPECIAL = 26, 26, 10, 37
CLASS_SIZES = {"minuscules": LOWER, "majuscules": UPPER, "chiffres": DIGITS, "speciaux": SPECIAL}
# Minimum entropy of each case, in bits.
CASE_BITS = {1: 80.0, 2: 50.0, 3: 13.0}
CASES = tuple(CASE_BITS)
PASSPHRASE_WORDS = 7  # case 1, example 3
WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class CnilResult:
    case: int  # the case that applies (asked for)
    met: tuple[int, ...]  # every case the password satisfies
    entropy_bits: float
    pool: int
    length: int
    classes: tuple[str, ...]
    words: int
    rule: str | None  # how the asked case is met: "entropie", "exemple 1"...

    @property
    def ok(self) -> bool:
        return self.case in self.met

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "met": list(self.met),
            "case_met": self.ok,
            "entropy_bits": round(self.entropy_bits, 1),
            "required_bits": CASE_BITS[self.case],
            "pool": self.pool,
            "length": self.length,
            "classes": list(self.classes),
            "words": self.words,
            "rule": self.rule,
        }


def classes_of(password: str) -> tuple[str, ...]:
    found = []
    if any("a" <= c <= "z" for c in password):
        found.append("minuscules")
    if any("A" <= c <= "Z" for c in password):
        found.append("majuscules")
    if any("0" <= c <= "9" for c in password):
        found.append("chiffres")
    if any(not ("a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9") for c in password):
        found.append("speciaux")
    return tuple(found)


def pool_entropy(length: int, classes: tuple[str, ...]) -> tuple[int, float]:
    pool = sum(CLASS_SIZES[c] for c in classes)
    return pool, (length * math.log2(pool) if pool else 0.0)


def count_words(password: str) -> int:
    """Words of a passphrase: runs of two letters or more between spaces, digits or punctuation."""
    return len(WORD.findall(password))


def _case_rule(case: int, length: int, classes: tuple[str, ...], bits: float, words: int) -> str | None:
    kinds = set(classes)
    if case == 1:
        if length >= 12 and len(kinds) == 4:
            return "exemple 1"
        if length >= 14 and {"minuscules", "majuscules", "chiffres"} <= kinds:
            return "exemple 2"
        if words >= PASSPHRASE_WORDS:
            return "exemple 3"
    if case == 2 and length >= 8 and len(kinds) >= 3:
        return "exemple"
    if case == 3 and length >= 4 and kinds == {"chiffres"}:
        return "exemple"
    return "entropie" if bits >= CASE_BITS[case] else None


def judge(password: str, case: int = 1) -> CnilResult:
    if case not in CASE_BITS:
        raise ValueError(f"CNIL case {case} does not exist")
    length = len(password)
    classes = classes_of(password)
    pool, bits = pool_entropy(length, classes)
    words = count_words(password)
    met = tuple(c for c in CASES if _case_rule(c, length, classes, bits, words) is not None)
    return CnilResult(case, met, bits, pool, length, classes, words, _case_rule(case, length, classes, bits, words))
