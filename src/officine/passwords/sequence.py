"""zxcvbn's search for the most guessable reading of a password, computed in log10 with floats.

Same algorithm and figures as `zxcvbn.scoring.most_guessable_match_sequence` (Dropbox, MIT):
the fewest guesses over every way to cover the password with matches and bruteforce stretches,
guesses = l! x product(match guesses) + 10^4^(l-1) for a sequence of l parts. Three changes,
all for speed (zxcvbn's version takes about 5 ms for a random 20-character password, too slow
to audit thousands of entries): logarithms in floats instead of Decimal; matches no cheaper
than bruteforcing their stretch left out; bruteforce stretches only tried after a position
where a non-bruteforce part ends (an optimal reading never has two bruteforce stretches side by
side: one spanning both is as cheap with one part fewer, which zxcvbn also relies on).
Long bruteforce stretches are not tried (MAX_STRETCH). A test compares both on random inputs."""

from __future__ import annotations

import math
from typing import Any

from zxcvbn import scoring

LOG10_GROWTH = math.log10(scoring.MIN_GUESSES_BEFORE_GROWING_SEQUENCE)
LOG10_SINGLE_CHAR_BRUTEFORCE = math.log10(scoring.MIN_SUBMATCH_GUESSES_SINGLE_CHAR + 1)
_LOG10_FACTORIAL = [0.0]
# Bruteforce stretches longer than this after a match are not tried: such a reading costs 10^20
# guesses or more, far above any bar (10^10 at most), so verdicts never change; only the figure
# of a password already that strong may come out higher than zxcvbn's.
MAX_STRETCH = 20


def _log10_factorial(n: int) -> float:
    while len(_LOG10_FACTORIAL) <= n:
        _LOG10_FACTORIAL.append(_LOG10_FACTORIAL[-1] + math.log10(len(_LOG10_FACTORIAL)))
    return _LOG10_FACTORIAL[n]


def _log10_sum(a: float, b: float) -> float:
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log10(1.0 + 10.0 ** (low - high))


def _bruteforce_log10(length: int) -> float:
    return LOG10_SINGLE_CHAR_BRUTEFORCE if length == 1 else float(length)


def _match_log10(m: dict[str, Any], password: str) -> float:
    cached = m.get("_log10")
    if cached is None:
        cached = math.log10(float(scoring.estimate_guesses(m, password)))
        m["_log10"] = cached
    return float(cached)


def most_guessable(password: str, matches: list[dict[str, Any]]) -> tuple[float, list[dict[str, Any]]]:
    """(log10 of the guesses, the parts of the most guessable reading)."""
    n = len(password)
    if n == 0:
        return 0.0, []
    by_end: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for m in matches:
        # A match no cheaper than bruteforcing its stretch never helps (the bruteforce stretch
        # costs as much with the same number of parts), so it is left out.
        if _match_log10(m, password) < _bruteforce_log10(m["j"] - m["i"] + 1):
            by_end[m["j"]].append(m)
    for group in by_end:
        group.sort(key=lambda m: m["i"])
    best_m: list[dict[int, dict[str, Any]]] = [{} for _ in range(n)]
    best_pi: list[dict[int, float]] = [{} for _ in range(n)]
    best_g: list[dict[int, float]] = [{} for _ in range(n)]
    after_match: list[int] = []  # positions right after the end of a non-bruteforce part

    def update(m: dict[str, Any], part_log10: float, length: int) -> None:
        k = m["j"]
        pi = part_log10 + (best_pi[m["i"] - 1][length - 1] if length > 1 else 0.0)
        g = _log10_sum(_log10_factorial(length) + pi, LOG10_GROWTH * (length - 1))
        for competing_l, competing_g in best_g[k].items():
            if competing_l <= length and competing_g <= g:
                return
        best_g[k][length] = g
        best_m[k][length] = m
        best_pi[k][length] = pi

    for k in range(n):
        for m in by_end[k]:
            part = _match_log10(m, password)
            if m["i"] > 0:
                for length in list(best_m[m["i"] - 1]):
                    update(m, part, length + 1)
            else:
                update(m, part, 1)
        if any(v.get("pattern") != "bruteforce" for v in best_m[k].values()):
            after_match.append(k + 1)
        # Bruteforce stretches ending at k: from the start, or right after a matched part.
        update({"pattern": "bruteforce", "token": password[: k + 1], "i": 0, "j": k}, _bruteforce_log10(k + 1), 1)
        for i in after_match:
            if i > k or k - i >= MAX_STRETCH:
                continue
            stretch = {"pattern": "bruteforce", "token": password[i : k + 1], "i": i, "j": k}
            part = _bruteforce_log10(k - i + 1)
            for length, last in list(best_m[i - 1].items()):
                if last.get("pattern") != "bruteforce":
                    update(stretch, part, length + 1)
    final = best_g[n - 1]
    length = min(final, key=lambda l_: final[l_])
    total = final[length]
    sequence: list[dict[str, Any]] = []
    k = n - 1
    while k >= 0:
        m = best_m[k][length]
        sequence.insert(0, m)
        k = m["i"] - 1
        length -= 1
    return total, sequence
