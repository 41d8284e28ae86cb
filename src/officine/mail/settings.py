"""The pharmacy's mail settings in the store: the name of its receiving server (the only one
whose Authentication-Results are trusted) and its own known senders (suppliers, bank,
software vendors), kept as one document in the `settings` table (key "courriel")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.mail.analyse import MailSettings
from officine.mail.domains import normalise_host, to_ascii
from officine.mail.knowledge import Organisation, prepare
from officine.store import Store
from officine.store.models import SettingRow
from officine.validation import explain

KEY = "courriel"
MAX_KNOWN = 200
_HOST = re.compile(r"(?=.{1,253}$)([a-z0-9*](?:[a-z0-9*-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
KINDS = {
    "fournisseur": "Fournisseur (répartiteur, laboratoire)",
    "banque": "Banque",
    "editeur": "Éditeur de logiciel (LGO…)",
    "sante": "Organisme de santé",
    "administration": "Administration",
    "autre": "Autre",
}


def _host(value: str) -> str:
    host = normalise_host(to_ascii(value.strip().removeprefix("@")))
    if not _HOST.fullmatch(host):
        raise ValueError(f"« {value} » n'est pas un nom de domaine (exemple : ocp.fr)")
    return host


class KnownSender(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nom: str = Field(min_length=1, max_length=120)
    genre: str = "autre"
    domaines: list[str] = Field(min_length=1, max_length=20)
    ajoute_par: str = ""
    ajoute_le: str = ""

    @field_validator("domaines")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(_host(v) for v in value))

    @field_validator("genre")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError("genre inconnu")
        return value


class Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")

    serveur_de_confiance: str | None = None
    expediteurs: list[KnownSender] = []


def _document(store: Store) -> Stored:
    with Session(store.engine) as session:
        row = session.get(SettingRow, KEY)
        if row is None:
            return Stored()
        try:
            return Stored.model_validate(row.value)
        except ValidationError:  # written by a newer version, or damaged: analyse without it
            return Stored()


def load(store: Store) -> Stored:
    return _document(store)


def settings_from(stored: Stored, override_server: str | None = None) -> MailSettings:
    known = tuple(
        prepare(Organisation(nom=s.nom, genre=s.genre, domaines=tuple(s.domaines), noms=(s.nom,)), s.ajoute_par)
        for s in stored.expediteurs
    )
    return MailSettings(trusted_server=override_server or stored.serveur_de_confiance, known=known)


def _update(store: Store, by: str, change: Any) -> None:
    now = datetime.now(UTC)
    with Session(store.engine) as session, session.begin():
        row = session.execute(select(SettingRow).where(SettingRow.key == KEY).with_for_update()).scalar_one_or_none()
        try:
            current = Stored.model_validate(row.value) if row is not None else Stored()
        except ValidationError:
            current = Stored()
        change(current)
        value = current.model_dump()
        if row is None:
            session.add(SettingRow(key=KEY, value=value, updated_at=now, updated_by=by))
        else:
            row.value, row.updated_at, row.updated_by = value, now, by


def set_trusted_server(store: Store, value: str, by: str) -> None:
    """One or more names (comma-separated) as the receiving server writes them; empty clears it."""
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    for name in names:
        if len(name) > 253 or not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", name):
            raise UserError(
                f"Serveur de confiance : « {name} » n'est pas un nom de serveur "
                "(exemple : mx.monfournisseur.fr). Rien n'a été enregistré."
            )

    def change(doc: Stored) -> None:
        doc.serveur_de_confiance = ", ".join(names) or None

    _update(store, by, change)


def add_sender(store: Store, name: str, kind: str, domains: str, by: str) -> KnownSender:
    try:
        sender = KnownSender(
            nom=" ".join(name.split()),
            genre=kind,
            domaines=[d for d in re.split(r"[\s,;]+", domains) if d],
            ajoute_par=by,
            ajoute_le=datetime.now(UTC).date().isoformat(),
        )
    except ValidationError as exc:
        raise UserError(f"Expéditeur connu : {explain(exc)}. Rien n'a été enregistré.") from exc

    def change(doc: Stored) -> None:
        if len(doc.expediteurs) >= MAX_KNOWN:
            raise UserError(
                f"Expéditeurs connus : {MAX_KNOWN} au plus. Retirez-en un avant d'en ajouter. Rien n'a été enregistré."
            )
        doc.expediteurs.append(sender)

    _update(store, by, change)
    return sender


def remove_sender(store: Store, index: int, by: str) -> None:
    def change(doc: Stored) -> None:
        if not 0 <= index < len(doc.expediteurs):
            raise UserError("Cet expéditeur n'est plus dans la liste (déjà retiré ?).")
        del doc.expediteurs[index]

    _update(store, by, change)
