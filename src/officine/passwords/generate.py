"""French passphrases and random passwords, drawn with the operating system's cryptographic
randomness (`secrets`), with the entropy they really have.

A passphrase's entropy is counted from the word list (log2(7775) = 12.92 bits a word), not from
its characters as the CNIL's pool formula would: seven words give 90.5 bits, which meets case 1
both by the CNIL's own example 3 and by the true count. A random password's entropy is counted
exactly, including the draws refused because a kind of character was missing."""

from __future__ import annotations

import math
import secrets
import string
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from officine.errors import UserError
from officine.passwords import cnil
from officine.passwords.lists import diceware_words

# Words needed by CNIL case: case 1 by the deliberation's example 3 (7 words, 90.5 bits), case 2
# by entropy (4 words, 51.7 bits >= 50).
WORDS_FOR_CASE = {1: cnil.PASSPHRASE_WORDS, 2: 4}
MAX_WORDS = 20
SEPARATORS = ("-", " ", ".", "_", "")
# ASCII symbols that every login form and configuration file accepts (no quotes, backslash,
# backtick or space).
SYMBOLS = "!#$%&()*+,-./:;<=>?@[]^_{|}~"
ALPHABETS = {
    "minuscules": string.ascii_lowercase,
    "majuscules": string.ascii_uppercase,
    "chiffres": string.digits,
    "speciaux": SYMBOLS,
}
MIN_RANDOM, MAX_RANDOM = 12, 128
MAX_DRAWS = 1000


@dataclass(frozen=True)
class Generated:
    secret: str
    entropy_bits: float
    kind: str  # "phrase" or "aleatoire"
    words: int
    case_met: tuple[int, ...]  # CNIL cases met by the true entropy (and the examples)

    def to_json(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "kind": self.kind,
            "entropy_bits": round(self.entropy_bits, 1),
            "words": self.words,
            "cnil_cases_met": list(self.case_met),
        }


def passphrase(words: int | None = None, case: int = 1, separator: str = "-", capital: bool = False) -> Generated:
    """Words drawn at random from the French diceware list. `words`: how many (at least what
    CNIL `case` needs); `capital`: one word in capitals somewhere, for sites that demand one."""
    if case not in WORDS_FOR_CASE:
        raise UserError("Une phrase de passe répond au cas 1 ou 2 de la CNIL ; pour un code, choisissez 4 chiffres.")
    needed = WORDS_FOR_CASE[case]
    count = needed if words is None else words
    if not needed <= count <= MAX_WORDS:
        raise UserError(f"Nombre de mots : entre {needed} (cas {case} de la CNIL) et {MAX_WORDS}.")
    if separator not in SEPARATORS:
        raise UserError("Séparateur : tiret, espace, point, tiret bas ou rien.")
    vocabulary = diceware_words()
    chosen = [secrets.choice(vocabulary) for _ in range(count)]
    bits = count * math.log2(len(vocabulary))
    if capital:
        at = secrets.randbelow(count)
        chosen[at] = chosen[at].upper()
        bits += math.log2(count)
    text = separator.join(chosen)
    met = tuple(c for c in cnil.CASES if bits >= cnil.CASE_BITS[c] or (c == 1 and count >= cnil.PASSPHRASE_WORDS))
    return Generated(text, bits, "phrase", count, met)


def random_password(length: int = 20, kinds: tuple[str, ...] = tuple(ALPHABETS)) -> Generated:
    """A random password for a machine account (router, NAS, service) kept in the password
    manager: every kind asked is present, each character drawn uniformly."""
    if not MIN_RANDOM <= length <= MAX_RANDOM:
        raise UserError(f"Longueur : entre {MIN_RANDOM} et {MAX_RANDOM} caractères.")
    unknown = [k for k in kinds if k not in ALPHABETS]
    if unknown or not kinds:
        raise UserError("Types de caractères : minuscules, majuscules, chiffres, speciaux.")
    pool = "".join(ALPHABETS[k] for k in kinds)
    for _ in range(MAX_DRAWS):
        text = "".join(secrets.choice(pool) for _ in range(length))
        if all(any(c in ALPHABETS[k] for c in text) for k in kinds):
            bits = math.log2(_with_every_kind(length, [len(ALPHABETS[k]) for k in kinds]))
            met = cnil.judge(text, 1).met
            return Generated(text, bits, "aleatoire", 0, met)
    raise AssertionError("no draw had every kind of character")  # probability below 10^-100


def _with_every_kind(length: int, sizes: list[int]) -> int:
    """How many strings of `length` over the union of the alphabets use each of them
    (inclusion-exclusion over the kinds left out)."""
    total = 0
    for left_out in range(len(sizes)):
        for subset in combinations(sizes, left_out):
            total += (-1) ** left_out * (sum(sizes) - sum(subset)) ** length
    return total
