"""What an agent sends: one JSON document with the sealed snapshot (or none) and the events its
workstation recorded since the last contact. Read by the server as untrusted input, with the
bounds of a snapshot import: size, number of values, depth, strict structure."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from officine import snapshot as snapshots_mod
from officine.errors import UserError
from officine.jsonio import JsonError, load_json, scrub_surrogates
from officine.snapshot import Snapshot
from officine.validation import explain
from officine.web.limits import SNAPSHOT_IMPORT_BYTES

FORMAT = "officine-cyber/message-agent"
VERSION = 1
MAX_MESSAGE_BYTES = SNAPSHOT_IMPORT_BYTES + 4 * 1024 * 1024  # a snapshot and the events around it
MAX_EVENTS = 5000
MAX_VALUES = snapshots_mod.MAX_JSON_VALUES + 100_000
EventKind = Literal["backup_run", "verification", "sighting", "sentinel", "incident", "journal", "plan"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(_Strict):
    kind: EventKind
    key: StrictStr = Field(min_length=1, max_length=120)  # the workstation's own identifier for it
    at: AwareDatetime
    data: dict[StrictStr, Any]


class Message(_Strict):
    format: Literal["officine-cyber/message-agent"]
    version: Literal[1]
    sequence: StrictInt = Field(ge=0, le=2**62)
    created_at: AwareDatetime
    snapshot: dict[StrictStr, Any] | None = None
    events: list[Event] = Field(default_factory=list, max_length=MAX_EVENTS)


# The rows an event becomes in the pharmacy's schema: the fields the guardian and the sentinel
# record, with their types, so that nothing else reaches the tables.
class BackupRunData(_Strict):
    destination_id: StrictStr = Field(max_length=40)
    started_at: AwareDatetime
    finished_at: AwareDatetime
    status: Literal["success", "partial", "failed", "absent"]
    snapshot_id: StrictStr | None = Field(default=None, max_length=80)
    files_total: StrictInt | None = None
    files_new: StrictInt | None = None
    files_changed: StrictInt | None = None
    bytes_added: StrictInt | None = None
    bytes_total: StrictInt | None = None
    error_code: StrictStr | None = Field(default=None, max_length=32)
    message: StrictStr | None = Field(default=None, max_length=4000)
    details: dict[StrictStr, Any] = Field(default_factory=dict)


class VerificationData(_Strict):
    destination_id: StrictStr = Field(max_length=40)
    at: AwareDatetime
    status: Literal["passed", "failed"]
    snapshot_id: StrictStr | None = Field(default=None, max_length=80)
    full: StrictInt = 0
    check_subset: StrictStr | None = Field(default=None, max_length=16)
    files_checked: StrictInt = 0
    bytes_checked: StrictInt = 0
    error_code: StrictStr | None = Field(default=None, max_length=32)
    message: StrictStr | None = Field(default=None, max_length=4000)
    details: dict[StrictStr, Any] = Field(default_factory=dict)


class SightingData(_Strict):
    destination_id: StrictStr = Field(max_length=40)
    at: AwareDatetime
    present: StrictInt
    volume_encrypted: StrictInt | None = None


class SentinelData(_Strict):
    at: AwareDatetime
    type: StrictStr = Field(max_length=32)
    hostname: StrictStr = Field(max_length=255)
    pid: StrictInt | None = None
    paths: list[StrictStr] = Field(default_factory=list, max_length=1000)
    indicators: dict[StrictStr, Any] = Field(default_factory=dict)
    details: dict[StrictStr, Any] = Field(default_factory=dict)
    acknowledged: StrictBool = False


class IncidentData(_Strict):
    incident: StrictStr = Field(max_length=120)
    seq: StrictInt
    action: StrictStr = Field(max_length=40)
    at: StrictStr | None = Field(default=None, max_length=40)
    actor: StrictStr | None = Field(default=None, max_length=120)
    summary: StrictStr | None = Field(default=None, max_length=600)


class JournalData(_Strict):
    incident: StrictStr = Field(max_length=120)
    entries: StrictInt
    status: StrictStr = Field(max_length=16)  # intact, notice, unproven, altered
    problem: StrictStr | None = Field(default=None, max_length=600)


class PlanData(_Strict):
    plan: dict[StrictStr, Any]


EVENT_DATA: dict[str, type[_Strict]] = {
    "backup_run": BackupRunData,
    "verification": VerificationData,
    "sighting": SightingData,
    "sentinel": SentinelData,
    "incident": IncidentData,
    "journal": JournalData,
    "plan": PlanData,
}


class MessageError(UserError):
    """A body that is not a message this server reads: refused whole, nothing recorded."""


def read(raw: bytes) -> tuple[Message, Snapshot | None]:
    """The message and its snapshot, checked: size, values, depth, structure, the snapshot's
    seal and format, each event's fields. A MessageError in French otherwise."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageError("Message trop gros.")
    if snapshots_mod.json_value_count(raw, stop_above=MAX_VALUES) > MAX_VALUES:
        raise MessageError("Message avec bien trop d'éléments.")
    try:
        data = load_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, JsonError) as exc:
        raise MessageError("Message illisible (ce n'est pas du JSON UTF-8 valide).") from exc
    try:
        message = Message.model_validate(data)
        for event in message.events:
            EVENT_DATA[event.kind].model_validate(event.data)
    except ValidationError as exc:
        raise MessageError(scrub_surrogates(f"Message mal formé : {explain(exc)}.")) from exc
    if any(_unstorable(e.data) or _unstorable(e.key) for e in message.events):
        raise MessageError("Message refusé : un événement contient un caractère nul ou invalide.")
    snap = None
    if message.snapshot is not None:
        snap = snapshots_mod.parse(dict(message.snapshot), PurePath("message"))
        if _unstorable(snap.hostname) or _unstorable(snap.host):
            raise MessageError("Message refusé : le nom ou l'identité du poste contient un caractère nul ou invalide.")
    return message, snap


def _unstorable(value: Any) -> bool:
    """A NUL character or a lone surrogate: PostgreSQL's text columns refuse them, and a row that
    can never be written would stop the pharmacy's judgement at every attempt."""
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def build(sequence: int, created_at: datetime, snapshot: dict[str, Any] | None, events: list[Event]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "sequence": sequence,
        "created_at": created_at.isoformat(),
        "snapshot": snapshot,
        "events": [e.model_dump(mode="json") for e in events],
    }
