"""The Windows PowerShell collector: it records exactly what the manifest lists, in a sealed
envelope that the Python side opens; without Windows parsers nothing can pass."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import audit_files, windows_envelope
from officine import snapshot
from officine.collectors.windows.script import KINDS, manifest, powershell_script, target
from officine.errors import UserError
from officine.host.replay import ReplayHost

SCRIPT = powershell_script()


def embedded_manifest(script: str) -> Any:
    m = re.search(r"\$ManifestJson = @'\r?\n(.*?)\r?\n'@", script, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_script_embeds_exactly_the_manifest() -> None:
    assert embedded_manifest(SCRIPT) == manifest()


def test_script_handles_every_kind_and_only_those() -> None:
    table = re.search(r"\$handlers = @\{(.*?)\}", SCRIPT, re.S)
    assert table is not None
    handlers = dict(re.findall(r"(\w+) = '([\w-]+)'", table.group(1)))
    assert set(handlers) == set(KINDS)
    for function in handlers.values():
        assert re.search(rf"^function {function}\(", SCRIPT, re.M), function
    assert {item["kind"] for item in manifest()["observations"]} <= set(KINDS)


def test_script_is_ascii_read_only_and_asks_for_no_secret() -> None:
    SCRIPT.encode("ascii")
    lowered = SCRIPT.lower()
    assert "defaultpassword" not in lowered and "key=clear" not in lowered
    for verb in (
        "set-itemproperty",
        "new-itemproperty",
        "remove-itemproperty",
        "disable-",
        "enable-",
        "stop-service",
        "set-mppreference",
        "restart-computer",
    ):
        assert verb not in lowered, verb
    # The only file it removes is its own temporary security-policy export.
    assert lowered.count("remove-item") == 1 and "officine-secpol-" in lowered


def test_cli_prints_the_script_and_writes_it_with_a_bom(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "officine", "collector", "windows"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and embedded_manifest(proc.stdout) == manifest()
    out = tmp_path / "collect.ps1"
    proc = subprocess.run(
        [sys.executable, "-m", "officine", "collector", "windows", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    bad = subprocess.run(
        [sys.executable, "-m", "officine", "collector", "amiga"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and "Plateforme inconnue" in bad.stderr


def _observation(item: dict[str, Any]) -> dict[str, Any]:
    """What collect.ps1 records for a manifest item on a machine where the item was unavailable."""
    return {"kind": item["kind"], "target": target(item), "status": "missing", "detail": "absent", "duration_ms": 1.0}


def _envelope(body: dict[str, Any]) -> dict[str, Any]:
    return windows_envelope(body["observations"], body["host"]["hostname"], body["collected_at"])


def _body() -> dict[str, Any]:
    return {
        "observations": [_observation(i) for i in manifest()["observations"]],
        "host": {"hostname": "COMPTOIR-2"},
        "collected_at": "2026-11-28T09:00:00+00:00",
    }


def test_envelope_opens_and_replays_every_manifest_item(tmp_path: Path) -> None:
    path = tmp_path / "COMPTOIR-2-officine.json"
    path.write_text(json.dumps(_envelope(_body())), encoding="utf-8")
    snap = snapshot.load(path)
    assert snap.platform == "windows" and snap.hostname == "COMPTOIR-2"
    host = ReplayHost(snap.observations, snap.platform, live=True)
    for item in manifest()["observations"]:
        obs = host.run(item["argv"]) if item["kind"] == "command" else host.recorded(item["kind"], target(item))
        assert obs.status.value == "missing", item["id"]


def test_windows_snapshot_where_nothing_was_readable_never_passes(tmp_path: Path) -> None:
    path = tmp_path / "poste.json"
    path.write_text(json.dumps(_envelope(_body())), encoding="utf-8")
    results = audit_files(path)
    machine_judged = [
        r for r in results.values() if r.measure.verification != "question" and not r.measure.id.startswith("SAV")
    ]
    assert machine_judged and all(r.verdict.value != "pass" for r in machine_judged)


@pytest.mark.parametrize("damage", ["payload", "sha256", "garbage"])
def test_damaged_envelope_is_refused(tmp_path: Path, damage: str) -> None:
    envelope = _envelope(_body())
    if damage == "payload":
        raw = bytearray(base64.b64decode(envelope["payload"]))
        raw[10] ^= 1
        envelope["payload"] = base64.b64encode(bytes(raw)).decode()
    elif damage == "sha256":
        envelope["sha256"] = "0" * 64
    else:
        envelope["payload"] = "pas du base64 !"
    path = tmp_path / "poste.json"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    with pytest.raises(UserError, match="instantané"):
        snapshot.load(path)
