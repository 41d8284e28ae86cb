"""The pharmacy itself: its profile, the contacts the incident procedure needs, its team and the
data folders to protect. Stored in the database; contacts (one model, `officine.incident.contacts`)
are also written to the incident assistant's file so that `officine incident` and its PDF show
the same numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.incident.contacts import ROLES as CONTACT_LABELS
from officine.incident.contacts import Contact, load_contacts, save_contacts
from officine.store import Store
from officine.store.models import SettingRow
from officine.validation import expected

FINESS = re.compile(r"^\d{9}$")
TEAM_ROLES = {
    "titulaire": "Pharmacien titulaire",
    "adjoint": "Pharmacien adjoint",
    "preparateur": "Préparateur",
    "referent_cyber": "Référent cybersécurité",
    "autre": "Autre",
}


def _clean(value: str) -> str:
    return " ".join(value.split())


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Pharmacy(_Form):
    name: str = Field(min_length=2, max_length=120)
    address: str = Field(default="", max_length=300)
    finess: str = Field(default="", max_length=9)

    @field_validator("finess")
    @classmethod
    def _finess(cls, v: str) -> str:
        if v and not FINESS.match(v):
            raise ValueError("le numéro FINESS compte 9 chiffres")
        return v


class Person(_Form):
    name: str = Field(min_length=2, max_length=120)
    role: str
    phone: str = Field(default="", max_length=40)

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v not in TEAM_ROLES:
            raise ValueError("rôle inconnu")
        return v


class Folder(_Form):
    path: str = Field(min_length=1, max_length=400)
    label: str = Field(default="", max_length=120)


FIELD_LABELS = {
    "name": "nom",
    "address": "adresse",
    "finess": "FINESS",
    "phone": "téléphone",
    "email": "courriel",
    "role": "rôle",
    "path": "dossier",
}


def invalid(exc: ValidationError, what: str) -> UserError:
    """The first problem of a form, in French, naming the field."""
    err = exc.errors()[0]
    field = FIELD_LABELS.get(str(err["loc"][-1]), str(err["loc"][-1])) if err["loc"] else what
    msg = "trop court ou vide" if err["type"] == "string_too_short" else expected(err)
    return UserError(f"{what} : champ « {field} » invalide ({msg}). Rien n'a été enregistré.")


def get_setting(store: Store, key: str) -> Any:
    with Session(store.engine) as session:
        row = session.get(SettingRow, key)
        return None if row is None else row.value


class Profile(_Form):
    """Everything the first run asks, validated as a whole before anything is written."""

    pharmacy: Pharmacy
    contacts: dict[str, Contact]
    team: list[Person]
    folders: list[Folder]
    # The pharmacy's own USB storage devices (serial or Windows device ID); None: not declared yet.
    approved_usb: list[str] | None = None


PROFILE_KEYS = ("pharmacy", "contacts", "team", "folders", "approved_usb")


def load_profile(store: Store) -> Profile | None:
    with Session(store.engine) as session:  # one query: the profile is on every page
        rows = session.execute(select(SettingRow.key, SettingRow.value).where(SettingRow.key.in_(PROFILE_KEYS)))
        found: dict[str, Any] = {key: value for key, value in rows}
    data = {key: found.get(key) for key in PROFILE_KEYS}
    if data["pharmacy"] is None:
        return None
    # Contacts written by hand in contacts.yaml before the dashboard was set up are shown, not lost.
    contacts_data = data["contacts"] or _file_contacts()
    return Profile(
        pharmacy=Pharmacy.model_validate(data["pharmacy"]),
        contacts={role: Contact.model_validate(contacts_data.get(role, {})) for role in CONTACT_LABELS},
        team=[Person.model_validate(p) for p in data["team"] or []],
        folders=[Folder.model_validate(f) for f in data["folders"] or []],
        approved_usb=data["approved_usb"],
    )


def _rows(form: dict[str, str], prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """Numbered form rows (team-0-name, team-0-role...); rows left blank are ignored."""
    indexes = sorted({int(k.split("-")[1]) for k in form if k.startswith(prefix + "-") and k.split("-")[1].isdigit()})
    rows = []
    for i in indexes:
        row = {f: form.get(f"{prefix}-{i}-{f}", "") for f in fields}
        if any(v.strip() for k, v in row.items() if k != "role"):
            rows.append(row)
    return rows


def parse_profile(form: dict[str, str]) -> Profile:
    try:
        pharmacy = Pharmacy.model_validate({k: _clean(form.get(k, "")) for k in ("name", "address", "finess")})
    except ValidationError as exc:
        raise invalid(exc, "Pharmacie") from exc
    contacts: dict[str, Contact] = {}
    for role, label in CONTACT_LABELS.items():
        try:
            contacts[role] = Contact.model_validate(
                {f: _clean(form.get(f"{role}.{f}", "")) for f in ("name", "phone", "email")}
            )
        except ValidationError as exc:
            raise invalid(exc, label) from exc
    team = []
    for row in _rows(form, "team", ("name", "role", "phone")):
        try:
            team.append(Person.model_validate({k: _clean(v) for k, v in row.items()}))
        except ValidationError as exc:
            raise invalid(exc, "Équipe") from exc
    folders = []
    for row in _rows(form, "folder", ("path", "label")):
        try:
            folders.append(Folder.model_validate({"path": row["path"].strip(), "label": _clean(row["label"])}))
        except ValidationError as exc:
            raise invalid(exc, "Dossiers à protéger") from exc
    paths = [f.path for f in folders]
    if len(paths) != len(set(paths)):
        raise UserError("Dossiers à protéger : le même dossier figure deux fois. Rien n'a été enregistré.")
    usb = [line.strip() for line in form.get("approved_usb", "").splitlines() if line.strip()]
    if any(len(u) > 200 or not u.isprintable() for u in usb):
        raise UserError("Supports USB : un identifiant par ligne, 200 caractères au plus. Rien n'a été enregistré.")
    return Profile(
        pharmacy=pharmacy, contacts=contacts, team=team, folders=folders, approved_usb=list(dict.fromkeys(usb)) or None
    )


def save_profile(store: Store, profile: Profile, by: str) -> None:
    contacts = dict(profile.contacts)
    if get_setting(store, "contacts") is None:
        # First save: the form could not show contacts written by hand in contacts.yaml before the
        # dashboard existed; a role left empty keeps them instead of wiping them.
        for role, known in _file_contacts().items():
            if not contacts.get(role, Contact()).filled:
                contacts[role] = Contact.model_validate(known)
    values = {
        "pharmacy": profile.pharmacy.model_dump(),
        "contacts": {r: c.model_dump() for r, c in contacts.items()},
        "team": [p.model_dump() for p in profile.team],
        "folders": [f.model_dump() for f in profile.folders],
        "approved_usb": profile.approved_usb,
    }
    now = datetime.now(UTC)
    with Session(store.engine) as session, session.begin():
        for key, value in values.items():
            row = session.get(SettingRow, key)
            if row is None:
                session.add(SettingRow(key=key, value=value, updated_at=now, updated_by=by))
            else:
                row.value, row.updated_at, row.updated_by = value, now, by
        # Inside the transaction: if the incident assistant's copy cannot be written, nothing is.
        save_contacts(contacts)


def _file_contacts() -> dict[str, Any]:
    try:
        return {role: c.model_dump() for role, c in load_contacts().items()}
    except UserError:
        return {}


def setup_complete(store: Store) -> bool:
    with Session(store.engine) as session:
        return session.scalar(select(SettingRow.key).where(SettingRow.key == "pharmacy")) is not None
