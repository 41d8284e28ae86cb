"""The sentinel's thresholds (package data) and the pharmacy's choices (a YAML file, options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from officine.errors import UserError
from officine.paths import config_dir, data_dir
from officine.yamlio import load_yaml


@dataclass(frozen=True)
class Thresholds:
    window_seconds: float
    alarm_score: float
    host_alarm_score: float
    primary: dict[str, float]
    secondary: dict[str, float]
    fragment_bytes: int
    fragments_per_file: int
    header_skip_bytes: int
    note_folders: int
    note_max_bytes: int
    rewrite_files_per_second: int
    settle_seconds: float
    deletion_grace_seconds: float
    benign_extensions: frozenset[str]
    known_extensions: frozenset[str]

    def weight(self, indicator: str) -> float:
        return self.primary.get(indicator, self.secondary.get(indicator, 0.0))

    def is_primary(self, indicator: str) -> bool:
        return indicator in self.primary


@cache
def thresholds() -> Thresholds:
    raw = load_yaml(resources.files("officine.sentinel").joinpath("thresholds.yaml").read_text(encoding="utf-8"))
    return Thresholds(
        window_seconds=float(raw["window_seconds"]),
        alarm_score=float(raw["alarm_score"]),
        host_alarm_score=float(raw["host_alarm_score"]),
        primary={str(k): float(v) for k, v in raw["primary"].items()},
        secondary={str(k): float(v) for k, v in raw["secondary"].items()},
        fragment_bytes=int(raw["fragment_bytes"]),
        fragments_per_file=int(raw["fragments_per_file"]),
        header_skip_bytes=int(raw["header_skip_bytes"]),
        note_folders=int(raw["ransom_note"]["folders"]),
        note_max_bytes=int(raw["ransom_note"]["max_bytes"]),
        rewrite_files_per_second=int(raw["rewrite_rate"]["files_per_second"]),
        settle_seconds=float(raw["settle_seconds"]),
        deletion_grace_seconds=float(raw["deletion_grace_seconds"]),
        benign_extensions=frozenset(str(e) for e in raw["benign_extensions"]),
        known_extensions=frozenset(str(e) for e in raw["known_extensions"]),
    )


def sentinel_dir() -> Path:
    """Status, suspended-process records and the default events file."""
    return data_dir() / "sentinelle"


def settings_file() -> Path:
    return config_dir() / "sentinelle.yaml"


@dataclass(frozen=True)
class Settings:
    """What the pharmacy chose (sentinelle.yaml); command-line options override it."""

    folders: list[str] = field(default_factory=list)
    suspend: bool = True
    isolate: bool = False
    canaries: bool = True


def load_settings(path: Path | None = None) -> Settings:
    path = path or settings_file()
    if not path.exists():
        return Settings()
    try:
        raw: Any = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"Réglages de la sentinelle illisibles ({path}) : {exc}") from exc
    if not isinstance(raw, dict):
        raise UserError(f"Réglages de la sentinelle invalides ({path}) : un dictionnaire est attendu.")
    allowed = {"dossiers", "suspendre", "isoler", "leurres"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise UserError(
            f"Réglage(s) inconnu(s) dans {path} : {', '.join(unknown)}. "
            f"Réglages possibles : {', '.join(sorted(allowed))}."
        )
    folders = raw.get("dossiers") or []
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise UserError(f"Réglages de la sentinelle invalides ({path}) : « dossiers » doit être une liste de chemins.")
    for key in ("suspendre", "isoler", "leurres"):
        if key in raw and not isinstance(raw[key], bool):
            raise UserError(f"Réglages de la sentinelle invalides ({path}) : « {key} » vaut oui ou non (true/false).")
    return Settings(
        folders=list(folders),
        suspend=raw.get("suspendre", True),
        isolate=raw.get("isoler", False),
        canaries=raw.get("leurres", True),
    )
