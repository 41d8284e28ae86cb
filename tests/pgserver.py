"""A throw-away PostgreSQL server for tests and benchmarks (Debian's binaries, loopback only)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SOCKETS: dict[str, tuple[Path, int]] = {}  # a running server's URL -> its Unix socket folder and port


def socket_url(url: str, database: str) -> str:
    """The same server through its Unix socket: reachable from a network namespace too."""
    folder, port = SOCKETS[url.rsplit("/", 1)[0] + "/postgres"]
    return f"postgresql+psycopg://officine@/{database}?host={folder}&port={port}"


def pg_bin() -> Path | None:
    base = Path("/usr/lib/postgresql")
    versions = sorted(base.iterdir(), reverse=True) if base.is_dir() else []
    return next((v / "bin" for v in versions if (v / "bin/initdb").exists()), None)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a new cluster on a free loopback port; yield its SQLAlchemy URL; remove it after."""
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (scripts/setup --test installs it)")
    # Not under pytest's own temp folder: the postgres account must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="officine-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "officine"],
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            *as_user,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-k",
            str(sock),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://officine@127.0.0.1:{port}/postgres"
    try:
        for _ in range(100):
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True, check=False
            )
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        SOCKETS[url] = (sock, port)
        yield url
    finally:
        SOCKETS.pop(url, None)
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)
