"""File-system events as every watcher reports them, whatever the operating system's mechanism."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Kind(StrEnum):
    write = "write"  # a file was closed after being written
    create = "create"
    delete = "delete"
    rename = "rename"  # old_path -> path
    overflow = "overflow"  # the OS or our own queue dropped events: a rescan must follow


@dataclass(slots=True)
class FsEvent:
    kind: Kind
    path: str
    pid: int | None = None
    old_path: str | None = None
    is_dir: bool = False
    at: float = field(default_factory=time.time)


Emit = Callable[[FsEvent], None]


class Watcher(Protocol):
    """Drains the OS's notifications into `emit` from its own thread; never analyses anything."""

    mode: str  # "fanotify", "inotify", "watchdog"
    gives_pid: bool

    def start(self, roots: list[str], emit: Emit) -> None: ...

    def stop(self) -> None: ...


def under(path: str, roots: tuple[str, ...]) -> bool:
    """Whether `path` is one of the roots or inside one (roots end without a slash)."""
    return any(path == root or (path.startswith(root) and path[len(root)] == "/") for root in roots)
