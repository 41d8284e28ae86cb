"""The pharmacy's contacts for a bad day: one model for the dashboard, the CLI and the PDF.

The dashboard keeps them in the database (services.site) and writes them here too, to
`contacts.yaml` in the configuration folder, because the incident assistant must work without
the dashboard (and on a machine where only the command is installed). The file uses French keys
(`nom`, `telephone`, `courriel`) so that a provider can also write it by hand; the English names
the dashboard used to write (`name`, `phone`, `email`) are read too.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from officine.errors import UserError
from officine.paths import config_dir
from officine.yamlio import read_yaml_file

ROLES = {
    "prestataire": "Prestataire informatique",
    "editeur_lgo": "Éditeur du LGO",
    "assureur": "Assureur",
    "cpam": "Caisse d'assurance maladie (CPAM)",
}
FIXED = {
    "Police / gendarmerie": "17",
    "Cybermalveillance.gouv.fr": "cybermalveillance.gouv.fr",
    "CNIL (notification de violation)": "notifications.cnil.fr",
}
FILE_KEYS = {"name": "nom", "phone": "telephone", "email": "courriel"}


class Contact(BaseModel):
    """Who to call for one role. Every field may be empty (not known yet)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    name: str = Field(default="", max_length=120, validation_alias=AliasChoices("name", "nom"))
    phone: str = Field(default="", max_length=40, validation_alias=AliasChoices("phone", "telephone", "téléphone"))
    email: str = Field(default="", max_length=200, validation_alias=AliasChoices("email", "courriel"))

    @property
    def filled(self) -> bool:
        return bool(self.name or self.phone or self.email)

    def describe(self) -> str:
        """ "InfoPharma — 04 00 00 00 01 — aide@infopharma.fr", or "" when nothing is known."""
        return " — ".join(v for v in (self.name, self.phone, self.email) if v)


def contacts_file() -> Path:
    return config_dir() / "contacts.yaml"


def load_contacts(path: Path | None = None) -> dict[str, Contact]:
    """Every role, filled or empty. A broken file is a French error that names it."""
    path = path or contacts_file()
    empty = {role: Contact() for role in ROLES}
    if not path.exists():
        return empty
    # People's YAML: no aliases, bounded size and depth, impossible dates named with their line.
    data = read_yaml_file(path, "Le fichier de contacts").data or {}
    if not isinstance(data, dict):
        raise UserError(f"Fichier de contacts invalide ({path}) : un rôle par ligne ({', '.join(ROLES)}).")
    unknown = [str(k) for k in data if k not in ROLES]
    if unknown:
        raise UserError(
            f"Fichier de contacts invalide ({path}) : rôle(s) inconnu(s) {', '.join(unknown)} ; "
            f"rôles possibles : {', '.join(ROLES)}."
        )
    for role, value in data.items():
        try:
            empty[role] = Contact.model_validate(
                {str(k): "" if v is None else str(v) for k, v in (value or {}).items()}
            )
        except (ValidationError, AttributeError) as exc:
            raise UserError(
                f"Fichier de contacts invalide ({path}), rôle « {role} » : champs possibles nom, telephone, "
                "courriel (texte court)."
            ) from exc
    return empty


def save_contacts(contacts: dict[str, Contact], path: Path | None = None) -> None:
    """Write the file atomically (a crash leaves the old file or the new one, never half of one)."""
    path = path or contacts_file()
    data = {
        role: {FILE_KEYS[k]: v for k, v in c.model_dump().items() if v}
        for role, c in contacts.items()
        if role in ROLES and c.filled
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(
            f"Les contacts n'ont pas pu être écrits dans {path} ({exc.strerror or exc}) : rien n'a été enregistré."
        ) from exc
