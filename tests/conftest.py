"""Shared fixtures: test root trees, network namespaces, a throw-away PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from officine.host import LocalHost

pytest_plugins = ["backup_fixtures"]  # real restic repositories for the backup tests

SYSTEM_SCHEMAS = Path("/usr/share/glib-2.0/schemas")


class RootTree:
    """A fake system tree written file by file, audited with --root."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, rel: str, content: str, mode: int | None = None) -> Path:
        target = self.path / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        if mode is not None:
            target.chmod(mode)
        return target

    def mkdir(self, rel: str) -> Path:
        target = self.path / rel.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        return target

    def packages(self, *names: str) -> None:
        blocks = [f"Package: {n}\nStatus: install ok installed\nVersion: 1.0\n" for n in names]
        self.write("/var/lib/dpkg/status", "\n".join(blocks))

    def debian(self, version: str = "12", codename: str = "bookworm") -> None:
        self.write(
            "/etc/os-release",
            f"""
            PRETTY_NAME="Debian GNU/Linux {version} ({codename})"
            NAME="Debian GNU/Linux"
            VERSION_ID="{version}"
            VERSION_CODENAME={codename}
            ID=debian
            """,
        )
        self.write("/etc/hostname", "comptoir-1\n")
        self.write("/etc/login.defs", "UID_MIN 1000\nUID_MAX 60000\nPASS_MAX_DAYS 99999\n")
        self.write(
            "/etc/passwd",
            """
            root:x:0:0:root:/root:/bin/bash
            daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
            marie:x:1000:1000:Marie:/home/marie:/bin/bash
            paul:x:1001:1001:Paul:/home/paul:/bin/bash
            """,
        )
        self.write("/etc/group", "root:x:0:\nsudo:x:27:marie\nmarie:x:1000:\npaul:x:1001:\n")
        self.write(
            "/etc/shadow",
            "root:$y$j9T$abc$def:19000::::::\nmarie:$y$x$y$z:19000::::::\n"
            "paul:$y$x$y$z:19000::::::\ndaemon:*:19000::::::\n",
        )
        self.write("/etc/pam.d/common-password", "password [success=1 default=ignore] pam_unix.so obscure yescrypt\n")
        self.write("/etc/pam.d/common-auth", "auth [success=1 default=ignore] pam_unix.so nullok\n")
        self.packages("base-files", "openssh-server")

    def gnome_schemas(self) -> None:
        for name in (
            "org.gnome.desktop.session",
            "org.gnome.desktop.screensaver",
            "org.gnome.desktop.media-handling",
        ):
            src = SYSTEM_SCHEMAS / f"{name}.gschema.xml"
            dest = self.mkdir("/usr/share/glib-2.0/schemas") / src.name
            shutil.copy(src, dest)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real user's data and configuration during tests."""
    base = tmp_path_factory.mktemp("officine-home")
    monkeypatch.setenv("OFFICINE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("OFFICINE_CONFIG_DIR", str(base / "config"))
    monkeypatch.delenv("OFFICINE_DATABASE_URL", raising=False)


@pytest.fixture
def tree(tmp_path: Path) -> RootTree:
    root = RootTree(tmp_path / "root")
    root.path.mkdir()
    return root


@pytest.fixture
def rooted(tree: RootTree) -> LocalHost:
    return LocalHost(tree.path)


def is_root() -> bool:
    return os.geteuid() == 0


needs_root = pytest.mark.skipif(
    not is_root() and not os.environ.get("CI"), reason="network namespaces and nftables need root"
)


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace with loopback and a veth pair (addresses from TEST-NET-1)."""
    name = f"oc-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for cmd in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            ["ip", "addr", "add", "192.0.2.1/24", "dev", "v0"],
            ["ip", "link", "set", "v0", "up"],
            ["ip", "link", "set", "v1", "up"],
        ):
            subprocess.run(["ip", "netns", "exec", name, *cmd], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def peer(netns: str) -> Iterator[str]:
    """A second namespace holding the other end of the veth pair (192.0.2.2): the "network"."""
    name = f"{netns}-peer"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "set", "v1", "netns", name], check=True)
        for cmd in (
            ["ip", "addr", "add", "192.0.2.2/24", "dev", "v1"],
            ["ip", "link", "set", "v1", "up"],
            ["ip", "link", "set", "lo", "up"],
        ):
            subprocess.run(["ip", "netns", "exec", name, *cmd], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@contextlib.contextmanager
def listening(namespace: str, address: str, port: int) -> Iterator[subprocess.Popen[str]]:
    """A TCP listener inside a test namespace, accepting and closing connections until stopped."""
    server = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            namespace,
            sys.executable,
            "-c",
            "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            f"s.bind(({address!r}, {port}))\ns.listen(50)\nprint('ready', flush=True)\n"
            "while True:\n    c, _ = s.accept()\n    c.close()\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield server
    finally:
        server.kill()
        server.wait()
