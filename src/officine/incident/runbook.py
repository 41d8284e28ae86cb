"""The incident runbook: steps as data, an incident as a folder with its tamper-evident journal.

Public API for the surfaces (CLI, dashboard):
- `open_incident(actor, summary)`, `current_incident()`, `require_incident(actor)`;
- `Incident.record(actor, action, **details)` → `Appended` (show its `warnings`);
- `Incident.timeline()` (typed entries), `Incident.done_steps()`, `Incident.closed`;
- `Incident.verify()` → `Verification` (an incident without its opening entry is altered),
  `Incident.receipt()` → the head to print and keep elsewhere, `check_receipt(text)`;
- `verify_all()`: every incident journal, those whose folder disappeared, the breach register.
Every function takes an optional `anchor` (default: the officine database).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from officine.errors import UserError
from officine.incident.anchor import Anchor, AnchorUnavailable, StoreAnchor
from officine.incident.contacts import FIXED, ROLES, contacts_file, load_contacts
from officine.incident.journal import GENESIS, Appended, Entry, Journal, Verification, entry_hash, verify
from officine.paths import data_dir
from officine.yamlio import load_yaml

OPENED, CLOSED = "incident_opened", "incident_closed"
STEP_DONE, STEP_SKIPPED = "step_done", "step_skipped"

# Kept under their old names for the surfaces that import them from here.
CONTACT_LABELS = ROLES
FIXED_CONTACTS = FIXED
__all__ = ["CONTACT_LABELS", "FIXED_CONTACTS", "contacts_file", "load_contacts"]


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    text: str
    contacts: tuple[str, ...] = ()
    action: str | None = None
    kind: str = "action"  # action (done or not yet) or question (yes or no: the title is the question)


@cache
def steps() -> tuple[Step, ...]:
    data = load_yaml(resources.files("officine.incident").joinpath("runbook.yaml").read_text(encoding="utf-8"))
    return tuple(
        Step(
            s["id"],
            s["title"],
            " ".join(s["text"].split()),
            tuple(s.get("contacts", [])),
            s.get("action"),
            s.get("kind", "action"),
        )
        for s in data["steps"]
    )


def incidents_dir() -> Path:
    return data_dir() / "incidents"


@dataclass(frozen=True)
class Receipt:
    """The journal's head at one moment, printed to be kept away from this machine."""

    incident: str
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.incident}:{self.seq}:{self.hash}"


@dataclass
class Incident:
    folder: Path
    anchor: Anchor | None = None
    journal: Journal = field(init=False)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.anchor is None:
            self.anchor = StoreAnchor()
        self.journal = Journal(self.folder / "journal.jsonl", journal_key(self.id), self.anchor)

    @property
    def id(self) -> str:
        return self.folder.name

    def entries(self) -> list[dict[str, Any]]:
        return self.journal.entries()

    def timeline(self) -> list[Entry]:
        return self.journal.timeline()

    def done_steps(self) -> dict[str, Entry]:
        """The steps done (or answered), each with its latest entry."""
        return {e.detail("step"): e for e in self.timeline() if e.action == STEP_DONE and e.detail("step")}

    def record(self, actor: str, action: str, **details: Any) -> Appended:
        appended = self.journal.append(actor, action, details)
        self.warnings.extend(appended.warnings)
        return appended

    @property
    def closed(self) -> bool:
        return any(e.action == CLOSED for e in self.timeline())

    def verify(self) -> Verification:
        return self.journal.verify(opening=OPENED)

    def receipt(self) -> Receipt | None:
        head = verify(self.journal.path).head
        return Receipt(self.id, head[0], head[1]) if head else None


def journal_key(incident_id: str) -> str:
    return f"incident:{incident_id}"


def open_incident(actor: str, summary: str = "", now: datetime | None = None, anchor: Anchor | None = None) -> Incident:
    now = now or datetime.now(UTC)
    base = incidents_dir()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"Impossible de créer le dossier des incidents {base} : {exc.strerror or exc}.") from exc
    name, n = now.strftime("%Y%m%d-%H%M%S"), 1
    while True:
        folder = base / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()  # atomic: two processes never share a folder
            break
        except FileExistsError:
            n += 1
        except OSError as exc:
            raise UserError(f"Impossible de créer le dossier de l'incident {folder} : {exc.strerror or exc}.") from exc
    incident = Incident(folder, anchor)
    try:
        incident.record(actor, OPENED, summary=summary)
    except UserError:
        # Nothing was written (full disk…): leave no folder that would read as an incident
        # without its opening entry.
        with suppress(OSError):
            if incident.journal.path.exists() and incident.journal.path.stat().st_size == 0:
                incident.journal.path.unlink()
            folder.rmdir()
        raise
    return incident


def current_incident(anchor: Anchor | None = None) -> Incident | None:
    base = incidents_dir()
    if not base.is_dir():
        return None
    anchor = anchor or StoreAnchor()
    for folder in sorted((p for p in base.iterdir() if p.is_dir()), reverse=True):
        incident = Incident(folder, anchor)
        if not incident.closed:
            return incident
    return None


def require_incident(actor: str, anchor: Anchor | None = None) -> Incident:
    return current_incident(anchor) or open_incident(actor, "ouvert automatiquement", anchor=anchor)


def find_incident(incident_id: str, anchor: Anchor | None = None) -> Incident | None:
    folder = incidents_dir() / incident_id
    if "/" in incident_id or incident_id in ("", ".", "..") or not folder.is_dir():
        return None
    return Incident(folder, anchor)


def verify_all(anchor: Anchor | None = None) -> list[tuple[str, Verification]]:
    """Every incident journal (by folder, and by anchor for folders that disappeared) and the
    breach register, each with its verdict."""
    from officine.incident.register import REGISTER_KEY, register_journal  # noqa: PLC0415

    anchor = anchor or StoreAnchor()
    base = incidents_dir()
    found: list[tuple[str, Verification]] = []
    seen = set()
    folders = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    for folder in folders:
        seen.add(journal_key(folder.name))
        found.append((f"incident {folder.name}", Incident(folder, anchor).verify()))
    try:
        keys = anchor.journals()
    except AnchorUnavailable:
        keys = []
    for key in keys:
        if key.startswith("incident:") and key not in seen:
            lost = key.removeprefix("incident:")
            journal = Journal(base / lost / "journal.jsonl", key, anchor)
            found.append((f"incident {lost} (dossier disparu)", journal.verify(opening=OPENED)))
    register = register_journal(anchor)
    if register.path.exists() or REGISTER_KEY in keys:
        found.append(("registre des violations", register.verify()))
    return found


def check_receipt(text: str, anchor: Anchor | None = None) -> tuple[bool, str]:
    """Compare a receipt ("INCIDENT:N:EMPREINTE", at least 16 hexadecimal characters of the
    fingerprint) with the journal as it is now. Returns (matches, French explanation)."""
    parts = text.strip().split(":")
    digest = parts[2].strip().lower() if len(parts) == 3 else ""
    if len(parts) != 3 or not parts[1].strip().isdigit() or len(digest) < 16 or not _is_hex(digest):
        raise UserError(
            f"Reçu illisible : « {text} ». Recopiez-le tel qu'imprimé sur le rapport : "
            "INCIDENT:NUMÉRO:EMPREINTE (au moins les 16 premiers caractères de l'empreinte)."
        )
    incident_id, seq = parts[0].strip(), int(parts[1])
    incident = find_incident(incident_id, anchor)
    if incident is None:
        return False, f"l'incident {incident_id} n'existe plus sur ce poste"
    if not _chain_reaches(incident.entries(), seq, digest):
        return False, (
            f"l'entrée n° {seq} du reçu n'est plus dans le journal telle qu'elle était, ou les entrées "
            "qui la précèdent ont changé : le journal a été réécrit ou coupé depuis le reçu"
        )
    return True, f"l'entrée n° {seq} et toutes celles qui la précèdent sont telles qu'au moment du reçu"


def _chain_reaches(entries: list[dict[str, Any]], seq: int, digest: str) -> bool:
    """Entries 1..seq, each intact and chained to the one before, ending on the receipt's hash."""
    by_seq = {e["seq"]: e for e in entries}
    previous = GENESIS
    for n in range(1, seq + 1):
        entry = by_seq.get(n)
        if entry is None or entry["prev"] != previous or entry_hash(entry) != entry["hash"]:
            return False
        previous = entry["hash"]
    return previous.startswith(digest)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
