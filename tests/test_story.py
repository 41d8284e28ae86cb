"""One story for every surface: sections, order, counts, per-workstation verdicts, scope,
French plurals and dates. Expected values are written from the scenario of each test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conftest import RootTree
from officine import snapshot
from officine.answers import AcceptedException, Answers
from officine.catalogue.loader import load_messages
from officine.dates import day, french_if_iso, long_day, moment
from officine.host import LocalHost
from officine.services import story
from officine.services.knowledge import load_knowledge

VERDICTS = ["pass", "warn", "fail", "unknown", "needs_answer", "not_applicable"]
EXCEPTION = {"justification": "Remplacé en mars", "by": "marie", "date": "2026-01-01", "until": None, "expired": False}


def m(
    mid: str, verdict: str, severity: str = "medium", exception: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": mid,
        "practice": mid.split("-", maxsplit=1)[0],
        "title": f"titre {mid}",
        "severity": severity,
        "verdict": verdict,
        "exception": exception,
        "evidence": extra.pop("evidence", []),
        **extra,
    }


def test_actions_first_then_questions_counted_apart_and_never_a_measure_that_does_not_apply() -> None:
    doc = {
        "measures": [
            m("SAV-01", "needs_answer", "critical"),
            m("SAV-02", "warn", "high"),
            m("MDP-01", "fail", "critical"),
            m("MDP-02", "unknown", "high"),
            m("WIFI-01", "not_applicable", "critical"),
            m("MAJ-01", "pass", "critical"),
            m("POS-01", "fail", "critical", exception=EXCEPTION),
            m("RGPD-01", "needs_answer", "low"),
            m("ACC-01", "fail", "low"),
        ]
    }
    s = story.sections(doc)
    # Most severe first; within a severity fail before unknown before warn; then catalogue order.
    assert [x["id"] for x in s.actions] == ["MDP-01", "MDP-02", "SAV-02", "ACC-01"]
    assert [x["id"] for x in s.questions] == ["SAV-01", "RGPD-01"]
    assert [x["id"] for x in s.excepted] == ["POS-01"]
    assert [x["id"] for x in s.conforming] == ["MAJ-01"]
    assert "WIFI-01" not in [x["id"] for x in s.actions + s.questions]


def test_an_accepted_exception_is_counted_once_not_twice() -> None:
    # Ten measures, one of them set aside: ten things counted, not eleven.
    measures = [m(f"MDP-{i:02d}", "pass") for i in range(1, 10)] + [m("MDP-10", "fail", exception=EXCEPTION)]
    c = story.count(measures)
    assert c.by_verdict == {"pass": 9} and c.excepted == 1 and c.total == 10
    assert c.items() == [("pass", 9)]
    expired = {**EXCEPTION, "expired": True}
    assert story.count([m("MDP-01", "fail", exception=expired)]).by_verdict == {"fail": 1}


@given(st.lists(st.tuples(st.sampled_from(VERDICTS), st.booleans()), min_size=1, max_size=12))
def test_every_measure_lands_in_exactly_one_section_and_one_count(items: list[tuple[str, bool]]) -> None:
    measures = [m(f"MDP-{i:02d}", v, exception=EXCEPTION if e else None) for i, (v, e) in enumerate(items)]
    s = story.sections({"measures": measures})
    placed = [x["id"] for x in s.actions + s.questions + s.excepted + s.conforming + s.not_applicable]
    assert sorted(placed) == sorted(x["id"] for x in measures)
    assert story.count(measures).total == len(measures)


def finding(host: str, sid: str, verdict: str, text: str) -> dict[str, Any]:
    return {"host": host, "snapshot_id": sid, "verdict": verdict, "text": text, "source": "machine"}


def test_a_workstation_counts_measures_not_findings() -> None:
    """Three accounts without a password on one workstation are one measure to fix there."""
    doc = {
        "hosts": [{"hostname": "comptoir-1", "snapshot_id": "s1"}, {"hostname": "reserve", "snapshot_id": "s2"}],
        "measures": [
            m(
                "MDP-03",
                "fail",
                "critical",
                evidence=[
                    finding("comptoir-1", "s1", "fail", "Compte « paul » sans mot de passe."),
                    finding("comptoir-1", "s1", "fail", "Compte « léa » sans mot de passe."),
                    finding("comptoir-1", "s1", "fail", "Compte « invité » sans mot de passe."),
                    finding("reserve", "s2", "pass", "Aucun compte sans mot de passe."),
                ],
            ),
            m(
                "POS-02",
                "unknown",
                "high",
                evidence=[
                    finding("comptoir-1", "s1", "pass", "Pare-feu actif."),
                    finding("reserve", "s2", "unknown", "Pare-feu non lisible sans droits."),
                ],
            ),
            m(
                "SAV-01",
                "needs_answer",
                "critical",
                evidence=[{"verdict": "needs_answer", "text": "?", "source": "answer"}],
            ),
        ],
    }
    counts = story.host_counts(doc)
    assert counts["s1"].by_verdict == {"fail": 1, "pass": 1}
    assert counts["s2"].by_verdict == {"pass": 1, "unknown": 1}
    mine = story.host_measures(doc, "s1")
    assert [(h.measure["id"], h.verdict, len(h.findings)) for h in mine] == [
        ("MDP-03", "fail", 3),
        ("POS-02", "pass", 1),
    ]


def test_scope_change_and_long_lists() -> None:
    change = story.scope_change(["comptoir-1"], ["comptoir-1", "reserve-2"])
    assert change.added == ["reserve-2"] and change.removed == [] and change.changed
    assert not story.scope_change(["a", "b"], ["b", "a"]).changed
    assert story.shorten([str(i) for i in range(12)]) == (["0", "1", "2", "3", "4"], 7)
    assert story.shorten([str(i) for i in range(6)]) == ([str(i) for i in range(6)], 0)  # never "… et 1 autre"


def test_one_priority_order_everywhere(tree: RootTree) -> None:
    """The terminal's and the evaluate() priorities are the first actions of the report's list."""
    tree.debian()
    k = load_knowledge()
    snap = snapshot.collect(LocalHost(tree.path))
    accepted = AcceptedException(
        measure="POS-01", justification="Antivirus géré par le siège", by="marie", date=date(2026, 1, 1)
    )
    a = k.judge([snap], Answers(exceptions={"POS-01": accepted}), {}, date(2026, 3, 1))
    actions = story.sections(a.to_json()).actions
    assert [r.measure.id for r in a.priorities] == [x["id"] for x in actions[:5]]
    assert "POS-01" not in [x["id"] for x in actions]
    assert all(r.verdict.value in ("fail", "unknown", "warn") for r in a.priorities)


def test_french_plurals_and_dates_in_messages() -> None:
    messages = load_messages()
    template = "{n:|# incident noté|# incidents notés} ; {n:|aucune longueur minimale|# caractère|# caractères}"
    assert messages.render(template, {"n": 0}) == "0 incident noté ; aucune longueur minimale"
    assert messages.render(template, {"n": 1}) == "1 incident noté ; 1 caractère"
    assert messages.render(template, {"n": 12}) == "12 incidents notés ; 12 caractères"
    assert messages.render("{n:|# jour|# jours}", {}) == "?"
    # An ISO value reaches a French sentence as a French date, in Paris time.
    assert messages.render("jusqu'au {until}", {"until": "2028-06-30"}) == "jusqu'au 30/06/2028"
    assert messages.render("le {at}", {"at": "2026-07-14T22:30:00+00:00"}) == "le 15/07/2026 à 00:30"
    # The MDP-01 evidence for a system that accepts empty passwords never says "0 caractères".
    zero = messages.evidence("MDP-01", "too_short", {"length": 0, "module": "pam_unix"})
    assert "0 caractère" not in zero and zero.startswith("Aucune longueur minimale")


def test_paris_time_across_daylight_saving() -> None:
    assert moment(datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) == "15/01/2026 à 13:00"
    assert moment(datetime(2026, 7, 15, 12, 0, tzinfo=UTC)) == "15/07/2026 à 14:00"
    assert moment(datetime(2026, 3, 29, 1, 30)) == "29/03/2026 à 03:30"  # naive: taken as UTC
    assert day("2026-12-31T23:30:00+00:00") == "01/01/2027"
    assert long_day(date(2026, 3, 1)) == "1er mars 2026" and long_day(date(2026, 11, 29)) == "29 novembre 2026"
    assert french_if_iso("comptoir-2026") == "comptoir-2026" and french_if_iso(3) == 3


def _pos02(tree: RootTree, *packages: str, os_id: str = "debian", like: str = "", name: str = "comptoir-1") -> Any:
    tree.debian()
    tree.write("/etc/hostname", f"{name}\n")
    tree.write("/etc/machine-id", f"{hash(name) & 0xFFFFFFFF:032x}\n")
    tree.write("/etc/os-release", f'ID={os_id}\nID_LIKE="{like}"\nVERSION_ID="12"\nPRETTY_NAME="{os_id} 12"\n')
    tree.packages("base-files", *packages)
    return snapshot.collect(LocalHost(tree.path))


def _advice(snaps: list[Any]) -> list[dict[str, Any]]:
    a = load_knowledge().judge(snaps, Answers(), {}, date(2026, 3, 1))
    return next(r.remediations for r in a.measures if r.measure.id == "POS-02")


def test_firewall_advice_fits_each_workstation_s_system(tree: RootTree, tmp_path: Path) -> None:
    """Debian without ufw gets nftables steps; with ufw, ufw's; Fedora, firewalld's."""
    [debian] = _advice([_pos02(tree)])
    assert (
        debian["hosts"] == [] and "nftables" in debian["text"] and debian["text"].startswith("Debian utilise nftables")
    )
    [with_ufw] = _advice([_pos02(tree, "ufw")])
    assert with_ufw["text"].startswith("ufw est installé")
    [ubuntu] = _advice([_pos02(tree, "ufw", os_id="ubuntu", like="debian")])
    assert ubuntu["text"].startswith("ufw est installé")
    # Two workstations of different systems: each group of workstations gets its own steps.
    first = _pos02(tree)
    fedora = _pos02(tree, os_id="fedora", name="reserve-2")
    both = {tuple(a["hosts"]): a["text"] for a in _advice([first, fedora])}
    assert both[("comptoir-1",)].startswith("Debian utilise nftables") and "firewalld" in both[("reserve-2",)]
    # The installed packages unreadable: no step that assumes a tool is there.
    _pos02(tree, "ufw")
    (tree.path / "var/lib/dpkg/status").unlink()
    [unreadable] = _advice([snapshot.collect(LocalHost(tree.path))])
    assert unreadable["text"].startswith("Debian utilise nftables")
