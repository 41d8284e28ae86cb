"""The running Windows machine behind `native.WindowsAccess`: programs through subprocess, the registry
through `winreg`. Read-only. Importable anywhere; usable only on Windows."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from officine.collectors.windows.native import Completed

HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER"}


def decode(raw: bytes) -> str:
    """Programs such as netsh print in the OEM code page (CP850 on a French Windows), PowerShell in
    UTF-8 when asked: try UTF-8 first."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp850", errors="replace")


def registry_value(value: Any) -> Any:
    """What ConvertTo-Json writes for a registry value (binary data as a list of bytes)."""
    return list(value) if isinstance(value, bytes) else value


class LiveWindows:
    def run(self, argv: Sequence[str], timeout: float) -> Completed:
        try:
            proc = subprocess.run(list(argv), capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise TimeoutError(str(exc)) from exc
        return Completed(proc.returncode, decode(proc.stdout), decode(proc.stderr))

    def registry(self, key: str, names: Sequence[str]) -> dict[str, Any] | None:
        if sys.platform != "win32":
            raise OSError("registre Windows indisponible sur ce système")
        import winreg  # noqa: PLC0415

        hive, _, path = key.partition("\\")
        try:
            handle = winreg.OpenKey(getattr(winreg, HIVES[hive]), path)
        except FileNotFoundError:
            return None
        values: dict[str, Any] = {}
        with handle:
            for name in names:
                try:
                    values[name] = registry_value(winreg.QueryValueEx(handle, name)[0])
                except FileNotFoundError:
                    continue  # absent values are simply missing, as in collect.ps1
        return values

    def registry_tree(self, key: str, depth: int, value: str | None) -> list[dict[str, Any]] | None:
        if sys.platform != "win32":
            raise OSError("registre Windows indisponible sur ce système")
        import winreg  # noqa: PLC0415

        hive, _, path = key.partition("\\")
        root = getattr(winreg, HIVES[hive])
        rows: list[dict[str, Any]] = []

        def walk(sub: str, level: int) -> None:
            with winreg.OpenKey(root, sub) as handle:
                index = 0
                while True:
                    try:
                        name = winreg.EnumKey(handle, index)
                    except OSError:
                        return
                    index += 1
                    child = f"{sub}\\{name}"
                    row: dict[str, Any] = {"key": f"{hive}\\{child}"}
                    if value:
                        with winreg.OpenKey(root, child) as child_handle:
                            try:
                                row["value"] = registry_value(winreg.QueryValueEx(child_handle, value)[0])
                            except FileNotFoundError:
                                row["value"] = None
                    rows.append(row)
                    if level < depth:
                        walk(child, level + 1)

        try:
            walk(path, 1)
        except FileNotFoundError:
            return None
        return rows

    def identity(self) -> dict[str, Any]:
        if sys.platform != "win32":
            raise OSError("identité Windows indisponible sur ce système")
        import ctypes  # noqa: PLC0415

        guid = self.registry("HKLM\\SOFTWARE\\Microsoft\\Cryptography", ["MachineGuid"]) or {}
        return {
            "hostname": os.environ.get("COMPUTERNAME"),
            "user": f"{os.environ.get('USERDOMAIN', '')}\\{getpass.getuser()}".lstrip("\\"),
            "privileged": bool(ctypes.windll.shell32.IsUserAnAdmin()),
            "machine_guid": guid.get("MachineGuid"),
        }
