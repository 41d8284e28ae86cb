"""How many guesses an attacker who knows France needs: zxcvbn's matchers and scoring, fed with
French dictionaries, an AZERTY keyboard and the pharmacy's own words, plus a word model.

zxcvbn (Dropbox's estimator, Python port 4.5) knows English only, and its scoring adds a penalty
of 10^4 per extra pattern that makes any password of four patterns or more look strong
("Doliprane1000mg!"). So two estimates are made and the lower one is kept (both are attacks,
and the attacker can run both):

- zxcvbn's: every pattern it knows (dictionary words, reversed words, l33t, keyboard walks on
  QWERTY, AZERTY and keypads, repeats, sequences, years, dates), over the French dictionaries.
- the word model: the letters are cut into the most likely dictionary words (a leftover letter
  costs 26), the digits and symbols between them are estimated by zxcvbn alone, and the guesses
  are the product of the words' ranks, their capitalisation and the padding, times the number of
  parts (the templates an attacker tries: word + year, word + word + symbol...). A separator
  repeated between words counts once.

This module never keeps, logs or returns any part of the password: only numbers and the names
of the patterns found (for the French feedback). zxcvbn's module state is never changed (its
`zxcvbn()` function writes the user inputs into a module-level dictionary, which is not safe
with concurrent requests): the matchers are called with our own dictionaries."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zxcvbn import matching, scoring
from zxcvbn.adjacency_graphs import ADJACENCY_GRAPHS

from officine.passwords.keyboard import azerty_graph
from officine.passwords.lists import LEET_PLAIN, LONGEST_WORD, MIN_WORD, PRODUCT_WORDS, dictionaries, fold
from officine.passwords.sequence import most_guessable

CHUNK = 48  # characters estimated together; longer inputs are cut (at a space when possible)
MAX_ESTIMATED = 128  # beyond this, the rest is not estimated (the guesses can only grow)
MAX_L33T_SUBSTITUTIONS = 16
LOG10_LETTER = math.log10(26)
LOG10_SEPARATOR = math.log10(33)  # one symbol among the keyboard's, chosen once
REGEXEN = {"recent_year": re.compile(r"19\d\d|20\d\d")}  # zxcvbn's stops at 2019
REPEATED_START = re.compile(rf"(.{{1,{CHUNK}}}?)\1+", re.DOTALL)
MAYBE_DATE = re.compile(r"\d{4}|\d[\s/\\_.-]\d")
WORDISH = re.compile(r"[a-z0-9@$!]+")
LETTERS = re.compile(r"[a-z]+")
GRAPHS = {
    "qwerty": ADJACENCY_GRAPHS["qwerty"],
    "azerty": azerty_graph(),
    "keypad": ADJACENCY_GRAPHS["keypad"],
    "mac_keypad": ADJACENCY_GRAPHS["mac_keypad"],
}


@dataclass(frozen=True)
class Estimate:
    guesses_log10: float
    patterns: tuple[str, ...]  # kinds found in the most guessable reading ("prenom", "clavier"...)
    known_words: int  # fewest dictionary words (3 letters or more) making up all the letters; 0: none do
    truncated: bool  # longer than MAX_ESTIMATED: only the start was estimated

    @property
    def bits(self) -> float:
        return self.guesses_log10 * math.log2(10)

    def to_json(self) -> dict[str, Any]:
        return {
            "guesses_log10": round(self.guesses_log10, 2),
            "bits": round(self.bits, 1),
            "patterns": list(self.patterns),
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class Vocabulary:
    """The dictionaries of one estimate: the shipped ones and the pharmacy's own words."""

    ranked: dict[str, tuple[int, str]]
    user: dict[str, tuple[int, str]]
    longest_from: dict[str, int]  # longest shipped word by its first 3 letters
    user_heads: frozenset[str]  # first 3 letters of the pharmacy's words
    user_longest: int


def vocabulary(context: Sequence[str]) -> Vocabulary:
    dicts = dictionaries()
    user = user_dictionary(context)
    heads = frozenset(w[:3] for w in user)
    return Vocabulary(dicts.ranked, user, dicts.longest_from, heads, max((len(w) for w in user), default=0))


def user_dictionary(context: Sequence[str]) -> dict[str, tuple[int, str]]:
    """The pharmacy's own words (already split by `lists.words_of`) and the product's, ranked
    first: word -> (rank, kind)."""
    ranked: dict[str, tuple[int, str]] = {}
    for word in [fold(w) for w in context if w]:
        ranked.setdefault(word, (len(ranked) + 1, "contexte"))
    for word in PRODUCT_WORDS:
        ranked.setdefault(word, (len(ranked) + 1, "officine"))
    return ranked


def estimate(password: str, context: Sequence[str] = ()) -> Estimate:
    """Guesses needed for `password`; `context`: words the attacker knows (pharmacy, team)."""
    v = vocabulary(context)
    seen = password[:MAX_ESTIMATED]
    total = 0.0
    patterns: list[str] = []
    known = 0
    all_known = True
    for chunk, repeats in _chunks(seen):
        matches = _omnimatch(chunk, v)
        z_log10, z_patterns = _zxcvbn(chunk, v, matches)
        w_log10, w_patterns, w_known = _word_model(chunk, v, matches)
        if w_log10 < z_log10:
            total += w_log10
            patterns += w_patterns
        else:
            total += z_log10
            patterns += z_patterns
        if repeats > 1:
            total += math.log10(repeats)
            patterns.append("repetition")
        known += w_known
        all_known = all_known and w_known > 0
    return Estimate(total, tuple(dict.fromkeys(patterns)), known if all_known else 0, len(password) > MAX_ESTIMATED)


def _chunks(text: str) -> list[tuple[str, int]]:
    """Parts of at most CHUNK characters (cut at a space when possible), each with how many
    times it repeats: a long input made of one repeated part is that part, repeated (zxcvbn
    would see the repetition, cutting must not hide it)."""
    if len(text) <= CHUNK:
        return [(text, 1)] if text else []
    chunks: list[tuple[str, int]] = []
    while text:
        repeated = REPEATED_START.match(text)
        if repeated and len(repeated.group(0)) > CHUNK // 2:
            base = repeated.group(1)
            chunks.append((base, len(repeated.group(0)) // len(base)))
            text = text[len(repeated.group(0)) :]
            continue
        cut = len(text) if len(text) <= CHUNK else text.rfind(" ", CHUNK // 2, CHUNK)
        cut = cut + 1 if 0 < cut < len(text) else min(len(text), CHUNK) if cut <= 0 else cut
        chunks.append((text[:cut], 1))
        text = text[cut:]
    return chunks


# -- zxcvbn over French dictionaries -----------------------------------------------------------
def _zxcvbn(password: str, v: Vocabulary, matches: list[dict[str, Any]] | None = None) -> tuple[float, list[str]]:
    if not password:
        return 0.0, []
    found = _omnimatch(password, v) if matches is None else matches  # found for this very text
    log10, sequence = most_guessable(password, found)
    return log10, [k for m in sequence if (k := _kind(m))]


SCORED = ("guesses", "guesses_log10", "_log10")  # figures zxcvbn and we cache in a match


def _fresh(match: dict[str, Any], shift: int = 0) -> dict[str, Any]:
    """A copy of a match without its cached figures (they depend on the whole password)."""
    copy = {k: value for k, value in match.items() if k not in SCORED}
    if shift:
        copy["i"] -= shift
        copy["j"] -= shift
    return copy


def _omnimatch(password: str, v: Vocabulary) -> list[dict[str, Any]]:
    folded = fold(password)
    found = _dictionary(password, folded, v)
    found += _reversed(password, v)
    found += _l33t(password, v)
    for name, graph in GRAPHS.items():
        for m in matching.spatial_match_helper(password, graph, name):
            if name == "azerty":
                m["keyboard"] = "azerty"
                m["graph"] = "qwerty"  # scored with a full keyboard's figures, not a keypad's
            found.append(m)
    found += _repeats(password, v)
    found += matching.sequence_match(password)
    found += matching.regex_match(password, _regexen=REGEXEN)
    if MAYBE_DATE.search(password):  # zxcvbn's dates need 4 digits in a row, or digits around a separator
        found += matching.date_match(password)
    return sorted(found, key=lambda m: (m["i"], m["j"]))


def _dictionary(
    password: str, folded: str, v: Vocabulary, reverse: bool = False, cover: list[int] | None = None
) -> list[dict[str, Any]]:
    """Every substring found in a dictionary. `cover[i]`: the first position at or after i that a
    match must include (the l33t matcher only wants parts with a substituted character)."""
    found = []
    n = len(folded)
    longest_from, ranked, user, user_heads = v.longest_from, v.ranked, v.user, v.user_heads
    for i in range(n):
        head = folded[i : i + 3]
        mine = head in user_heads
        end = min(n, i + max(longest_from.get(head, 0), v.user_longest if mine else 0, 2))
        start = i if cover is None else max(i, cover[i])
        for j in range(start, end):
            word = folded[i : j + 1]
            rank_name = (user.get(word) if mine else None) or ranked.get(word)
            if rank_name is None:
                continue
            found.append(
                {
                    "pattern": "dictionary",
                    "i": i,
                    "j": j,
                    "token": password[i : j + 1],
                    "matched_word": word,
                    "rank": rank_name[0],
                    "dictionary_name": rank_name[1],
                    "reversed": reverse,
                    "l33t": False,
                }
            )
    return found


def _reversed(password: str, v: Vocabulary) -> list[dict[str, Any]]:
    backwards = password[::-1]
    found = _dictionary(backwards, fold(backwards), v, reverse=True)
    n = len(password)
    for m in found:
        m["token"] = m["token"][::-1]
        m["i"], m["j"] = n - 1 - m["j"], n - 1 - m["i"]
    return [m for m in found if len(m["token"]) >= MIN_WORD]


def _l33t(password: str, v: Vocabulary) -> list[dict[str, Any]]:
    found = []
    subs = matching.enumerate_l33t_subs(matching.relevant_l33t_subtable(password, matching.L33T_TABLE))
    n = len(password)
    for sub in subs[:MAX_L33T_SUBSTITUTIONS]:
        if not sub:
            break
        subbed = matching.translate(password, sub)
        cover = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            cover[i] = i if password[i] in sub else cover[i + 1]
        for m in _dictionary(subbed, fold(subbed), v, cover=cover):
            token = password[m["i"] : m["j"] + 1]
            if fold(token) == m["matched_word"] or len(token) < 2:
                continue  # no substitution in this part
            m.update(token=token, l33t=True, sub={k: plain for k, plain in sub.items() if k in token})
            found.append(m)
    return found


def _repeats(password: str, v: Vocabulary) -> list[dict[str, Any]]:
    """zxcvbn's repeat matcher, with the repeated part judged over our dictionaries too."""
    found: list[dict[str, Any]] = []
    greedy, lazy, anchored = re.compile(r"(.+)\1+"), re.compile(r"(.+?)\1+"), re.compile(r"^(.+?)\1+$")
    last = 0
    while last < len(password):
        g, lz = greedy.search(password, pos=last), lazy.search(password, pos=last)
        if g is None or lz is None:
            break
        if len(g.group(0)) > len(lz.group(0)):
            chosen = g
            inner = anchored.search(g.group(0))
            base = inner.group(1) if inner else g.group(1)
        else:
            chosen, base = lz, lz.group(1)
        base_log10, base_sequence = most_guessable(base, _omnimatch(base, v))
        found.append(
            {
                "pattern": "repeat",
                "i": chosen.start(),
                "j": chosen.end() - 1,
                "token": chosen.group(0),
                "base_token": base,
                "base_guesses": Decimal(10) ** Decimal(base_log10),
                "base_matches": base_sequence,
                "repeat_count": len(chosen.group(0)) / len(base),
            }
        )
        last = chosen.end()
    return found


def _kind(match: dict[str, Any]) -> str | None:
    pattern = match.get("pattern")
    if pattern == "dictionary":
        if match.get("reversed"):
            return "mot_a_l_envers"
        kind = str(match.get("dictionary_name"))
        return f"{kind}_l33t" if match.get("l33t") and kind == "mot_de_passe_courant" else kind
    if pattern == "spatial":
        return "clavier"
    if pattern == "repeat":
        return "repetition"
    if pattern == "sequence":
        return "suite"
    if pattern == "regex":
        return "annee"
    if pattern == "date":
        return "date"
    return None  # random characters


# -- the word model ----------------------------------------------------------------------------
def _word_model(
    password: str, v: Vocabulary, matches: list[dict[str, Any]] | None = None
) -> tuple[float, list[str], int]:
    """(log10 guesses, kinds, known words: 0 unless every letter belongs to a word of 3 letters
    or more)."""
    folded = fold(password)
    log10 = 0.0
    kinds: list[str] = []
    words = 0
    leftover_letters = False
    parts = 0
    separators: set[str] = set()
    position = 0
    for run in WORDISH.finditer(folded):
        between = folded[position : run.start()]
        if between:
            parts += 1
            if len(between) == 1:
                separators.add(between)
            else:
                log10 += _padding_log10(password, position, run.start(), v, matches)
        position = run.end()
        text = run.group(0)
        core = text.strip("0123456789@$!")
        if not core or not any(c.isalpha() for c in core):
            parts += 1
            log10 += _padding_log10(password, run.start(), run.end(), v, matches)
            continue
        start = run.start() + text.index(core)
        for edge_start, edge_end in ((run.start(), start), (start + len(core), run.end())):
            if edge_end > edge_start:
                parts += 1
                log10 += _padding_log10(password, edge_start, edge_end, v, matches)
        subs = sum(1 for c in core if not c.isalpha())
        log10 += min(subs, 4) * math.log10(2)  # each l33t character: substituted or not
        original = password[start : start + len(core)]
        plain = core.translate(LEET_PLAIN)
        log10 += sum(1 for c in plain if not c.isalpha()) * LOG10_SEPARATOR  # other digits inside
        for piece in LETTERS.finditer(plain):
            cost, found, leftover = _segment(piece.group(0), v)
            log10 += cost
            parts += len(found) + (1 if leftover else 0)
            kinds += [k for _, k in found]
            fewest = _fewest_words(piece.group(0), v)
            if fewest is None:
                leftover_letters = True
            else:
                words += fewest
            token = original[piece.start() : piece.end()]
            log10 += math.log10(scoring.uppercase_variations({"token": token}))
    tail = folded[position:]
    if tail:
        parts += 1
        if len(tail) == 1:
            separators.add(tail)
        else:
            log10 += _padding_log10(password, position, len(password), v, matches)
    log10 += len(separators) * LOG10_SEPARATOR
    log10 += math.log10(max(parts, 1))
    return log10, kinds, 0 if leftover_letters else words


Reading = tuple[float, list[tuple[str, str]], bool]


def _segment(letters: str, v: Vocabulary) -> Reading:
    """The cheapest reading of a run of letters as dictionary words (two letters or more) and
    leftover letters: (log10 guesses, [(word, kind)], whether letters were left over)."""
    n = len(letters)
    best: list[Reading | None] = [None] * (n + 1)
    best[0] = (0.0, [], False)
    for end in range(1, n + 1):
        options = []
        previous = best[end - 1]
        if previous is not None:
            options.append((previous[0] + LOG10_LETTER, previous[1], True))
        for start in range(max(0, end - LONGEST_WORD), end - 1):
            head = best[start]
            word = letters[start:end]
            rank_name = v.user.get(word) or v.ranked.get(word)
            if head is None or rank_name is None:
                continue
            options.append((head[0] + math.log10(rank_name[0]), [*head[1], (word, rank_name[1])], head[2]))
        best[end] = min(options, key=lambda o: o[0]) if options else None
    result = best[n]
    return result if result is not None else (n * LOG10_LETTER, [], True)


def _fewest_words(letters: str, v: Vocabulary) -> int | None:
    """The fewest known words of 3 letters or more that make up `letters` exactly, or None: a
    password of one or two known words padded with digits and symbols is an attacker's first try,
    whatever the ranks ("mariecurie" is marie + curie)."""
    n = len(letters)
    best: list[int | None] = [0] + [None] * n
    for end in range(MIN_WORD, n + 1):
        for start in range(max(0, end - LONGEST_WORD), end - MIN_WORD + 1):
            head = best[start]
            word = letters[start:end]
            if head is not None and (word in v.user or word in v.ranked):
                current = best[end]
                best[end] = head + 1 if current is None else min(current, head + 1)
    return best[n]


def _padding_log10(password: str, start: int, end: int, v: Vocabulary, matches: list[dict[str, Any]] | None) -> float:
    """Digits and symbols around or between words: years, dates, "123", "!!" are cheap. Judged
    with the matches already found in the whole part that lie inside (no second search). A
    single character's figure is kept (one character is no secret; longer padding never is)."""
    text = password[start:end]
    if len(text) == 1:
        known = _SINGLE.get(text)
        if known is None:
            known = _zxcvbn(text, v)[0]
            if len(_SINGLE) < 512:
                _SINGLE[text] = known
        return known
    if matches is None:
        return _zxcvbn(text, v)[0]
    inside = [_fresh(m, start) for m in matches if m["i"] >= start and m["j"] < end]
    return most_guessable(text, inside)[0]


_SINGLE: dict[str, float] = {}
