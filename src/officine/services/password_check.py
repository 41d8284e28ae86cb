"""Is a dashboard password too easy to guess? One function, `password_problem`, so that a fuller
French password-strength module can take its place.

What an attacker tries first against a pharmacy: the most common French passwords (the Richelieu
list, CC BY 4.0, shipped in officine/data/richelieu), the product's own name, and the pharmacy's
own words (its name, its town, its team), each with digits and a symbol appended. zxcvbn alone
rates "Officine2024!!" or "Azerty123456!" as strong: it knows no French and no pharmacy, so those
come first, then zxcvbn judges the rest with the French list added to its dictionaries."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from zxcvbn import zxcvbn
from zxcvbn.matching import add_frequency_lists

MIN_LENGTH = 12  # CNIL deliberation 2022-100, case 1
MIN_ZXCVBN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the start is enough to judge
# At most this many guessable words, padded with digits and symbols, is one guess away:
# three or more words make a passphrase, which zxcvbn then judges.
MAX_KNOWN_WORDS = 2
# A passphrase of common words only: the product of their ranks in the list estimates the guesses
# (zxcvbn reads "-Soleil-" as random characters and overrates "Azerty-Soleil-Marseille!").
MIN_GUESSES = 10**10
MIN_WORD = 3
# The product, the trade and the words typed first on a French keyboard.
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
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
SEGMENT = re.compile(r"[a-z0-9@$!]+")
EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")
_zxcvbn_ready = threading.Lock()


def password_problem(password: str, context: Sequence[str] = ()) -> str | None:
    """Why `password` is too weak, in French (to follow "Mot de passe trop faible : "), or None.
    `context`: texts an attacker would know (username, pharmacy name, address, team names)."""
    if len(password) < MIN_LENGTH:
        return f"au moins {MIN_LENGTH} caractères (une phrase de passe est idéale)"
    common = _common()
    norm = _normalise(password)
    if norm in common.passwords or norm.translate(LEET) in common.passwords:
        return "il fait partie des mots de passe les plus utilisés en France ; choisissez plusieurs mots rares"
    own = {w for text in context for w in words_of(text)}
    known = common.words | own | set(PRODUCT_WORDS)
    found, unknown = _decompose(norm, known)
    if not unknown and not found:
        return "uniquement des chiffres et des symboles (ou des lettres isolées) ; ajoutez des mots rares"
    if not unknown and (len(found) <= MAX_KNOWN_WORDS or _guesses(found, common) < MIN_GUESSES):
        shown = " + ".join(f"« {w} »" for w in found)
        return (
            f"bâti sur {shown} complété de chiffres ou de symboles, ce qu'un attaquant essaie en premier "
            "(mots de passe courants, nom de la pharmacie, de la ville ou d'une personne) ; ajoutez des mots rares"
        )
    _ensure_french_dictionary()
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=sorted(own | set(PRODUCT_WORDS)))
    if result["score"] < MIN_ZXCVBN_SCORE:
        return "trop facile à deviner (mot courant, suite de clavier, nom de la pharmacie…) ; ajoutez des mots rares"
    return None


def words_of(text: str) -> list[str]:
    """The words of a text as an attacker would try them (lower case, no accents, 3 letters or more)."""
    return [w for w in re.findall(r"[a-z]+", _normalise(text)) if len(w) >= MIN_WORD]


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _decompose(norm: str, known: frozenset[str] | set[str]) -> tuple[list[str], list[str]]:
    """Split a password into its guessable words and what is left. Digits and symbols around a
    word are padding; inside a word they are read as letters ("s0l3il" is "soleil")."""
    found: list[str] = []
    unknown: list[str] = []
    for segment in SEGMENT.findall(norm):
        core = EDGES.sub("", segment).translate(LEET)
        core = re.sub(r"[^a-z]", "", core)
        if len(core) < MIN_WORD:
            continue  # a lone letter or two between digits adds nearly nothing
        words = _segment(core, known)
        if words is None:
            unknown.append(core)
        else:
            found.extend(words)
    return found, unknown


def _segment(core: str, known: frozenset[str] | set[str]) -> list[str] | None:
    """The fewest known words that make up `core` exactly ("mariecurie": marie + curie), or None."""
    best: list[list[str] | None] = [None] * (len(core) + 1)
    best[0] = []
    for end in range(1, len(core) + 1):
        for start in range(max(0, end - 40), end - MIN_WORD + 1):
            head = best[start]
            if head is not None and core[start:end] in known:
                candidate = [*head, core[start:end]]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(core)]


def _guesses(words: list[str], common: _Common) -> int:
    """Guesses to find a sequence of known words, each tried in the order of the list (the
    pharmacy's and the product's own words first)."""
    total = 1
    for word in words:
        total *= common.rank.get(word, 1)
    return total


class _Common:
    def __init__(self, ranked: list[str]) -> None:
        self.ranked = ranked
        self.rank = {w: i for i, w in enumerate(ranked, 1)}
        self.passwords = frozenset(ranked)
        self.words = frozenset(w for w in ranked if len(w) >= MIN_WORD and w.isascii() and w.isalpha())


@lru_cache(maxsize=1)
def _common() -> _Common:
    text = resources.files("officine.data").joinpath("richelieu/french_passwords_top20000.txt").read_text("utf-8")
    ranked = list(dict.fromkeys(_normalise(line.strip()) for line in text.splitlines() if line.strip()))
    return _Common(ranked)


_french_added = False


def _ensure_french_dictionary() -> None:
    """zxcvbn's dictionaries are module state: the French list is added once, on first use."""
    global _french_added  # noqa: PLW0603 - one-time set-up of a third-party module's state
    with _zxcvbn_ready:
        if not _french_added:
            add_frequency_lists({"richelieu_fr": _common().ranked})
            _french_added = True
