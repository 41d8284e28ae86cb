"""The Python Windows collector, run here by replaying the recorded outputs of the stored Windows
fixture snapshots through its WindowsAccess interface: same observations, same snapshot structure and
same verdicts as the PowerShell collector's snapshot of the same machine."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from helpers import audit_files
from officine import snapshot
from officine.collectors.windows import live, native
from officine.collectors.windows.script import manifest, target
from officine.host.base import ObsStatus, observation_key
from officine.services import collect
from windows_replay import RecordedWindows

SNAPSHOTS = Path(__file__).parent / "fixtures/snapshots"
WINDOWS = sorted(p for p in SNAPSHOTS.glob("*.json") if json.loads(p.read_text("utf-8"))["format"].endswith("envelope"))
WHEN = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def manifest_keys() -> list[str]:
    return [observation_key(i["kind"], target(i)) for i in manifest()["observations"]]


def content(text: str | None, kind: str) -> Any:
    return text if kind == "command" or text is None else json.loads(text)


@pytest.mark.parametrize("path", WINDOWS, ids=lambda p: p.stem)
def test_python_collector_records_what_collect_ps1_recorded(path: Path, tmp_path: Path) -> None:
    recorded = snapshot.load(path)
    access = RecordedWindows(recorded)
    native_snap = native.collect_snapshot(access, now=recorded.collected_at)
    assert [o.key for o in native_snap.observations] == manifest_keys()
    assert sorted(access.calls) == sorted(manifest_keys())  # each item asked once, nothing else
    by_key = {o.key: o for o in recorded.observations}
    for obs in native_snap.observations:
        ps = by_key[obs.key]
        assert (obs.kind, obs.target, obs.status) == (ps.kind, ps.target, ps.status), obs.key
        assert content(obs.output, obs.kind) == content(ps.output, ps.kind), obs.key
    body, ps_body = native_snap.to_json(), recorded.to_json()
    assert set(body) == set(ps_body)
    assert set(body["collector"]) >= {"user", "privileged"} and body["platform"] == "windows"
    out = tmp_path / "poste.json"
    snapshot.save(native_snap, out)
    mine, theirs = audit_files(out, today=WHEN), audit_files(path, today=WHEN)
    assert {k: v.verdict for k, v in mine.items()} == {k: v.verdict for k, v in theirs.items()}
    assert native_snap.facts.keys() == snapshot.reanalyse(recorded).facts.keys()


class Failing(RecordedWindows):
    """The same machine where every program times out and the registry refuses access."""

    def run(self, argv: Any, timeout: float) -> native.Completed:
        raise TimeoutError("trop long")

    def registry(self, key: str, names: Any) -> dict[str, Any] | None:
        raise PermissionError("Accès refusé")

    def registry_tree(self, key: str, depth: int, value: str | None) -> list[dict[str, Any]] | None:
        raise OSError("lecture impossible")


def test_failures_are_recorded_never_raised_and_never_pass(tmp_path: Path) -> None:
    snap = native.collect_snapshot(Failing(snapshot.load(WINDOWS[0])), now=WHEN)
    statuses = {o.kind: o.status for o in snap.observations}
    assert statuses == {
        "registry": ObsStatus.denied,
        "registry_keys": ObsStatus.error,
        "cim": ObsStatus.timeout,
        "powershell": ObsStatus.timeout,
        "command": ObsStatus.timeout,
    }
    out = tmp_path / "poste.json"
    snapshot.save(snap, out)
    results = audit_files(out, today=WHEN)
    judged = [
        r for r in results.values() if r.measure.verification != "question" and not r.measure.id.startswith("SAV")
    ]
    assert all(r.verdict.value != "pass" for r in judged)


def test_powershell_errors_map_to_statuses() -> None:
    cim = next(i for i in manifest()["observations"] if i["kind"] == "cim")
    ps = next(i for i in manifest()["observations"] if i["kind"] == "powershell")
    assert native._status_of(cim, native.Completed(native.EXIT_MISSING, "", "Invalid namespace")) is ObsStatus.missing
    assert native._status_of(ps, native.Completed(native.EXIT_MISSING, "", "x")) is ObsStatus.error
    # Classified by exit code and facts, never by the (translated) message.
    assert native._status_of(ps, native.Completed(1, "", "Accès refusé")) is ObsStatus.error
    assert native._status_of(ps, native.Completed(1, "", "Access is denied")) is ObsStatus.error
    assert native._status_of(ps, native.Completed(native.EXIT_DENIED, "", "")) is ObsStatus.denied
    secpol = next(i for i in manifest()["observations"] if i["id"] == "accounts.security_policy")
    for message in ("secedit : code de sortie 1", "Impossible de trouver le chemin", "Cannot find path"):
        failed = native.Completed(1, "", message)
        assert native._status_of(secpol, failed, privileged=False) is ObsStatus.denied
        assert native._status_of(secpol, failed, privileged=True) is ObsStatus.error
    # The pipelines stay read-only, like collect.ps1 (the only removal is its own temporary export).
    text = " ".join(native.pipeline(i) for i in manifest()["observations"] if i["kind"] in ("cim", "powershell"))
    for verb in ("set-itemproperty", "new-itemproperty", "disable-", "enable-", "stop-service", "set-mppreference"):
        assert verb not in text.lower(), verb
    assert text.lower().count("remove-item") == 1 and "officine-secpol-" in text


def test_collect_uses_the_python_collector_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = snapshot.load(WINDOWS[0])
    monkeypatch.setattr(collect, "on_windows", lambda: True)
    monkeypatch.setattr(live, "LiveWindows", lambda: RecordedWindows(recorded))
    seen: list[str] = []
    snap = collect.collect_local(progress=seen.append)
    assert snap.platform == "windows" and snap.hostname == recorded.hostname
    assert seen == [i["id"] for i in manifest()["observations"]]


def test_live_access_off_windows_says_so_and_decodes_oem_text() -> None:
    with pytest.raises(OSError, match="Windows"):
        live.LiveWindows().registry("HKLM\\SOFTWARE", ["x"])
    assert live.decode("État : connecté".encode("cp850")) == "État : connecté"
    assert live.decode("État".encode()) == "État"
    result = live.LiveWindows().run([sys.executable, "-c", "print('ok')"], 10)
    assert result == native.Completed(0, "ok\n", "")
    with pytest.raises(FileNotFoundError):
        live.LiveWindows().run(["officine-programme-absent"], 10)
    with pytest.raises(TimeoutError):
        live.LiveWindows().run([sys.executable, "-c", "import time; time.sleep(5)"], 0.2)
