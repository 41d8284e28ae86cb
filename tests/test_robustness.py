"""Untrusted input (snapshot files, answers files) and misbehaving commands."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from officine import snapshot
from officine.answers import parse_answers
from officine.collectors import registry
from officine.collectors.registry import CollectContext, run_collectors
from officine.errors import UserError
from officine.facts import Fact, observed, unknown_from
from officine.host import LocalHost
from officine.host.base import Host
from officine.services.audit import load_knowledge

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=40,
)
snapshot_like = st.fixed_dictionaries(
    {"format": st.just("officine-cyber/snapshot"), "schema_version": st.sampled_from([1, 2, "1", None])},
    optional={
        "collected_at": json_values | st.just("2026-11-29T10:00:00+00:00"),
        "observations": json_values,
        "facts": json_values,
        "platform": st.sampled_from(["linux", "windows", "amiga"]),
        "mode": st.sampled_from(["live", "mounted", "x"]),
        "snapshot_id": json_values,
        "host": json_values,
        "collector": json_values,
    },
)


@given(doc=st.one_of(json_values, snapshot_like))
@settings(max_examples=300, deadline=None)
def test_snapshot_parser_only_raises_user_errors(doc: object) -> None:
    if isinstance(doc, dict) and doc.get("format") == snapshot.FORMAT:
        doc["integrity"] = {"algorithm": "sha256", "digest": snapshot.digest(doc)}  # type: ignore[index]
    try:
        parsed = snapshot.parse(doc, Path("f.json"))
    except UserError as exc:
        assert "instantané" in exc.message
        return
    snapshot.reanalyse(parsed)  # a sealed but strange file still replays without crashing


@given(data=json_values)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_answers_parser_only_raises_user_errors(data: object) -> None:
    with contextlib.suppress(UserError):
        parse_answers(data, load_knowledge().catalogue, Path("r.yaml"))


def test_a_hanging_command_times_out_and_does_not_hold_the_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(host: Host, ctx: CollectContext) -> dict[str, Fact]:
        obs = host.run(["sleep", "30"], timeout=0.5)
        return {"test.slow": observed(True, obs) if obs.ok else unknown_from(obs)}

    spec = registry.CollectorSpec("test.slow", ("linux",), ("test.slow",), slow)
    monkeypatch.setitem(registry._REGISTRY, "test.slow", spec)
    start = time.monotonic()
    facts = run_collectors(LocalHost(), CollectContext(datetime.now(UTC)))
    assert time.monotonic() - start < 10
    assert facts["test.slow"].reason == "timeout"
    assert "os.info" in facts and facts["os.info"].observed


def test_a_crashing_collector_makes_its_facts_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(host: Host, ctx: CollectContext) -> dict[str, Fact]:
        raise RuntimeError("boom")

    monkeypatch.setitem(
        registry._REGISTRY,
        "test.broken",
        registry.CollectorSpec("test.broken", ("linux",), ("test.a", "test.b"), broken),
    )
    facts = run_collectors(LocalHost(), CollectContext(datetime.now(UTC)))
    assert facts["test.a"].reason == "collector_error" and "boom" in (facts["test.a"].detail or "")
    assert facts["os.info"].observed


def test_unprivileged_collection_says_unknown_never_pass() -> None:
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    system_python = Path("/usr/bin/python3")
    if os.geteuid() != 0 or not system_python.exists():
        pytest.skip("needs root (to switch to an unprivileged account) and Debian's python3")
    # The virtual environment's interpreter may live in root's home: run Debian's python3
    # (same minor version) on our sources and installed libraries instead.
    site = next((Path(sys.prefix) / "lib").glob("python3*/site-packages"))
    src = Path(__file__).parents[1] / "src"
    work = Path(tempfile.mkdtemp(prefix="officine-nobody-"))
    work.chmod(0o777)
    out = work / "nobody.json"
    for needed in (src, site):
        for parent in [needed, *needed.parents]:
            if parent != Path("/") and parent.stat().st_mode & 0o005 != 0o005:
                pytest.skip(f"{parent} is not readable by an unprivileged account")
    proc = subprocess.run(
        ["runuser", "-u", "nobody", "--", str(system_python), "-m", "officine", "collect", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "HOME": str(work), "PYTHONPATH": f"{src}:{site}"},
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["collector"]["privileged"] is False
    assert doc["facts"]["accounts.empty_passwords"]["reason"] == "permission_denied"
    from helpers import audit_files

    results = audit_files(out)
    shutil.rmtree(work, ignore_errors=True)
    assert results["MDP-03"].verdict.value in ("unknown", "needs_answer")
    assert results["MDP-03"].verdict.value != "pass"


# -- issue 11: files people write, and text shown in a terminal -----------------------------------------

yaml_like = st.lists(
    st.sampled_from(
        [
            "a: 1",
            "- x",
            "  b: [1, {c: d}]",
            "&x y",
            "*x",
            "<<: *x",
            "!!python/object:os.system",
            "2026-02-30",
            "d: 2026-13-01",
            "'",
            '"',
            "\t",
            ":",
            "? k",
            "--- ",
            "...",
            "e: " + "9" * 5000,
            "{",
            "[",
            "#",
            "\\e",
            "%TAG",
        ]
    )
    | st.text(max_size=10),
    max_size=12,
).map("\n".join)


@given(text=st.one_of(yaml_like, st.text(max_size=200)))
@settings(max_examples=400, deadline=None)
def test_people_yaml_is_data_or_a_yaml_error(text: str) -> None:
    import yaml

    from officine.yamlio import parse_user_yaml

    try:
        document = parse_user_yaml(text)
    except yaml.YAMLError:
        return
    for loc in document.lines:  # every recorded path leads to a line of the text
        assert 1 <= document.lines[loc] <= text.count("\n") + 2


def test_people_yaml_refusals_name_file_and_line(tmp_path: Path) -> None:
    from officine.yamlio import read_yaml_file

    cases = {
        "a: 1\nb: &ancre [1]\n": ("ligne 2", "ancres"),
        "a: 1\na: 2\n": ("ligne 2", "deux fois"),
        "a:\n  b: 2026-02-30\n": ("ligne 2", "date impossible « 2026-02-30 »"),
        "a: b: c\n": ("ligne 1", "« : » inattendu"),
        "a:\n\t- x\n": ("ligne 2", "tabulation"),
        "a: '\x07'\n": ("ligne 1", "caractère interdit"),
        "[" * 40 + "]" * 40: ("ligne 1", "imbrication"),
    }
    for text, (line, problem) in cases.items():
        path = tmp_path / "f.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(UserError) as caught:
            read_yaml_file(path, "Le fichier de test")
        assert str(path) in caught.value.message and line in caught.value.message, caught.value.message
        assert problem in caught.value.message, caught.value.message


MARKUP_PIECES = st.lists(st.sampled_from([*"ab\\[]/#@ =", "bold", "[/", "[bold]"]), max_size=12).map("".join)


@given(text=st.text() | MARKUP_PIECES)
@settings(max_examples=500, deadline=None)
def test_terminal_text_shows_what_was_there_and_nothing_a_terminal_obeys(text: str) -> None:
    from rich.text import Text

    from hostile import unsafe_characters
    from officine.report.safe import markup, terminal_text

    shown = terminal_text(text, one_line=True)
    assert unsafe_characters(shown) == set() and "\n" not in shown
    if not unsafe_characters(text) and "\\" not in text and "\n" not in text and "\t" not in text:
        assert shown == text  # ordinary text (accents, emoji, brackets) is untouched
    # Placed in markup (between tags, as the report does), the text renders exactly as shown:
    # no tag taken from it, none of ours swallowed.
    assert Text.from_markup(f"[bold]{markup(text)}[/bold]").plain == shown
    assert Text.from_markup(f"{markup(text)} : suite [dim]x[/dim]").plain == shown + " : suite x"  # text follows


@given(value=json_values)
@settings(max_examples=200, deadline=None)
def test_json_for_the_terminal_means_the_same_document(value: object) -> None:
    from hostile import unsafe_characters
    from officine.report.safe import json_text

    text = json_text(value)
    assert unsafe_characters(text) == set()
    assert json.loads(text) == value
