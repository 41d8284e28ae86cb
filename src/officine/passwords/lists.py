"""The French dictionaries, loaded once: what an attacker in France tries first.

Each list is ranked (most likely first). The estimator sees one merged dictionary in which a
word keeps its best rank and the name of the list that gave it (for the feedback); zxcvbn's own
English lists are included, as plain zxcvbn uses them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from zxcvbn.frequency_lists import FREQUENCY_LISTS

# File (package officine.passwords.data unless stated) -> list name used in the feedback.
FRENCH_LISTS = {
    "richelieu": "mot_de_passe_courant",
    "sante.txt": "sante",
    "clubs.txt": "club",
    "prenoms.txt": "prenom",
    "noms.txt": "nom",
    "communes.txt": "commune",
    "mots.txt": "mot_courant",
}
ENGLISH_LISTS = {
    "passwords": "mot_de_passe_courant",
    "english_wikipedia": "mot_anglais",
    "us_tv_and_film": "mot_anglais",
    "female_names": "prenom",
    "male_names": "prenom",
    "surnames": "nom",
}
# The product, the trade and the first words typed on a French keyboard: tried before anything.
PRODUCT_WORDS = (
    "officine",
    "cyber",
    "officinecyber",
    "pharmacie",
    "pharmacien",
    "pharmacienne",
    "pharma",
    "titulaire",
    "admin",
    "administrateur",
    "motdepasse",
    "password",
    "azerty",
    "qwerty",
    "bonjour",
    "soleil",
)
# Leetspeak undone: "p@ssw0rd" is "password".
LEET_PLAIN = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
MIN_WORD = 3  # shorter "words" are too many to be worth naming
LONGEST_WORD = 40  # no list entry is longer: substrings beyond this are never looked up
_FOLD_CACHE: dict[str, str] = {}


def fold(text: str) -> str:
    """Lower case without accents, one character for one (positions stay those of `text`):
    "Éléphant" -> "elephant". A character whose plain form is longer (a ligature) stays as is."""
    out = []
    for char in text.lower():
        plain = _FOLD_CACHE.get(char)
        if plain is None:
            decomposed = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            plain = decomposed if len(decomposed) == 1 else char
            if len(_FOLD_CACHE) < 4096:
                _FOLD_CACHE[char] = plain
        out.append(plain)
    return "".join(out)


def words_of(text: str) -> list[str]:
    """The words of a text as an attacker would try them (lower case, no accents, 3 letters or
    more), and the text's letters joined ("Saint-Affrique" gives saint, affrique, saintaffrique)."""
    parts = [w for w in re.findall(r"[a-z]+", fold(text)) if len(w) >= MIN_WORD]
    joined = "".join(re.findall(r"[a-z]+", fold(text)))
    return [*parts, joined] if len(parts) > 1 and len(joined) <= LONGEST_WORD else parts


@dataclass(frozen=True)
class Dictionaries:
    ranked: dict[str, tuple[int, str]]  # word -> (best rank, list name)
    common_passwords: frozenset[str]  # Richelieu and zxcvbn's passwords, folded
    richelieu_ranked: tuple[str, ...]
    # The longest word starting with these 3 letters (or 2, for 2-letter words): the substrings
    # of a password worth looking up end there.
    longest_from: dict[str, int]


def _read(name: str) -> list[str]:
    if name == "richelieu":
        folder = resources.files("officine.data").joinpath("richelieu/french_passwords_top20000.txt")
        lines = folder.read_text("utf-8").splitlines()
    else:
        lines = resources.files("officine.passwords.data").joinpath(name).read_text("utf-8").splitlines()
    return list(dict.fromkeys(fold(line.strip()) for line in lines if line.strip()))


@lru_cache(maxsize=1)
def dictionaries() -> Dictionaries:
    ranked: dict[str, tuple[int, str]] = {}

    def add(words: list[str] | tuple[str, ...], name: str) -> None:
        for rank, word in enumerate(words, 1):
            if len(word) > LONGEST_WORD:
                continue
            best = ranked.get(word)
            if best is None or rank < best[0]:
                ranked[word] = (rank, name)

    richelieu = _read("richelieu")
    for file, name in FRENCH_LISTS.items():
        add(richelieu if file == "richelieu" else _read(file), name)
    for key, name in ENGLISH_LISTS.items():
        add([fold(w) for w in FREQUENCY_LISTS[key]], name)
    add(PRODUCT_WORDS, "officine")
    common = frozenset(richelieu) | frozenset(fold(w) for w in FREQUENCY_LISTS["passwords"])
    longest: dict[str, int] = {}
    for word in ranked:
        head = word[:3]
        longest[head] = max(longest.get(head, 0), len(word))
    return Dictionaries(ranked, common, tuple(richelieu), longest)


@lru_cache(maxsize=1)
def diceware_words() -> tuple[str, ...]:
    return tuple(_read("diceware_fr.txt"))
