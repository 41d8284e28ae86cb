"""Reference data used by checks (operating system lifecycles), loaded once from the package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from officine.yamlio import load_yaml


@dataclass(frozen=True)
class Release:
    family: str
    version: str
    name: str | None
    support_end: date | None
    extended_end: date | None
    extended_kind: str | None
    open_ended: bool = False  # still supported, with no announced end (macOS)
    ended_before: bool = False  # out of support since some time before support_end


@dataclass(frozen=True)
class Reference:
    data_as_of: date
    linux: dict[str, list[Release]]
    raw: dict[str, Any]

    def macos_release(self, version_id: str | None) -> Release | None:
        """macOS has no published end dates: a release is supported while Apple still ships its
        security updates (the three latest majors), as recorded in the data. Mac OS X and macOS 10.x
        are all out of support: they are looked up by "10.N", an older one is out since before the
        oldest 10.x listed."""
        if not version_id:
            return None
        parts = version_id.split(".")
        major = parts[0]
        data = self.raw.get("macos") or {}
        key = f"10.{parts[1]}" if major == "10" and len(parts) > 1 else major
        for entry in data.get("releases", []):
            if str(entry.get("version")) == key:
                supported = bool(entry.get("security_updates"))
                last = _date(entry.get("last_security_update"))
                end = None if supported else (last or self.data_as_of)
                return Release("macos", key, entry.get("name"), end, None, None, open_ended=supported)
        if major == "10" and len(parts) > 1 and parts[1].isdigit():
            before = _date(data.get("older_10_before")) or self.data_as_of
            return Release("macos", key, None, before, None, None, ended_before=True)
        return None

    def windows_release(self, info: dict[str, Any]) -> Release | None:
        """The lifecycle entry for a Windows build, telling client from server, LTSC and the
        Semi-Annual Channel apart."""
        build = info.get("build")
        windows = self.raw.get("windows") or {}
        edition = str(info.get("edition_id") or "")
        installation = str(info.get("installation_type") or "").lower()
        server = bool(info.get("server")) or installation.startswith(("server", "nano"))
        if server:
            product = str(info.get("product") or "")
            # Semi-Annual Channel: EditionID ...ACor, or a product name without a year
            # ("Windows Server Standard"); 18 months of support, then nothing.
            if edition.endswith("ACor") or re.fullmatch(r"Windows Server (Standard|Datacenter)", product):
                for entry in windows.get("server_sac", []):
                    if entry.get("build") == build:
                        return Release("windows", str(build), entry.get("product"), _date(entry.get("end")), None, None)
                return None
            for entry in windows.get("server", []):
                if entry.get("build") == build:
                    return Release(
                        "windows",
                        str(build),
                        entry.get("product"),
                        _date(entry.get("mainstream_end")),
                        _date(entry.get("extended_end")),
                        "support étendu de Microsoft",
                    )
            return None
        ltsc = edition.endswith(("EnterpriseS", "EnterpriseSN", "IoTEnterpriseS"))
        if ltsc:
            family = "iot_enterprise_ltsc" if edition.startswith("IoT") else "enterprise_ltsc"
        elif edition.startswith(("Enterprise", "Education", "IoTEnterprise")) and not edition.startswith(
            "EducationPro"
        ):
            family = "enterprise_education"
        else:
            family = "home_pro"
        entries = [*windows.get("client", []), *(windows.get("retired", []) if not ltsc else [])]
        for entry in entries:
            if entry.get("build") != build or bool(entry.get("ltsc")) != ltsc:
                continue
            editions = entry.get("editions") or {}
            end = _date(editions.get(family) or editions.get("enterprise_education") or entry.get("end"))
            name = f"{entry.get('product')} {entry.get('display_version') or ''}".strip()
            return Release("windows", str(build), name, end, None, None)
        return None

    def linux_release(self, distro: str, version_id: str | None) -> Release | None:
        if not version_id:
            return None
        for release in self.linux.get(distro, []):
            if release.version == version_id:
                return release
        major = version_id.split(".")[0]
        for release in self.linux.get(distro, []):  # RHEL-like: VERSION_ID "9.4" matches "9"
            if release.version == major and distro in MAJOR_MATCH:
                return release
        return None


MAJOR_MATCH = ("rhel", "rocky", "almalinux", "centos", "linuxmint")


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@cache
def load_reference() -> Reference:
    text = resources.files("officine.data").joinpath("os_lifecycle.yaml").read_text(encoding="utf-8")
    raw = load_yaml(text)
    linux: dict[str, list[Release]] = {}
    for family, block in (raw.get("linux") or {}).items():
        linux[family] = [
            Release(
                family,
                str(r["version"]),
                r.get("name"),
                _date(r.get("support_end")),
                _date(r.get("extended_end")),
                r.get("extended_kind"),
            )
            for r in block.get("releases", [])
        ]
    return Reference(_date(raw["data_as_of"]) or date.min, linux, raw)
