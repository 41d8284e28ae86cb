"""The backup plan: what to save, where, how long, when. A YAML file the IT provider can read.

Passwords are never in the plan: each destination names a password file readable only by
the account that runs the backups.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from officine.errors import UserError
from officine.paths import config_dir
from officine.validation import explain
from officine.yamlio import read_yaml_file

DestinationKind = Literal["disk", "rotated_disk", "network", "cloud"]
Place = Literal["pharmacie", "domicile", "autre_site", "cloud"]

KIND_FR = {
    "disk": "disque externe",
    "rotated_disk": "disque externe en rotation",
    "network": "serveur réseau",
    "cloud": "hébergement en ligne",
}
PLACE_FR = {
    "pharmacie": "à la pharmacie",
    "domicile": "au domicile",
    "autre_site": "sur un autre site",
    "cloud": "chez un hébergeur",
}


REPAIR_HINT = (
    "Corrigez le fichier, ou recréez le plan avec « officine backup plan init --remplacer --source DOSSIER » "
    "(l'ancien fichier est gardé à côté, avec la date)"
)


def default_plan_path() -> Path:
    return config_dir() / "backup-plan.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    path: str
    label: str = ""
    lgo: bool = False  # the pharmacy software's data folder: the one that matters most

    @field_validator("path")
    @classmethod
    def _absolute(cls, v: str) -> str:
        if not Path(v).is_absolute():
            raise ValueError("le chemin doit être absolu")
        return v


class Hds(_Strict):
    certified: bool
    reference: str | None = None
    expires: dt.date | None = None


class Destination(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    label: str
    kind: DestinationKind
    place: Place
    repository: str  # a restic repository: a path, sftp:..., s3:..., rest:...
    password_file: str
    immutable: bool = False  # declared append-only / object lock (rest-server --append-only...)
    hds: Hds | None = None

    @property
    def removable(self) -> bool:
        return self.kind in ("disk", "rotated_disk")

    @property
    def local_path(self) -> Path | None:
        """A repository on a mounted disk or a local folder, as opposed to a remote URL."""
        if re.match(r"^[a-z0-9]+:", self.repository) and not self.repository.startswith("local:"):
            return None
        return Path(self.repository.removeprefix("local:"))

    @model_validator(mode="after")
    def _coherent(self) -> Destination:
        if self.removable and self.local_path is None:
            raise ValueError("un disque externe doit être un chemin de dossier, pas une adresse réseau")
        if self.kind == "cloud" and self.hds is None:
            raise ValueError("pour un hébergement en ligne, indiquez s'il est certifié HDS (hds)")
        return self


class Retention(_Strict):
    keep_daily: int = Field(default=14, ge=1)
    keep_weekly: int = Field(default=8, ge=0)
    keep_monthly: int = Field(default=12, ge=0)


class Thresholds(_Strict):
    max_backup_age_hours: int = 26  # daily backups, with some slack
    max_drill_age_days: int = 183  # MonAideCyber: a restore test every six months
    max_attached_days: int = 3  # a disk seen attached longer than this is not a disconnected copy
    full_drill_every_days: int = 30
    sample_files: int = 200
    # A folder that lost more than this share of its files or of its size since the last normal
    # backup is a failure until someone accepts the drop (`backup run --accepter-baisse`): an
    # unmounted volume or a wipe looks exactly like this, a routine archive rarely does.
    max_source_drop_percent: int = Field(default=50, ge=1, le=100)


class Plan(_Strict):
    version: int = 1
    sources: list[Source] = Field(default_factory=list)
    destinations: list[Destination] = Field(default_factory=list)
    retention: Retention = Field(default_factory=Retention)
    schedule: str = "*-*-* 20:30:00"  # systemd OnCalendar
    thresholds: Thresholds = Field(default_factory=Thresholds)
    paper_copy: str = (
        "Notez le mot de passe de chaque destination sur papier et rangez-le dans le coffre "
        "de la pharmacie : sans lui, la sauvegarde est illisible, même pour le prestataire."
    )

    @model_validator(mode="after")
    def _unique(self) -> Plan:
        ids = [d.id for d in self.destinations]
        if len(ids) != len(set(ids)):
            raise ValueError("deux destinations ont le même identifiant")
        return self

    def destination(self, dest_id: str) -> Destination:
        for d in self.destinations:
            if d.id == dest_id:
                return d
        raise UserError(
            f"Aucune destination « {dest_id} » dans le plan. Destinations : "
            + (", ".join(d.id for d in self.destinations) or "aucune")
        )


def load_plan(path: Path | None = None) -> Plan:
    path = path or default_plan_path()
    if not path.exists():
        raise UserError(
            f"Aucun plan de sauvegarde ({path}). Créez-le avec « officine backup plan init --source DOSSIER »."
        )
    document = read_yaml_file(path, "Le plan de sauvegarde", f"{REPAIR_HINT} ; rien n'a été modifié.")
    try:
        return Plan.model_validate(document.data or {})
    except ValidationError as exc:
        raise UserError(
            f"Le plan de sauvegarde {path} est invalide : {explain(exc, where=document.line_of)}. {REPAIR_HINT}"
        ) from exc


def save_plan(plan: Plan, path: Path | None = None) -> Path:
    path = path or default_plan_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    data = plan.model_dump(mode="json", exclude_none=True)
    tmp.write_text(
        "# Plan de sauvegarde officine-cyber (les mots de passe ne sont jamais ici).\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    os.replace(tmp, path)
    return path
