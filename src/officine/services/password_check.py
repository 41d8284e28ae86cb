"""Is a dashboard password too easy to guess? A thin call into the password module
(`officine.passwords.strength`), which judges every password of officine-cyber.

The dashboard's accounts block after 5 errors, so CNIL case 2 applies (50 bits, 10^8 guesses);
the dashboard asks 12 characters at least on top of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from officine.passwords.lists import MIN_WORD, dictionaries
from officine.passwords.lists import words_of as _words_of
from officine.passwords.strength import assess, words

MIN_LENGTH = 12
DASHBOARD_CASE = 2  # accounts lock after 5 failed sign-ins (services.accounts)


def password_problem(password: str, context: Sequence[str] = ()) -> str | None:
    """Why `password` is too weak, in French (to follow "Mot de passe trop faible : "), or None.
    `context`: texts an attacker would know (username, pharmacy name, address, team names)."""
    texts = words()["dashboard"]
    if len(password) < MIN_LENGTH:
        return str(texts["too_short"].format(length=MIN_LENGTH))
    own = [w for text in context for w in words_of(text)]
    result = assess(password, own, case=DASHBOARD_CASE)
    for problem in ("common_password", "padded_known_words", "cnil", "guessable"):
        if problem in result.problems:
            return str(texts[problem])
    return None


def words_of(text: str) -> list[str]:
    """The words of a text as an attacker would try them (lower case, no accents, 3 letters or more)."""
    return _words_of(text)


@dataclass(frozen=True)
class _Common:
    words: frozenset[str]  # the alphabetic entries of the Richelieu list


@lru_cache(maxsize=1)
def _common() -> _Common:
    ranked = dictionaries().richelieu_ranked
    return _Common(frozenset(w for w in ranked if len(w) >= MIN_WORD and w.isascii() and w.isalpha()))
