"""Where officine-cyber keeps its files: one place, overridable for tests and provider set-ups."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "officine-cyber"
ENV_DATA_DIR = "OFFICINE_DATA_DIR"
ENV_CONFIG_DIR = "OFFICINE_CONFIG_DIR"


def data_dir() -> Path:
    """Database, incidents and the breach register."""
    return Path(os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(APP))


def config_dir() -> Path:
    """Backup plan, destination passwords, the pharmacy's contacts."""
    return Path(os.environ.get(ENV_CONFIG_DIR) or platformdirs.user_config_dir(APP))


def cache_dir() -> Path:
    """Disposable caches (APT, restic)."""
    return Path(platformdirs.user_cache_dir(APP))
