"""The French strength engine: labelled French passwords, CNIL boundaries, speed-independent
behaviour of long inputs, and the dashboard's thin call into it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from officine.passwords import cnil
from officine.passwords.estimate import MAX_ESTIMATED, estimate
from officine.passwords.lists import words_of
from officine.passwords.strength import assess

LABELLED = yaml.safe_load((Path(__file__).parent / "fixtures/passwords/labelled_fr.yaml").read_text("utf-8"))
CASES = [(e, False) for e in LABELLED["weak"]] + [(e, True) for e in LABELLED["strong"]]


def _context(entry: dict[str, Any]) -> list[str]:
    return [w for text in entry.get("context", []) for w in words_of(text)]


def _plain_zxcvbn_scores(passwords: list[str]) -> list[int]:
    """Plain zxcvbn (English dictionaries only), in a fresh interpreter so that nothing of ours
    is loaded into its module state."""
    code = (
        "import json, sys\nfrom zxcvbn import zxcvbn\n"
        "print(json.dumps([zxcvbn(p[:72])['score'] for p in json.load(sys.stdin)]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(passwords), capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    scores: list[int] = json.loads(run.stdout)
    return scores


def test_the_labelled_set_is_large_and_balanced() -> None:
    assert len(CASES) >= 60
    assert len(LABELLED["weak"]) >= 40 and len(LABELLED["strong"]) >= 12


@pytest.mark.parametrize(("entry", "expected"), CASES, ids=[e["password"] for e, _ in CASES])
def test_each_labelled_french_password_gets_the_right_verdict(entry: dict[str, Any], expected: bool) -> None:
    result = assess(entry["password"], _context(entry))
    assert result.acceptable is expected, (entry["why"], result.problems, result.estimate)


def test_plain_zxcvbn_gets_many_labelled_passwords_wrong_and_ours_none() -> None:
    """Side by side on the same set: plain zxcvbn's usual bar (score 3 or more) accepts French
    passwords a French attacker tries first; ours gets every one right."""
    passwords = [e["password"] for e, _ in CASES]
    plain = [score >= 3 for score in _plain_zxcvbn_scores(passwords)]
    ours = [assess(e["password"], _context(e)).acceptable for e, _ in CASES]
    expected = [label for _, label in CASES]
    plain_wrong = [p for p, got, want in zip(passwords, plain, expected, strict=True) if got != want]
    ours_wrong = [p for p, got, want in zip(passwords, ours, expected, strict=True) if got != want]
    assert ours_wrong == []
    assert len(plain_wrong) >= 20, plain_wrong  # e.g. Doudou2024!, Pharmacie2024!, Marseille13!!
    assert {"Doudou2024!", "Pharmacie13!", "Marseille13!!"} <= set(plain_wrong)


# -- CNIL deliberation 2022-100: the boundaries of each case ----------------------------------
@pytest.mark.parametrize(
    ("password", "case", "met", "rule"),
    [
        ("Aa1!Aa1!Aa1!", 1, True, "exemple 1"),  # 12 characters, the 4 kinds
        ("Aa1!Aa1!Aa1", 1, False, None),  # 11: 72.9 bits
        ("Aa1Aa1Aa1Aa1Aa", 1, True, "exemple 2"),  # 14 of upper, lower, digits: 83.4 bits
        ("Aa1Aa1Aa1Aa1A", 1, False, None),  # 13 of them: 77.4 bits
        ("un deux trois quatre cinq six sept", 1, True, "exemple 3"),  # 7 words
        ("abcdefghijklmnopq", 1, False, None),  # 17 lower-case letters: 79.9 bits
        ("abcdefghijklmnopqr", 1, True, "entropie"),  # 18: 84.6 bits
        ("Aa1Aa1Aa", 2, True, "exemple"),  # 8 characters of 3 kinds
        ("Aa1Aa1A", 2, False, None),  # 7: 41.7 bits
        ("aaaaaaaaaaa", 2, True, "entropie"),  # 11 lower-case: 51.7 bits
        ("aaaaaaaaaa", 2, False, None),  # 10: 47.0 bits
        ("1234", 3, True, "exemple"),  # 4 digits: 13.3 bits
        ("123", 3, False, None),  # 3 digits: 10.0 bits
        ("abc", 3, True, "entropie"),  # 14.1 bits
    ],
)
def test_cnil_cases_on_their_boundaries(password: str, case: int, met: bool, rule: str | None) -> None:
    result = cnil.judge(password, case)
    assert result.ok is met and result.rule == rule, result


def test_cnil_entropy_counts_the_pool_of_the_kinds_used() -> None:
    assert cnil.judge("Aa1!Aa1!Aa1!").pool == 99
    assert round(cnil.judge("Aa1!Aa1!Aa1!").entropy_bits, 1) == 79.6  # deemed 80 by example 1
    assert cnil.judge("éé").classes == ("speciaux",)  # an accented letter is a special character
    assert cnil.judge("").entropy_bits == 0 and cnil.judge("").met == ()


def test_cases_asked_change_the_verdict_not_the_facts() -> None:
    code = "7391"
    assert not assess(code, case=1).acceptable
    assert assess(code, case=3).acceptable
    assert not assess("1234", case=3).acceptable  # the first code anyone tries
    assert assess("Gx7-pLw2-Qz", case=2).acceptable and not assess("Gx7-pLw2-Qz", case=1).acceptable


@given(st.text(min_size=0, max_size=40))
@settings(max_examples=300, deadline=None)
def test_cnil_cases_are_nested_and_the_judge_never_fails(password: str) -> None:
    met = cnil.judge(password).met
    assert all(c in cnil.CASES for c in met)
    if 1 in met:
        assert 2 in met


# -- the estimator --------------------------------------------------------------------------
def test_pharmacy_words_given_as_context_make_a_password_guessable() -> None:
    password = "Kerzebrak-Trouvenel-58"
    context = [w for t in ("Pharmacie Kerzebrak", "Jean Trouvenel") for w in words_of(t)]
    assert assess(password).acceptable
    assert not assess(password, context).acceptable
    assert "contexte" in estimate(password, context).patterns


def test_azerty_walks_are_recognised() -> None:
    for walk in ("azertyuiop", "qsdfghjklm", "wxcvbn,;:!", "&é\"'(-è_çà)"):
        assert "clavier" in estimate(walk).patterns or "mot_de_passe_courant" in estimate(walk).patterns, walk
    assert estimate("&é\"'(-è_çà)").guesses_log10 < 6


@given(st.text(max_size=300), st.integers(0, 300))
@settings(max_examples=200, deadline=None)
def test_any_text_gets_a_verdict_without_its_characters_in_it(text: str, at: int) -> None:
    # A "~" (in no French text of ours, nor in JSON syntax) makes any copy of the password visible.
    password = text[:at] + "~" + text[at:]
    result = assess(password, case=1)
    document = json.dumps(result.to_json(), ensure_ascii=False)
    assert result.estimate.guesses_log10 >= 0
    assert "~" not in document
    assert result.estimate.truncated is (len(password) > MAX_ESTIMATED)


def test_a_long_repetition_stays_weak_after_cutting_into_chunks() -> None:
    assert not assess("Soleil-" * 40).acceptable
    assert not assess("a" * 500).acceptable
    assert assess(" ".join(["barque prenant innova regret commuter jubile rikiki"] * 2)).acceptable


# -- the dashboard's accounts use the same engine ---------------------------------------------
def test_the_dashboard_check_is_the_engine_with_case_2_and_twelve_characters() -> None:
    from officine.services.password_check import password_problem

    assert password_problem("Gx7-pLw2-Qz") is not None  # 11 characters: the dashboard asks 12
    assert password_problem("qmzvkrtplwxb") is None  # 12 random letters: 56 bits, case 2
    assert password_problem("Pharmacie2024!") is not None


@given(st.text(alphabet="abcdeilmnoprstuAEPS0123456789!@$ -_.&é", min_size=1, max_size=24))
@settings(max_examples=300, deadline=None)
def test_our_sequence_search_gives_zxcvbn_s_own_answer(password: str) -> None:
    """The faster search (float logs, pruning) finds the same guesses as zxcvbn on the same matches."""
    from decimal import Decimal

    from zxcvbn import matching, scoring

    from officine.passwords.sequence import MAX_STRETCH, most_guessable

    matches = matching.omnimatch(password)  # zxcvbn's own English dictionaries
    expected = scoring.most_guessable_match_sequence(password, [dict(m) for m in matches])
    ours, _ = most_guessable(password, [dict(m) for m in matches])
    theirs = float(Decimal(expected["guesses"]).log10())
    if theirs < MAX_STRETCH:
        assert abs(ours - theirs) < 1e-6
    else:  # long bruteforce stretches are not tried: never below, and both far above every bar
        assert ours >= theirs - 1e-6


# -- the generator ------------------------------------------------------------------------------
def test_passphrases_have_the_words_and_entropy_the_case_needs() -> None:
    import math

    from officine.passwords.generate import passphrase
    from officine.passwords.lists import diceware_words

    words = set(diceware_words())
    assert len(words) == 7775
    made = passphrase()
    assert made.words == 7 and set(made.secret.split("-")) <= words
    assert round(made.entropy_bits, 1) == round(7 * math.log2(7775), 1) == 90.5
    assert made.case_met == (1, 2, 3)
    four = passphrase(4, case=2, separator=" ")
    assert four.case_met == (2, 3) and len(four.secret.split(" ")) == 4
    capital = passphrase(capital=True)
    assert sum(w.isupper() for w in capital.secret.split("-")) == 1
    assert capital.entropy_bits > made.entropy_bits
    for _ in range(20):  # what we propose, we accept
        assert assess(passphrase().secret).acceptable


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"words": 6}, "entre 7"),
        ({"case": 3}, "pour un code"),
        ({"separator": "+"}, "Séparateur"),
        ({"words": 21}, "et 20"),
    ],
)
def test_a_passphrase_that_would_not_meet_its_case_is_refused_in_french(kwargs: dict[str, Any], words: str) -> None:
    from officine.errors import UserError
    from officine.passwords.generate import passphrase

    with pytest.raises(UserError, match=words):
        passphrase(**kwargs)


def test_random_passwords_use_every_kind_asked_and_state_their_exact_entropy() -> None:
    import math

    from officine.errors import UserError
    from officine.passwords.generate import ALPHABETS, random_password

    pool = sum(len(a) for a in ALPHABETS.values())
    for _ in range(50):
        made = random_password(20)
        assert len(made.secret) == 20 and cnil.classes_of(made.secret) == (
            "minuscules",
            "majuscules",
            "chiffres",
            "speciaux",
        )
        assert 20 * math.log2(pool) - 1 < made.entropy_bits < 20 * math.log2(pool)
        assert assess(made.secret).acceptable
    digits_letters = random_password(16, ("minuscules", "chiffres"))
    assert set(digits_letters.secret) <= set(ALPHABETS["minuscules"] + ALPHABETS["chiffres"])
    with pytest.raises(UserError, match="entre 12 et 128"):
        random_password(11)


# -- the command ----------------------------------------------------------------------------------
def test_the_tester_command_reads_standard_input_and_answers_in_json_without_the_password() -> None:
    from password_vaults import run

    weak = run("motdepasse", "tester", "--json", stdin="Pharmacie2024!\n")
    assert weak.returncode == 1, weak.stderr
    document = json.loads(weak.stdout)
    assert document["acceptable"] is False and document["cnil"]["met"] == [1, 2, 3]
    assert document["estimation"]["bits"] < 33 and "Pharmacie2024!" not in weak.stdout + weak.stderr
    strong = run(
        "motdepasse",
        "tester",
        "--contexte",
        "Pharmacie des Tilleuls",
        stdin="patauger farfadet juillet nord neural enfuir nuptiale\n",
    )
    assert strong.returncode == 0 and "Acceptable" in strong.stdout
    code = run("motdepasse", "tester", "--cas", "3", "--json", stdin="7391\n")
    assert code.returncode == 0 and json.loads(code.stdout)["cnil"]["case"] == 3


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("--cas", "4"), "x\n", "Commande incorrecte"),
        ((), "", "Aucun mot de passe reçu"),
        ((), "a" * 1025 + "\n", "Au-delà de 1024 caractères"),
    ],
)
def test_the_tester_command_refuses_bad_input_in_french(args: tuple[str, ...], stdin: str, words: str) -> None:
    from password_vaults import run

    r = run("motdepasse", "tester", *args, stdin=stdin)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr


def test_the_generator_command_gives_json_and_refuses_an_impossible_case() -> None:
    from password_vaults import run

    r = run("motdepasse", "generer", "--nombre", "3", "--json")
    made = json.loads(r.stdout)
    assert r.returncode == 0 and len(made) == 3 and all(m["cnil_cases_met"] == [1, 2, 3] for m in made)
    r = run("motdepasse", "generer", "--mots", "5")
    assert r.returncode == 2 and "entre 7 (cas 1 de la CNIL)" in r.stderr
