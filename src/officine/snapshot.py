"""Snapshots: everything observed on one host at one time, as a versioned JSON document.

The format is documented in docs/snapshot-format.md. Facts stored in a snapshot are
informative: an audit always re-derives them from the observations.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from officine import __version__
from officine.collectors import CollectContext, run_collectors
from officine.errors import UserError, os_reason
from officine.facts import Fact, FactStatus
from officine.host.base import Host, Observation, ObsStatus
from officine.host.local import LocalHost
from officine.host.replay import ReplayHost
from officine.jsonio import (
    MAX_DEPTH,
    JsonError,
    JsonTooDeep,
    depth_exceeds,
    load_json,
    may_hold_lone_surrogates,
    scrub_surrogates,
)
from officine.userfiles import read_input
from officine.validation import explain

FORMAT = "officine-cyber/snapshot"
SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = (1,)
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
# A real snapshot holds a few thousand JSON values (its bulk is long command outputs). Millions of
# tiny values ("[{},{},...]") would take 30 times their size once parsed: refused before parsing.
MAX_JSON_VALUES = 200_000
MAX_HOSTNAME = 255  # what the structure check accepts, and what a collector keeps
# A JSON string, or an unterminated one up to the end (so that no quote is scanned twice).
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)


@dataclass
class Snapshot:
    snapshot_id: str
    platform: str
    mode: str  # "live" or "mounted"
    collected_at: datetime
    host: dict[str, Any]
    collector: dict[str, Any]
    observations: list[Observation]
    facts: dict[str, Fact]

    @property
    def hostname(self) -> str:
        return str(self.host.get("hostname") or "?")

    def to_json(self) -> dict[str, Any]:
        body = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "snapshot_id": self.snapshot_id,
            "tool_version": __version__,
            "platform": self.platform,
            "mode": self.mode,
            "collected_at": self.collected_at.isoformat(),
            "host": self.host,
            "collector": self.collector,
            "observations": [o.to_json() for o in self.observations],
            "facts": {k: v.to_json() for k, v in self.facts.items()},
        }
        body["integrity"] = {"algorithm": "sha256", "digest": digest(body)}
        return body

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1, sort_keys=False)


def digest(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of everything but the integrity block."""
    content = {k: v for k, v in body.items() if k != "integrity"}
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _identity(host: Host) -> dict[str, Any]:
    hostname_obs = host.read_file("/etc/hostname")
    hostname = (hostname_obs.output or "").strip() if hostname_obs.ok else ""
    if not hostname and host.live:
        hostname = socket.gethostname()
    # A name longer than any system allows (Linux: 64) would make the snapshot unreadable by the
    # structure check: keep the first MAX_HOSTNAME characters (the observation keeps the file as read).
    hostname = hostname[:MAX_HOSTNAME]
    machine = host.read_file("/etc/machine-id")
    machine_id = (machine.output or "").strip() if machine.ok else None
    return {
        "hostname": hostname or None,
        # Only a hash: the raw machine-id is a stable identifier that should stay on the machine.
        "machine_id_sha256": hashlib.sha256(machine_id.encode()).hexdigest() if machine_id else None,
    }


def collect(host: LocalHost, progress: Callable[[str], None] | None = None, now: datetime | None = None) -> Snapshot:
    """Observe `host` with every collector of its platform."""
    collected_at = (now or datetime.now(UTC)).replace(microsecond=0)
    start = datetime.now(UTC)
    identity = _identity(host)
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    facts = run_collectors(host, CollectContext(collected_at, None if uid is None else uid == 0), progress)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return Snapshot(
        snapshot_id=str(uuid.uuid4()),
        platform=host.platform,
        mode="live" if host.live else "mounted",
        collected_at=collected_at,
        host=identity,
        collector={
            "user": user,
            "uid": uid,
            "privileged": uid == 0,
            "root_dir": str(host.root) if host.root else None,
            "duration_ms": round((datetime.now(UTC) - start).total_seconds() * 1000),
        },
        observations=host.observations(),
        facts=facts,
    )


def reanalyse(snapshot: Snapshot) -> Snapshot:
    """Re-derive facts from the recorded observations with today's parsers."""
    host = ReplayHost(snapshot.observations, snapshot.platform, live=snapshot.mode == "live")
    privileged = snapshot.collector.get("privileged")
    context = CollectContext(snapshot.collected_at, privileged if isinstance(privileged, bool) else None)
    facts = run_collectors(host, context)
    return Snapshot(**{**snapshot.__dict__, "facts": facts})


def _fail(path: PurePath, why: str) -> UserError:
    return UserError(
        f"Le fichier {path} n'est pas un instantané officine-cyber utilisable : {why}. "
        "Aucune donnée n'a été modifiée. Relancez la collecte sur le poste concerné "
        "(officine collect --out FICHIER) et rapportez le nouveau fichier."
    )


ENVELOPE = "officine-cyber/snapshot-envelope"


def _json(raw: bytes, path: PurePath, why: str) -> Any:
    try:
        return load_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _fail(path, f"{why} (ce n'est pas du texte UTF-8)") from exc
    except JsonTooDeep as exc:
        raise _fail(path, exc.reason) from exc
    except JsonError as exc:
        raise _fail(path, f"{why} ({exc.reason})") from exc


def open_envelope(data: dict[str, Any], path: PurePath) -> Any:
    """The PowerShell collector seals the exact bytes of its snapshot: base64 payload + SHA-256."""
    try:
        payload = base64.b64decode(str(data["payload"]), validate=True)
    except (KeyError, ValueError) as exc:
        raise _fail(path, "enveloppe sans contenu lisible") from exc
    if hashlib.sha256(payload).hexdigest() != data.get("sha256"):
        raise _fail(path, "le contenu a été modifié ou abîmé depuis la collecte (empreinte fausse)")
    if value_count_bound(payload) > MAX_JSON_VALUES:  # the payload is untrusted JSON too
        raise _fail(path, "l'enveloppe contient bien trop d'éléments pour un instantané")
    body = _json(payload, path, "contenu de l'enveloppe illisible")
    if not isinstance(body, dict):
        raise _fail(path, "contenu de l'enveloppe inattendu")
    if may_hold_lone_surrogates(payload):  # PowerShell escapes broken UTF-16 (a registry value…)
        body = scrub_surrogates(body)
    body["integrity"] = {"algorithm": "sha256", "digest": digest(body)}  # sealed by the envelope
    return body


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ObservationDoc(_Doc):
    kind: Literal["command", "file", "dir", "stat", "registry", "registry_keys", "cim", "powershell"]
    target: list[StrictStr] | StrictStr
    status: ObsStatus
    exit_code: StrictInt | None = None
    output: StrictStr | None = None
    stderr: StrictStr | None = None
    entries: list[StrictStr] | None = None
    stat: dict[StrictStr, StrictInt | StrictFloat] | None = None
    detail: StrictStr | None = None
    truncated: StrictBool = False
    redaction: StrictStr | None = None
    duration_ms: StrictInt | StrictFloat = 0.0
    extra: dict[StrictStr, Any] = Field(default_factory=dict)
    key: StrictStr | None = None  # derived from kind and target: recomputed, never trusted


class _FactDoc(_Doc):
    status: FactStatus
    value: Any = None
    reason: StrictStr | None = None
    detail: StrictStr | None = None
    sources: list[StrictStr] = Field(default_factory=list)


class _HostDoc(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    hostname: StrictStr | None = Field(default=None, max_length=MAX_HOSTNAME)
    machine_id_sha256: StrictStr | None = Field(default=None, max_length=128)


class _SnapshotDoc(_Doc):
    format: StrictStr
    schema_version: StrictInt
    snapshot_id: StrictStr = Field(min_length=1, max_length=100)
    tool_version: StrictStr | None = None
    platform: Literal["linux", "windows", "macos"]
    mode: Literal["live", "mounted"]
    collected_at: AwareDatetime
    host: _HostDoc = Field(default_factory=_HostDoc)
    collector: dict[StrictStr, Any] = Field(default_factory=dict)
    observations: list[_ObservationDoc]
    facts: dict[StrictStr, _FactDoc] = Field(default_factory=dict)
    integrity: dict[StrictStr, Any]


def parse(data: Any, path: PurePath) -> Snapshot:
    if isinstance(data, dict) and data.get("format") == ENVELOPE:
        data = open_envelope(data, path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _fail(path, "ce n'est pas un fichier produit par officine-cyber")
    if depth_exceeds(data):
        raise _fail(path, f"imbrication trop profonde ({MAX_DEPTH} niveaux au plus)")
    version = data.get("schema_version")
    # `true` and `1.0` compare equal to 1 in Python: only the integer itself is a version.
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise _fail(
            path,
            f"version de format {json.dumps(version)[:40]} inconnue de cette version du logiciel "
            f"(versions lues : {', '.join(map(str, SUPPORTED_VERSIONS))}) ; mettez officine-cyber à jour",
        )
    integrity = data.get("integrity")
    if not isinstance(integrity, dict) or integrity.get("algorithm") != "sha256":
        raise _fail(path, "le sceau d'intégrité est absent")
    try:
        sealed = digest(data)
    except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 text holds one
        raise _fail(path, "texte invalide (caractère Unicode isolé)") from exc
    if integrity.get("digest") != sealed:
        raise _fail(path, "le contenu a été modifié ou abîmé depuis la collecte (sceau d'intégrité faux)")
    try:
        doc = _SnapshotDoc.model_validate(data)
    except ValidationError as exc:
        raise _fail(path, "structure inattendue, " + explain(exc)) from exc
    observations = [Observation.from_json(o.model_dump(exclude={"key"}, exclude_unset=True)) for o in doc.observations]
    return Snapshot(
        snapshot_id=doc.snapshot_id,
        platform=doc.platform,
        mode=doc.mode,
        collected_at=doc.collected_at,
        host=dict(data.get("host") or {}),
        collector=dict(doc.collector),
        observations=observations,
        facts={k: Fact.from_json(v.model_dump(exclude_unset=True)) for k, v in doc.facts.items()},
    )


def load(path: Path) -> Snapshot:
    return loads(read_input(path, MAX_SNAPSHOT_BYTES, "Le fichier"), path)


STRUCTURAL = (b",", b"[", b"{")


def value_count_bound(raw: bytes) -> int:
    """At least the number of values and keys json.loads would build from `raw`, or from any
    prefix it accepts; exact enough to tell a snapshot from junk (see `json_value_count`)."""
    rough = sum(raw.count(c) for c in STRUCTURAL) + raw.count(b'"') + 1
    if rough <= MAX_JSON_VALUES:
        return rough  # strings included, and counted twice: already an upper bound
    return json_value_count(raw, stop_above=MAX_JSON_VALUES)


def json_value_count(raw: bytes, stop_above: int) -> int:
    """Values and keys in `raw` (an upper bound): each one is a string, follows a comma or opens
    a container; commas and brackets inside strings do not count. Counting stops once above
    `stop_above`, so the time is bounded too, and nothing is copied."""
    count, pos = 1, 0
    for string in _JSON_STRING.finditer(raw):
        start = string.start()
        count += 1 + sum(raw.count(c, pos, start) for c in STRUCTURAL)
        if count > stop_above:
            return count
        pos = string.end()
    return count + sum(raw.count(c, pos) for c in STRUCTURAL)


def loads(raw: bytes, path: PurePath) -> Snapshot:
    """A snapshot from bytes (a file, an upload); `path` only names it in messages."""
    if value_count_bound(raw) > MAX_JSON_VALUES:
        raise _fail(path, "il contient bien trop d'éléments pour un instantané")
    return parse(_json(raw, path, "le fichier est tronqué ou n'est pas du JSON"), path)


def save(snapshot: Snapshot, path: Path) -> None:
    """Write atomically: a half-written snapshot never replaces a good one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(snapshot.dumps(), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(
            f"Impossible d'écrire l'instantané dans {path} : {os_reason(exc)}. "
            "Choisissez un dossier où vous avez le droit d'écrire (et où il reste de la place)."
        ) from exc
