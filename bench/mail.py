"""Benchmark: time per message of the e-mail analyser on the labelled corpus, against parsing
alone (Python's email package, policy.default) in the same run, and peak memory.

Run: .venv/bin/python bench/mail.py [--repeat 5] [--big-mb 50] [--out bench/results/mail.json]
- corpus: every message of tests/fixtures/mail/corpus, analysed --repeat times in one warm
  process (imports done); per message the median of its runs; then the median and p95 over
  messages, for the analyser and for parsing alone; ratio analyser / parsing.
- first: the first message in a fresh process, imports included (what `officine courriel
  analyser` costs once).
- big: a --big-mb message (text and one random attachment) in a fresh process: time and peak
  resident memory (ru_maxrss).
Goals (issue 15): median < 300 ms, p95 < 1 s per message.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from email import policy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests/fixtures/mail/corpus"
sys.path.insert(0, str(ROOT / "tests"))

from mail_corpus import message  # noqa: E402
from officine.mail.analyse import MailSettings, analyse_bytes  # noqa: E402


def peak_mb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited through exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def corpus(repeat: int) -> dict[str, object]:
    labels = yaml.safe_load((CORPUS / "labels.yaml").read_text(encoding="utf-8"))
    settings = MailSettings(labels["serveur_de_confiance"])
    messages = [(m["fichier"], (CORPUS / m["fichier"]).read_bytes()) for m in labels["messages"]]
    analyse_bytes(messages[0][1], settings)  # warm the caches (public suffix list, homoglyph table)
    analysis: dict[str, float] = {}
    parsing: dict[str, float] = {}
    for name, data in messages:
        a_runs, p_runs = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            email.message_from_bytes(data, policy=policy.default).get_body()
            p_runs.append(time.perf_counter() - start)
            start = time.perf_counter()
            analyse_bytes(data, settings)
            a_runs.append(time.perf_counter() - start)
        analysis[name], parsing[name] = statistics.median(a_runs), statistics.median(p_runs)
    a, p = list(analysis.values()), list(parsing.values())
    slowest = max(analysis, key=lambda k: analysis[k])
    return {
        "messages": len(messages),
        "repeat": repeat,
        "analyser_ms": {
            "median": round(statistics.median(a) * 1000, 2),
            "p95": round(_p95(a) * 1000, 2),
            "max": round(max(a) * 1000, 2),
        },
        "parsing_only_ms": {"median": round(statistics.median(p) * 1000, 2), "p95": round(_p95(p) * 1000, 2)},
        "ratio_median_analyser_vs_parsing": round(statistics.median(a) / statistics.median(p), 1),
        "slowest": {"message": slowest, "ms": round(analysis[slowest] * 1000, 2)},
        "peak_rss_mb": peak_mb(),
    }


CHILD = """
import json, sys, time
from pathlib import Path
start = time.perf_counter()
from officine.mail.analyse import MailSettings, analyse_file
from pathlib import Path
result = analyse_file(Path(sys.argv[1]), MailSettings())
hwm = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:"))
print(json.dumps({"seconds": round(time.perf_counter() - start, 3), "verdict": result.verdict,
                  "peak_rss_mb": round(int(hwm.split()[1]) / 1024)}))
"""


def fresh(path: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
    doc: dict[str, object] = json.loads(out.stdout)
    doc["size_kb"] = round(path.stat().st_size / 1e3, 1)
    return doc


def big_message(mb: int, folder: Path) -> Path:
    path = folder / "gros.eml"
    attachment = os.urandom(int(mb * 0.73 * 1e6))  # base64 makes it a third larger
    path.write_bytes(
        message(
            '"x" <x@exemple.fr>',
            "gros",
            text="Bonjour " * 200_000,
            attachments=[("gros.bin", attachment, "application/octet-stream")],
        )
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/mail.json")
    args = parser.parse_args()
    measured = corpus(args.repeat)  # first: its peak memory is this process's own
    with tempfile.TemporaryDirectory(prefix="officine-bench-mail-") as tmp:
        big = fresh(big_message(args.big_mb, Path(tmp)))
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.platform()},
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "first_message_fresh_process": fresh(CORPUS / "ecrit/m01_ameli_remboursement.eml"),
        "big_message_fresh_process": big,
        "corpus": measured,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
