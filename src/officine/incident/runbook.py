"""The incident runbook: steps as data, an incident as a folder with its tamper-evident journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from officine.errors import UserError
from officine.incident.journal import Journal, verify
from officine.paths import config_dir, data_dir
from officine.yamlio import load_yaml, read_yaml_file

CONTACT_LABELS = {
    "prestataire": "Prestataire informatique",
    "editeur_lgo": "Éditeur du LGO",
    "assureur": "Assureur",
    "cpam": "Caisse d'assurance maladie (CPAM)",
}
FIXED_CONTACTS = {
    "Police / gendarmerie": "17",
    "Cybermalveillance.gouv.fr": "cybermalveillance.gouv.fr",
    "CNIL (notification de violation)": "notifications.cnil.fr",
}


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    text: str
    contacts: tuple[str, ...] = ()
    action: str | None = None


@cache
def steps() -> tuple[Step, ...]:
    data = load_yaml(resources.files("officine.incident").joinpath("runbook.yaml").read_text(encoding="utf-8"))
    return tuple(
        Step(s["id"], s["title"], " ".join(s["text"].split()), tuple(s.get("contacts", [])), s.get("action"))
        for s in data["steps"]
    )


def incidents_dir() -> Path:
    return data_dir() / "incidents"


def contacts_file() -> Path:
    return config_dir() / "contacts.yaml"


def load_contacts() -> dict[str, dict[str, str]]:
    """The pharmacy's own contacts (name and phone per role); missing ones are simply absent."""
    path = contacts_file()
    if not path.exists():
        return {}
    data = read_yaml_file(path, "Le fichier de contacts").data or {}
    if not isinstance(data, dict):
        raise UserError(
            f"Le fichier de contacts {path} est invalide : une liste « rôle : nom et téléphone » est attendue. "
            "Corrigez-le puis relancez ; rien n'a été modifié."
        )
    # Values are plain text: a nested list or table where a name is expected is shown as empty.
    return {
        str(k): {str(a): "" if isinstance(b, dict | list) else str(b) for a, b in v.items()}
        for k, v in data.items()
        if isinstance(v, dict)
    }


@dataclass
class Incident:
    folder: Path
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        self.journal = Journal(self.folder / "journal.jsonl")

    @property
    def id(self) -> str:
        return self.folder.name

    def entries(self) -> list[dict[str, Any]]:
        return self.journal.entries()

    def done_steps(self) -> dict[str, dict[str, Any]]:
        return {e["details"]["step"]: e for e in self.entries() if e["action"] == "step_done"}

    def record(self, actor: str, action: str, **details: Any) -> dict[str, Any]:
        return self.journal.append(actor, action, details)

    @property
    def closed(self) -> bool:
        return any(e["action"] == "incident_closed" for e in self.entries())


def open_incident(actor: str, summary: str = "", now: datetime | None = None) -> Incident:
    now = now or datetime.now(UTC)
    base = incidents_dir()
    base.mkdir(parents=True, exist_ok=True)
    folder = base / now.strftime("%Y%m%d-%H%M%S")
    n = 1
    while folder.exists():
        n += 1
        folder = base / f"{now:%Y%m%d-%H%M%S}-{n}"
    folder.mkdir()
    incident = Incident(folder)
    incident.journal.append(actor, "incident_opened", {"summary": summary}, at=now)
    return incident


def current_incident() -> Incident | None:
    base = incidents_dir()
    if not base.is_dir():
        return None
    for folder in sorted((p for p in base.iterdir() if p.is_dir()), reverse=True):
        incident = Incident(folder)
        if not incident.closed:
            return incident
    return None


def require_incident(actor: str) -> Incident:
    return current_incident() or open_incident(actor, "ouvert automatiquement")


def verify_all() -> list[tuple[str, Any]]:
    base = incidents_dir()
    found = []
    if base.is_dir():
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            found.append((folder.name, verify(folder / "journal.jsonl")))
    return found
