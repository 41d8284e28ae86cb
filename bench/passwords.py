"""Benchmark: the password tester's latency and the audit of a large KeePass database.

Run: .venv/bin/python bench/passwords.py [--entries 5000] [--repeat 5] [--out FILE]

1. Tester: every input (the labelled French passwords, passphrases and random passwords of 8 to
   128 characters, and worst cases: repetitions, keyboard walks, leetspeak, digits) is judged
   `--repeat` times by `strength.assess` (everything the tester does), side by side with plain
   zxcvbn 4.5 on the same inputs (cut to its 72-character limit). Goal: p95 < 50 ms.
2. Audit: a KeePass database of `--entries` entries (random passwords as KeePassXC generates
   them, French passwords people choose, passphrases, reused ones, empty logins) written by
   pykeepass, then audited. The key derivation (Argon2 with pykeepass's defaults) is timed alone:
   opening with the master password minus opening with the derived key. Goal: the audit without
   the key derivation (parse + read + judge) < 5 s.
Results go to bench/results/passwords.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import string
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from zxcvbn import zxcvbn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results/passwords.json"

from officine.passwords.audit import analyse  # noqa: E402
from officine.passwords.lists import diceware_words, dictionaries  # noqa: E402
from officine.passwords.strength import assess  # noqa: E402
from officine.passwords.vault import entries_of_keepass, open_keepass  # noqa: E402

MASTER = "benchmark-phrase-de-passe-principale-sept-mots"


def tester_inputs(rng: random.Random) -> list[str]:
    labelled = yaml.safe_load((ROOT / "tests/fixtures/passwords/labelled_fr.yaml").read_text("utf-8"))
    inputs = [e["password"] for group in ("weak", "strong") for e in labelled[group]]
    words = diceware_words()
    pool = string.ascii_letters + string.digits + "!#$%&*+-=?@_"
    for length in (8, 12, 16, 20, 32, 48, 64, 96, 128):
        inputs += ["".join(rng.choice(pool) for _ in range(length)) for _ in range(5)]
    for count in (4, 7, 10, 14, 18):
        inputs += ["-".join(rng.choice(words) for _ in range(count))[:128] for _ in range(5)]
        inputs += [" ".join(rng.choice(words) for _ in range(count))[:128] for _ in range(5)]
    inputs += [
        "a" * 128,
        "azertyuiop" * 12,
        "P@ssw0rd!" * 14,
        "1234567890" * 12,
        "Marseille2024!" * 9,
        "&é\"'(-è_çà)=" * 10,
        ("Le chat de ma voisine mange des cornichons le mardi " * 3)[:128],
        "".join(rng.choice("0123456789") for _ in range(128)),
        "".join(rng.choice("!@$01345|7") for _ in range(128)),  # every character a l33t candidate
    ]
    return inputs


def _cpu() -> float:
    """CPU time of this process and of its finished children (the audit's worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_tester(repeat: int) -> dict[str, Any]:
    rng = random.Random(16)
    inputs = tester_inputs(rng)
    assess("échauffement")  # lists loaded once per process, as in the server
    ours: list[float] = []
    plain: list[float] = []
    by_length: dict[str, list[float]] = {}
    for _ in range(repeat):
        for password in inputs:
            start = time.perf_counter()
            assess(password)
            elapsed = (time.perf_counter() - start) * 1000
            ours.append(elapsed)
            bucket = "<=16" if len(password) <= 16 else "17-64" if len(password) <= 64 else "65-128"
            by_length.setdefault(bucket, []).append(elapsed)
            start = time.perf_counter()
            zxcvbn(password[:72])
            plain.append((time.perf_counter() - start) * 1000)
    return {
        "inputs": len(inputs),
        "max_length": max(len(p) for p in inputs),
        "judgements": len(ours),
        "ours_ms": {"p50": percentile(ours, 0.5), "p95": percentile(ours, 0.95), "max": max(ours)},
        "plain_zxcvbn_ms": {"p50": percentile(plain, 0.5), "p95": percentile(plain, 0.95), "max": max(plain)},
        "p95_ratio_ours_vs_plain": percentile(ours, 0.95) / percentile(plain, 0.95),
        "ours_p95_by_length_ms": {k: percentile(v, 0.95) for k, v in sorted(by_length.items())},
        "goal_p95_ms": 50,
    }


def vault_passwords(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(title, user, password): what a pharmacy's vault holds, in proportions a provider sees."""
    labelled = yaml.safe_load((ROOT / "tests/fixtures/passwords/labelled_fr.yaml").read_text("utf-8"))
    human = [e["password"] for e in labelled["weak"]] + list(dictionaries().richelieu_ranked[:2000])
    words = diceware_words()
    pool = string.ascii_letters + string.digits + "!#$%&*+-=?@_"
    rows: list[tuple[str, str, str]] = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.55:  # generated by KeePassXC
            password = "".join(rng.choice(pool) for _ in range(rng.choice((16, 20, 24, 32))))
        elif roll < 0.75:  # chosen by a person
            password = rng.choice(human) + (str(rng.randint(1950, 2026)) if rng.random() < 0.5 else "")
        elif roll < 0.85:
            password = "-".join(rng.choice(words) for _ in range(rng.choice((5, 6, 7))))
        elif roll < 0.95 and rows:  # reused
            password = rng.choice(rows)[2]
        else:
            password = ""
        rows.append((f"Compte {i:05d} site-{rng.randint(1, 999)}.fr", f"utilisateur{i}", password))
    return rows


def bench_audit(entries: int) -> dict[str, Any]:
    from pykeepass import PyKeePass, create_database  # noqa: PLC0415 - only this part needs it

    rng = random.Random(17)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "coffre.kdbx"
        kp = create_database(str(path), password=MASTER)
        group = kp.add_group(kp.root_group, "Pharmacie")
        start = time.perf_counter()
        for title, user, password in vault_passwords(entries, rng):
            kp.add_entry(group, title, user, password, url="https://exemple.fr", force_creation=True)
        kp.save()
        build_s = time.perf_counter() - start
        size = path.stat().st_size

        start, cpu = time.perf_counter(), time.process_time()
        opened = open_keepass(path, MASTER)
        open_with_kdf_s, open_cpu = time.perf_counter() - start, time.process_time() - cpu
        key = opened.transformed_key
        start, cpu = time.perf_counter(), time.process_time()
        opened = PyKeePass(str(path), transformed_key=key)
        parse_s, parse_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        vault = entries_of_keepass(opened, path.name)
        read_s, read_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), _cpu()
        report = analyse(vault, datetime.now(UTC))
        judge_s, judge_cpu = time.perf_counter() - start, _cpu() - cpu
    return {
        "entries": entries,
        "file_bytes": size,
        "build_s": build_s,
        "key_derivation_s": max(0.0, open_with_kdf_s - parse_s),
        "open_with_key_derivation_s": open_with_kdf_s,
        "parse_without_key_derivation_s": parse_s,
        "read_entries_s": read_s,
        "judge_s": judge_s,
        "audit_without_key_derivation_s": parse_s + read_s + judge_s,
        "cpu": {
            "judge_s": judge_cpu,
            "key_derivation_s": max(0.0, open_cpu - parse_cpu),
            "audit_without_key_derivation_s": parse_cpu + read_cpu + judge_cpu,
        },
        "unique_passwords": len({e.password for e in vault.entries if e.password}),
        "goal_s": 5,
        "counts": report.counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        },
        "tester": bench_tester(args.repeat),
        "audit": bench_audit(args.entries),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    t, a = result["tester"], result["audit"]
    print(
        f"tester: {t['judgements']} judgements, p50 {t['ours_ms']['p50']:.1f} ms, p95 {t['ours_ms']['p95']:.1f} ms"
        f" (plain zxcvbn p95 {t['plain_zxcvbn_ms']['p95']:.1f} ms, ratio {t['p95_ratio_ours_vs_plain']:.2f})"
    )
    print(
        f"audit of {a['entries']} entries: key derivation {a['key_derivation_s']:.2f} s; without it "
        f"{a['audit_without_key_derivation_s']:.2f} s (parse {a['parse_without_key_derivation_s']:.2f}, "
        f"read {a['read_entries_s']:.2f}, judge {a['judge_s']:.2f}); CPU without it "
        f"{a['cpu']['audit_without_key_derivation_s']:.2f} s; load average {result['machine']['load_average_at_start']}"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
