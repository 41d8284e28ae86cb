"""The observation manifest, and the PowerShell collector generated from it."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from officine import __version__
from officine.yamlio import load_yaml

KINDS = ("registry", "registry_keys", "cim", "command", "powershell")


@cache
def manifest() -> dict[str, Any]:
    data = load_yaml(resources.files("officine.collectors.windows").joinpath("manifest.yaml").read_text("utf-8"))
    ids = [item["id"] for item in data["observations"]]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate observation id in the Windows manifest")
    for item in data["observations"]:
        if item["kind"] not in KINDS:
            raise ValueError(f"unknown kind {item['kind']!r} in the Windows manifest")
    return data  # type: ignore[no-any-return]


def target(item: dict[str, Any]) -> str | list[str]:
    """The observation target the script records for a manifest item (the replay key)."""
    kind = item["kind"]
    if kind in ("registry", "registry_keys"):
        return str(item["key"])
    if kind == "cim":
        return f"{item['namespace']}:{item['class']}"
    if kind == "command":
        return [str(a) for a in item["argv"]]
    return str(item["id"])


def powershell_script() -> str:
    """collect.ps1 with the manifest embedded. Pure ASCII, so PowerShell 5.1 reads it in any code page."""
    template = resources.files("officine.collectors.windows").joinpath("collect.ps1").read_text("utf-8")
    embedded = json.dumps(manifest(), ensure_ascii=True, indent=1)
    if "'@" in embedded:
        raise ValueError("the manifest cannot contain the here-string terminator")
    return template.replace("__MANIFEST__", embedded).replace("__VERSION__", __version__)
