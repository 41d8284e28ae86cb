"""The verdict on one password: the CNIL case that applies is met, and it is not guessable.

`assess` is the single strength engine of officine-cyber: the command `officine motdepasse
tester`, the dashboard's tester, its own account passwords (`services.password_check`) and the
password-manager audit all call it. The result holds numbers, codes and French sentences, never
the password or any part of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from officine.passwords import cnil
from officine.passwords.estimate import MAX_ESTIMATED, Estimate, estimate
from officine.passwords.lists import LEET_PLAIN, dictionaries, fold
from officine.yamlio import load_yaml

# Guesses (log10) below which a password is guessable, by CNIL case: 10^10 is zxcvbn's "very
# unguessable" (protects against an offline attack on a slowly hashed password), 10^8 its
# "safely unguessable" (enough when the account blocks after a few errors), 10^3 keeps out the
# obvious codes (1234, 0000, a year) of a device that blocks after 3 errors.
REQUIRED_LOG10 = {1: 10.0, 2: 8.0, 3: 3.0}
MAX_PADDED_WORDS = 2  # one or two known words with digits and symbols around: a first try
MAX_INPUT = 1024  # longer input is refused by the surfaces, never truncated silently


@dataclass(frozen=True)
class Strength:
    acceptable: bool
    cnil: cnil.CnilResult
    estimate: Estimate
    problems: tuple[str, ...]  # "cnil", "common_password", "padded_known_words", "guessable"
    feedback: tuple[str, ...]  # French sentences: what makes it weak, how to fix it

    @property
    def required_log10(self) -> float:
        return REQUIRED_LOG10[self.cnil.case]

    def to_json(self) -> dict[str, Any]:
        return {
            "acceptable": self.acceptable,
            "cnil": self.cnil.to_json(),
            "estimation": {**self.estimate.to_json(), "required_guesses_log10": self.required_log10},
            "problems": list(self.problems),
            "feedback": list(self.feedback),
        }


@lru_cache(maxsize=1)
def words() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(resources.files("officine.passwords").joinpath("words.yaml").read_text("utf-8"))
    return data


def is_common(password: str) -> bool:
    """In the French or the international list of the most used passwords (leetspeak undone)."""
    common = dictionaries().common_passwords
    folded = fold(password)
    return folded in common or folded.translate(LEET_PLAIN) in common


def assess(password: str, context: Sequence[str] = (), case: int = 1) -> Strength:
    """`context`: words the attacker knows (from `lists.words_of`: the pharmacy's name, town,
    team); `case`: the CNIL case that applies (1 password alone, 2 account that blocks, 3 code)."""
    return assess_estimated(password, estimate(password, context), case)


def assess_estimated(password: str, guessed: Estimate, case: int) -> Strength:
    """The verdict for one case from an estimate already made (the audit judges two cases)."""
    judged = cnil.judge(password, case)
    problems = []
    if not judged.ok:
        problems.append("cnil")
    if is_common(password):
        problems.append("common_password")
    if case != 3 and 1 <= guessed.known_words <= MAX_PADDED_WORDS:
        problems.append("padded_known_words")
    if guessed.guesses_log10 < REQUIRED_LOG10[case]:
        problems.append("guessable")
    return Strength(not problems, judged, guessed, tuple(problems), _feedback(judged, guessed, problems))


def _feedback(judged: cnil.CnilResult, guessed: Estimate, problems: list[str]) -> tuple[str, ...]:
    w = words()
    case_text = w["cases"][judged.case]
    lines = []
    if not problems:
        bits = f"{judged.entropy_bits:.0f}"
        lines.append(w["ok"].format(case_text=case_text, bits=bits, guesses=amount(guessed.guesses_log10)))
    for problem in problems:
        template = w["problems"][problem]
        lines.append(
            template.format(
                case=judged.case,
                case_text=case_text,
                need=w["needs"][judged.case],
                length=judged.length,
                classes=", ".join(w["classes"][c] for c in judged.classes) or "aucun caractère",
                bits=f"{judged.entropy_bits:.0f}",
                guesses=amount(guessed.guesses_log10),
                required=w["required"][int(REQUIRED_LOG10[judged.case])],
            )
        )
    if problems and guessed.patterns:
        names = [w["patterns"][p] for p in guessed.patterns if p in w["patterns"]]
        if names:
            shown = ", ".join(names[:-1]) + (" et " if len(names) > 1 else "") + names[-1]
            lines.append(w["contains"].format(patterns=shown))
    if problems:
        lines.append(w["advice"]["passphrase"] if judged.case != 3 else w["advice"]["code"])
    if guessed.truncated:
        lines.append(w["truncated"].format(count=MAX_ESTIMATED))
    return tuple(lines)


def amount(log10: float) -> str:
    """A number of guesses in plain French: "environ 40 millions"."""
    a = words()["amounts"]
    value = 10**log10
    if value < 1e3:
        return str(a["less_than_thousand"])
    for limit, key in ((1e6, "thousand"), (1e9, "million"), (1e12, "billion")):
        if value < limit:
            n = f"{value / (limit / 1000):.0f}"
            return str(a[f"{key}_one"] if n == "1" and key != "thousand" else a[key].format(n=n))
    return str(a["more"])
