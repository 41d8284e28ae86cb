"""Calling restic: environment (never a password on the command line), errors in French."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from officine.backup.plan import Destination
from officine.errors import UserError
from officine.paths import cache_dir

INSTALL_HINT = (
    "restic n'est pas installé. Sur Debian ou Ubuntu : « sudo apt-get install restic » ; "
    "sur Windows : téléchargez restic.exe depuis le site du projet restic et placez-le dans le PATH."
)


class ResticError(UserError):
    """A restic failure, classified, with a French message that never quotes a secret."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


# restic is not translated: its English messages are stable enough to classify failures. Order
# matters: the first needle found in the whole of stderr decides.
_DAMAGED = "des données du dépôt « {label} » sont abîmées ou manquent : la sauvegarde n'est plus fiable"
_CLASSIFY = (
    (
        "wrong password",
        "wrong_password",
        "mot de passe refusé par le dépôt « {label} » (le mot de passe a-t-il changé ?)",
    ),
    (
        "no key found",
        "wrong_password",
        "mot de passe refusé par le dépôt « {label} » (le mot de passe a-t-il changé ?)",
    ),
    (
        "repository is already locked",
        "locked",
        "le dépôt « {label} » est verrouillé par une opération en cours (sur ce poste ou un autre) : "
        "attendez qu'elle se termine puis relancez. Un verrou laissé par un poste arrêté se retire "
        "avec « officine backup unlock {id} »",
    ),
    (
        "unable to create lock",
        "locked",
        "le dépôt « {label} » est verrouillé par une opération en cours : attendez qu'elle se termine puis relancez",
    ),
    (
        "no space left on device",
        "disk_full",
        "le disque de « {label} » est plein : rien n'a été perdu, mais la sauvegarde du jour n'est pas faite. "
        "Libérez de la place sur ce disque, ou appliquez la rétention et récupérez l'espace avec "
        "« officine backup prune {id} », ou passez à un disque plus grand",
    ),
    (
        "is there a repository at the following location",
        "no_repository",
        "aucun dépôt de sauvegarde à l'emplacement de « {label} » : s'il n'a jamais été créé, lancez "
        "« officine backup init » ; s'il existait, il a été effacé",
    ),
    (
        "unable to open config file",
        "no_repository",
        "aucun dépôt de sauvegarde à l'emplacement de « {label} » : s'il n'a jamais été créé, lancez "
        "« officine backup init » ; s'il existait, il a été effacé",
    ),
    ("pack id does not match", "corrupted", _DAMAGED),
    ("ciphertext verification failed", "corrupted", _DAMAGED),
    ("is damaged", "corrupted", _DAMAGED),
    ("repository contains errors", "corrupted", _DAMAGED),
    ("not found in repository", "corrupted", _DAMAGED),
    ("readfull(", "corrupted", _DAMAGED),
    ("unmarshal", "corrupted", _DAMAGED),
    ("no matching id found", "snapshot_missing", "la sauvegarde demandée n'existe plus dans « {label} »"),
    (
        "no snapshot found",
        "no_snapshot",
        "aucune sauvegarde utilisable dans « {label} » (liste : « officine backup snapshots {id} »)",
    ),
    (
        "read-only file system",
        "read_only",
        "le disque de « {label} » est en lecture seule (protégé en écriture, ou abîmé et remonté en lecture "
        "seule par le système) : rien n'a pu y être écrit",
    ),
    ("permission denied", "unreadable", "le dépôt « {label} » est illisible (droits d'accès refusés)"),
    ("input/output error", "unreadable", "le dépôt « {label} » est illisible (erreur de lecture du disque)"),
)


def classify(stderr: str, dest: Destination) -> tuple[str, str]:
    lowered = stderr.lower()
    for needle, code, message in _CLASSIFY:
        if needle in lowered:
            return code, message.format(label=dest.label, id=dest.id)
    last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
    return "failed", f"restic a échoué sur « {dest.label} » ({last[:200] or 'sans message'})"


def check_password_file(dest: Destination) -> None:
    path = Path(dest.password_file)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ResticError(
            "password_file",
            f"Fichier de mot de passe introuvable pour « {dest.label} » : {path}. Recréez-le depuis la copie papier.",
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ResticError(
            "password_file",
            f"Le fichier de mot de passe de « {dest.label} » ({path}) est lisible "
            f"par d'autres comptes : « chmod 600 {path} » puis relancez.",
        )


@dataclass
class Restic:
    binary: str
    cache_dir: Path

    @classmethod
    def find(cls) -> Restic:
        binary = shutil.which("restic")
        if binary is None:
            raise ResticError("missing", INSTALL_HINT)
        return cls(binary, cache_dir() / "restic")

    def env(self, dest: Destination) -> dict[str, str]:
        # The password travels as a file path in the environment, never in argv (visible in `ps`).
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")}
        env.update(
            RESTIC_REPOSITORY=dest.repository,
            RESTIC_PASSWORD_FILE=dest.password_file,
            RESTIC_CACHE_DIR=str(self.cache_dir),
            LC_ALL="C",
        )
        return env

    def run(
        self, dest: Destination, args: Sequence[str], *, timeout: float | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = self._run_once(dest, args, timeout)
        if proc.returncode != 0 and is_locked(proc.stderr) and self.remove_stale_locks(dest):
            proc = self._run_once(dest, args, timeout)
        if check and proc.returncode != 0:
            code, message = classify(proc.stderr, dest)
            raise ResticError(code, message[:1].upper() + message[1:] + ".", proc.stderr[-2000:])
        return proc

    def remove_stale_locks(self, dest: Destination) -> bool:
        """`restic unlock` removes only stale locks (a process gone on this host, or older than
        30 minutes): what an interrupted operation leaves. True when the caller may retry."""
        proc = self._run_once(dest, ["unlock"], 300)
        return proc.returncode == 0

    def _run_once(
        self, dest: Destination, args: Sequence[str], timeout: float | None
    ) -> subprocess.CompletedProcess[str]:
        check_password_file(dest)
        try:
            proc = subprocess.run(
                [self.binary, *args],
                capture_output=True,
                text=True,
                env=self.env(dest),
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise ResticError("timeout", f"restic n'a pas répondu à temps sur « {dest.label} »") from exc
        return proc

    def json(self, dest: Destination, args: Sequence[str], timeout: float | None = None) -> Any:
        proc = self.run(dest, [*args, "--json"], timeout=timeout)
        try:
            return json.loads(proc.stdout or "null")
        except json.JSONDecodeError as exc:
            raise ResticError("parse", f"Réponse de restic illisible pour « {dest.label} »") from exc

    def stream(
        self, dest: Destination, args: Sequence[str], on_message: Callable[[dict[str, Any]], None]
    ) -> tuple[int, str]:
        """Run with --json and hand each message to `on_message`; returns (exit code, stderr).
        A lock refused at start (nothing done yet) is retried once after removing stale locks."""
        code, stderr = self._stream_once(dest, args, on_message)
        if code != 0 and is_locked(stderr) and self.remove_stale_locks(dest):
            code, stderr = self._stream_once(dest, args, on_message)
        return code, stderr

    def _stream_once(
        self, dest: Destination, args: Sequence[str], on_message: Callable[[dict[str, Any]], None]
    ) -> tuple[int, str]:
        check_password_file(dest)
        with subprocess.Popen(
            [self.binary, *args, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(dest),
            stdin=subprocess.DEVNULL,
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None  # noqa: S101 - pipes requested above
            for message in _json_lines(proc.stdout):
                on_message(message)
            stderr = proc.stderr.read()
            return proc.wait(), stderr


def is_locked(stderr: str) -> bool:
    lowered = stderr.lower()
    return "repository is already locked" in lowered or "unable to create lock" in lowered


def _json_lines(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for raw in lines:
        line = raw.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                yield value


def stderr_errors(stderr: str) -> list[dict[str, Any]]:
    """restic --json reports unreadable files as JSON error messages on stderr."""
    return [m for m in _json_lines(iter(stderr.splitlines())) if m.get("message_type") == "error"]
