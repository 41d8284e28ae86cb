"""Fuzzing with hostile snapshots: include cycles, escapes, markup, deep nesting, huge outputs.

Each generated snapshot goes through `officine audit --from` and through the dashboard's
import, each in its own process with a memory, CPU and wall-clock bound (tests/hostile.py).
Whatever the file holds, the outcome is a report (exit 0) or a French refusal (exit 2): never
a hang, a crash, an internal error, or a character that a terminal would obey.
The include expansion itself is also checked in-process against a naive expansion on random
include graphs (many more cases: it is pure).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import RootTree
from hostile import dashboard_import, english_in, officine_bounded, unsafe_characters, with_file, write
from officine import snapshot
from officine.collectors.linux import includes
from officine.collectors.linux.password_policy import _stack
from officine.host import LocalHost
from officine.host.base import Observation, ObsStatus
from officine.host.replay import ReplayHost
from officine.parsers.pam import PamLine, parse_pam


@pytest.fixture(scope="module")
def base_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tree = RootTree(tmp_path_factory.mktemp("racine"))
    tree.debian()
    tree.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n")
    tree.write("/etc/ssh/sshd_config.d/10.conf", "PasswordAuthentication no\n")
    return json.loads(snapshot.collect(LocalHost(tree.path)).dumps())


# -- what a hostile file may hold ---------------------------------------------------------------------

ESCAPE_PIECES = [
    "\x1b[2J",
    "\x1b]0;titre\x07",
    "\x1b]8;;http://exemple.invalid\x1b\\lien\x1b]8;;\x1b\\",
    "\x1b[31m",
    "\x9b2J",
    "\x07",
    "\r",
    "\b",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "\u2028",
    "\U000e0041",
    "[bold]",
    "[/]",
    "[/bold]",
    "[link=http://exemple.invalid]",
    ":skull:",
    "\\",
    "\\[",
    "%s",
    "{0}",
    "<b>",
    "&amp;",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(ESCAPE_PIECES), st.text(min_size=0, max_size=8)), min_size=1, max_size=12
).map("".join)

STACKS = ["common-password", "common-auth", "system-auth", "password-auth", "login", "passwd", "autre"]
pam_line = st.one_of(
    st.sampled_from(STACKS).map(lambda s: f"@include {s}"),
    st.tuples(
        st.sampled_from(["auth", "password", "-auth"]),
        st.sampled_from(["include", "substack"]),
        st.sampled_from(STACKS),
    ).map(" ".join),
    st.just("password requisite pam_pwquality.so minlen=14"),
    st.just("auth required pam_faillock.so preauth deny=5"),
    st.just("password [success=1 default=ignore] pam_unix.so obscure"),
    hostile_text,
)
pam_file = st.lists(pam_line, min_size=1, max_size=30).map(lambda lines: "\n".join(lines) + "\n")
sshd_line = st.one_of(
    st.sampled_from(
        [
            "Include /etc/ssh/sshd_config",
            "Include sshd_config",
            "Include /etc/ssh/*",
            "Include /etc/ssh/sshd_config.d/*.conf",
            "Include /etc/ssh/sshd_config.d/*",
            "PermitRootLogin no",
            "PasswordAuthentication no",
            "Match User x",
            "Match all",
        ]
    ),
    hostile_text.map(lambda t: f"Banner {t}"),
)
sshd_file = st.lists(sshd_line, min_size=1, max_size=30).map(lambda lines: "\n".join(lines) + "\n")


def nested(depth: int, kind: str) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


@st.composite
def hostile_snapshot(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(base))
    for name in draw(st.lists(st.sampled_from(STACKS), max_size=4, unique=True)):
        doc = with_file(doc, f"/etc/pam.d/{name}", draw(pam_file))
    if draw(st.booleans()):
        doc = with_file(doc, "/etc/ssh/sshd_config", draw(sshd_file))
        doc = with_file(doc, "/etc/ssh/sshd_config.d/10.conf", draw(sshd_file))
    if draw(st.booleans()):
        doc["host"]["hostname"] = draw(hostile_text)[:255]
    if draw(st.booleans()):
        pretty = draw(hostile_text)
        doc = with_file(doc, "/etc/os-release", f'PRETTY_NAME="{pretty}"\nID=debian\nVERSION_ID=12\nNAME="{pretty}"\n')
    if draw(st.booleans()):
        user = draw(hostile_text).replace(":", "").replace("\n", "")
        doc = with_file(doc, "/etc/passwd", f"root:x:0:0::/root:/bin/bash\n{user}:x:0:0::/home/x:/bin/bash\n")
    if draw(st.booleans()):
        depth = draw(st.sampled_from([20, 70, 400, 950]))
        place = draw(st.sampled_from(["host", "collector", "extra", "fact"]))
        value = nested(depth, draw(st.sampled_from(["list", "dict"])))
        if place == "host":
            doc["host"]["x"] = value
        elif place == "collector":
            doc["collector"]["x"] = value
        elif place == "extra":
            doc["observations"][0]["extra"] = {"x": value}
        else:
            next(iter(doc["facts"].values()))["value"] = value
    if draw(st.booleans()):
        size = draw(st.sampled_from([100_000, 3_000_000, 12_000_000]))
        piece = draw(
            st.sampled_from(["A", "@include common-password\n", "Package: x\nStatus: install ok installed\n", "\x1b["])
        )
        target = draw(
            st.sampled_from(
                ["/etc/pam.d/common-password", "/var/lib/dpkg/status", "/etc/ssh/sshd_config", "/etc/hostname"]
            )
        )
        doc = with_file(doc, target, piece * (size // len(piece)))
    return doc


def _judge(proc_stdout: str, proc_stderr: str, returncode: int, what: str, terminal: bool = True) -> None:
    assert returncode in (0, 2), f"{what}: exit {returncode}\n{proc_stderr[-2000:]}"
    assert "Traceback" not in proc_stderr and "Erreur interne" not in proc_stderr, proc_stderr[-2000:]
    if terminal:  # the dashboard shows its messages in HTML, escaped by the templates
        assert unsafe_characters(proc_stdout + proc_stderr) == set(), f"{what}: raw control characters printed"
    if returncode == 2:
        assert english_in(proc_stderr) == [], proc_stderr


@pytest.mark.timeout(1800)
@given(data=st.data())
@settings(
    max_examples=12,
    deadline=None,
    # Each case is three processes: shrinking a failure would take longer than finding it; the
    # failing document is reported as generated.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
def test_hostile_snapshots_never_hang_crash_or_inject(
    data: st.DataObject, base_doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("cas")
    doc = data.draw(hostile_snapshot(base_doc))
    try:
        path = write(doc, folder / "poste.json")
    except RecursionError:  # deeper than this process can even seal: the parser's own limit
        return
    env = {"OFFICINE_DATA_DIR": str(folder / "data")}
    audit = officine_bounded("audit", "--from", str(path), env=env)
    _judge(audit.stdout, audit.stderr, audit.returncode, "audit --from")
    history = officine_bounded("history", env=env)
    _judge(history.stdout, history.stderr, history.returncode, "history")
    imported = dashboard_import(path, folder / "tableau.db")
    _judge(imported.stdout, imported.stderr, imported.returncode, "import", terminal=False)
    assert (audit.returncode == 0) == (imported.returncode == 0), "the CLI and the dashboard disagree"


# -- the include expansion against a naive one ----------------------------------------------------------

graph = st.dictionaries(
    st.sampled_from(STACKS),
    st.lists(
        st.one_of(
            st.sampled_from(STACKS).map(lambda s: f"@include {s}"),
            st.sampled_from(
                [
                    "password requisite pam_pwquality.so minlen=14",
                    "password required pam_unix.so",
                    "auth required pam_faillock.so deny=5",
                ]
            ),
        ),
        max_size=6,
    ),
    min_size=1,
)


def _naive(files: dict[str, list[str]], name: str, chain: tuple[str, ...]) -> list[PamLine] | None:
    """Every include followed as written; None on a loop."""
    if name in chain:
        return None
    if name not in files:
        return []
    out: list[PamLine] = []
    for line in parse_pam("\n".join(files[name])):
        if line.type == "include":
            inner = _naive(files, line.module, (*chain, name))
            if inner is None:
                return None
            out += inner
        else:
            out.append(line)
    return out


def _first_occurrences(lines: list[PamLine]) -> list[PamLine]:
    seen: list[PamLine] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return seen


@given(files=graph, start=st.sampled_from(STACKS))
@settings(max_examples=300, deadline=None)
def test_include_expansion_is_bounded_and_agrees_with_a_naive_one(files: dict[str, list[str]], start: str) -> None:
    observations = [
        Observation(kind="file", target=f"/etc/pam.d/{name}", status=ObsStatus.ok, output="\n".join(lines) + "\n")
        for name, lines in files.items()
    ]
    host = ReplayHost(observations, "linux", live=True)
    used: list[Observation] = []
    lines, problem = _stack(host, f"/etc/pam.d/{start}", used)
    assert len(used) <= includes.MAX_FILES and len({o.key for o in used}) == len(used)  # each file read once
    expected = _naive(files, start, ())
    if expected is None:
        assert problem is not None and "boucle" in problem
    else:
        assert problem is None
        # What the judgement reads: which lines exist, and which comes first.
        assert _first_occurrences(lines) == _first_occurrences(expected)
