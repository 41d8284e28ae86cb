"""OpenSSH server configuration: `sshd -T` output or the configuration files."""

from __future__ import annotations

import shlex


def parse_sshd_effective(text: str) -> dict[str, str]:
    """`sshd -T` prints one `keyword value` per line, keywords lower-case, effective values."""
    config: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key and value and key.isalnum():
            config.setdefault(key.lower(), value.strip())
    return config


def parse_sshd_config_lines(text: str) -> list[tuple[str, str]]:
    """(keyword lower-cased, value) pairs in file order; Match blocks are kept as keywords."""
    return [(key, value) for key, value, _ in parse_sshd_config_located(text)]


def parse_sshd_config_located(text: str) -> list[tuple[str, str, int]]:
    """(keyword lower-cased, value, line number from 1) in file order; Match blocks kept as keywords."""
    pairs: list[tuple[str, str, int]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" in line.split(None, 1)[0]:
            key, _, value = line.partition("=")
        else:
            parts = line.split(None, 1)
            key, value = parts[0], parts[1] if len(parts) > 1 else ""
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = value.split()
        pairs.append((key.strip().lower(), " ".join(words), number))
    return pairs
