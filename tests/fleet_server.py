"""The fleet's server as its own process (`officine fleet serve`), on a real PostgreSQL, to be
stopped and started again by tests; and a TCP relay that can lose the server's answer."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(host: str, port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {host}:{port}")


class FleetServer:
    """`officine fleet serve` on 127.0.0.1 (or inside a namespace, with TLS)."""

    def __init__(
        self,
        db: str,
        home: Path,
        port: int | None = None,
        extra: list[str] | None = None,
        prefix: list[str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.db, self.home, self.host = db, home, host
        self.port = port or free_port()
        self.extra = extra or []
        self.prefix = prefix or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> FleetServer:
        env = {
            **os.environ,
            "OFFICINE_CONFIG_DIR": str(self.home / "config"),
            "OFFICINE_DATA_DIR": str(self.home / "data"),
        }
        command = [sys.executable, "-m", "officine", "fleet", "serve", "--db", self.db]
        command += ["--hote", self.host, "--port", str(self.port), *self.extra]
        self.home.mkdir(parents=True, exist_ok=True)
        self.log = self.home / "serveur.log"  # a file, not a pipe: a chatty server never blocks on it
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen([*self.prefix, *command], env=env, stderr=sink)
        if not self.prefix:  # inside a namespace, the test waits from there
            wait_port(self.host, self.port, self.proc)
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.proc = None

    def stop(self) -> str:
        """Stop the server; returns what it wrote on its standard error (its banner)."""
        said = ""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        if self.proc is not None and self.log.exists():
            said = self.log.read_text(encoding="utf-8", errors="replace")
            self.log.unlink()
        self.proc = None
        return said


class LossyRelay:
    """Forwards TCP connections from its own port to the server. While `lose_answers` is above
    zero, a connection's request goes through whole but the server's answer is dropped (the
    connection is closed): the server did the work, the agent never heard."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.lose_answers = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(20)
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            lose = self.lose_answers > 0
            if lose:
                self.lose_answers -= 1
            threading.Thread(target=self._pipe, args=(client, lose), daemon=True).start()

    def _pipe(self, client: socket.socket, lose: bool) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
        except OSError:
            client.close()
            return
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in sel.select(timeout=30):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is upstream and lose:
                        time.sleep(0.2)  # the server finished its work; its answer is lost
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            client.close()
            upstream.close()
