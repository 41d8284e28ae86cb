"""Who owns what in the fleet, and who may see it: organisations (IT providers, groups of
pharmacies), their pharmacies, the console's people and their roles, the console's log.

Every read of the console goes through an `Access`: the organisation of a provider's people,
the one pharmacy of a pharmacist. An identifier outside it is answered like one that does not
exist (the page says "introuvable", never "interdit"), so that nobody learns what others have."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.fleet.models import (
    ConsoleLogRow,
    FleetPharmacyRow,
    MembershipRow,
    OrganisationRow,
    PharmacyStatusRow,
)
from officine.fleet.tenancy import Fleet, schema_of
from officine.services import accounts
from officine.services.accounts import SignedIn
from officine.store.models import UserRow

ROLES = ("admin", "technicien", "lecture", "pharmacien")
ORGANISATION_KINDS = ("prestataire", "groupement")
# What each role may do. Seeing is decided by the scope (organisation or pharmacy), not here.
RIGHTS: dict[str, frozenset[str]] = {
    "admin": frozenset({"parc", "inscrire", "revoquer", "importer", "acquitter", "gerer", "journal"}),
    "technicien": frozenset({"parc", "inscrire", "revoquer", "importer", "acquitter"}),
    "lecture": frozenset({"parc"}),
    "pharmacien": frozenset(),
}
TEMPORARY_GROUPS = 4  # a temporary password (80 bits), replaced at the first sign-in


class NotFound(Exception):
    """Nothing under this identifier that this person may see."""


class Forbidden(Exception):
    """Seen, but the role does not allow this action."""


@dataclass(frozen=True)
class Access:
    """A signed-in person of the console and what they may see."""

    user: SignedIn
    role: str
    organisation_id: int
    pharmacy_id: int | None  # a pharmacist's one pharmacy

    def may(self, right: str) -> bool:
        return right in RIGHTS.get(self.role, frozenset())

    def require(self, right: str) -> None:
        if not self.may(right):
            raise Forbidden(right)

    def pharmacies(self) -> ColumnElement[bool]:
        """The pharmacies this person may see, as a condition on FleetPharmacyRow."""
        clause = FleetPharmacyRow.organisation_id == self.organisation_id
        if self.pharmacy_id is not None:
            clause = clause & (FleetPharmacyRow.id == self.pharmacy_id)
        return clause

    def sees(self, organisation_id: int, pharmacy_id: int | None) -> bool:
        if organisation_id != self.organisation_id:
            return False
        return self.pharmacy_id is None or pharmacy_id == self.pharmacy_id


def access_of(fleet: Fleet, user: SignedIn) -> Access | None:
    with fleet.session() as session:
        m = session.get(MembershipRow, user.user_id)
        if m is None:
            return None
        return Access(user, m.role, m.organisation_id, m.pharmacy_id)


# -- organisations and pharmacies ---------------------------------------------------------------


def _clean(value: str, what: str, limit: int = 120) -> str:
    value = " ".join(value.split())
    if not value:
        raise UserError(f"{what} : à renseigner. Rien n'a été créé.")
    if len(value) > limit or any(not c.isprintable() for c in value):
        raise UserError(f"{what} : {limit} caractères imprimables au plus. Rien n'a été créé.")
    return value


def create_organisation(fleet: Fleet, name: str, kind: str = "prestataire") -> int:
    if kind not in ORGANISATION_KINDS:
        raise UserError("Type d'organisation inconnu : prestataire ou groupement.")
    name = _clean(name, "Nom de l'organisation")
    try:
        with fleet.transaction() as session:
            row = OrganisationRow(name=name, kind=kind, created_at=datetime.now(UTC), alert_emails=[])
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError as exc:
        raise UserError(f"L'organisation « {name} » existe déjà. Rien n'a été créé.") from exc


def create_pharmacy(fleet: Fleet, access: Access, name: str, city: str = "") -> int:
    """A pharmacy of the person's organisation, with its own schema, ready for its agents."""
    access.require("gerer")
    name = _clean(name, "Nom de la pharmacie")
    city = " ".join(city.split())[:120]
    with fleet.transaction() as session:
        row = FleetPharmacyRow(
            organisation_id=access.organisation_id,
            name=name,
            city=city,
            tenant=secrets.token_hex(12),
            schema_name="",
            created_at=datetime.now(UTC),
            created_by=access.user.username,
        )
        session.add(row)
        session.flush()
        row.schema_name = schema_of(row.id)
        session.add(PharmacyStatusRow(pharmacy_id=row.id))
        pharmacy_id = row.id
    fleet.tenant_store(pharmacy_id)  # its schema, migrated now rather than at its first message
    log(fleet, access, "pharmacie_creee", pharmacy_id, {"nom": name})
    return pharmacy_id


@dataclass(frozen=True)
class PharmacyInfo:
    id: int
    name: str
    city: str
    organisation_id: int
    tenant: str


def pharmacy(fleet: Fleet, access: Access, pharmacy_id: int) -> PharmacyInfo:
    """One pharmacy this person may see, or NotFound (whether it exists elsewhere or not)."""
    with fleet.session() as session:
        row = session.scalar(select(FleetPharmacyRow).where(FleetPharmacyRow.id == pharmacy_id, access.pharmacies()))
        if row is None:
            raise NotFound
        return PharmacyInfo(row.id, row.name, row.city, row.organisation_id, row.tenant)


def pharmacies(fleet: Fleet, access: Access) -> list[PharmacyInfo]:
    with fleet.session() as session:
        rows = session.scalars(select(FleetPharmacyRow).where(access.pharmacies()).order_by(FleetPharmacyRow.name))
        return [PharmacyInfo(r.id, r.name, r.city, r.organisation_id, r.tenant) for r in rows]


# -- people ----------------------------------------------------------------------------------------


def install(
    fleet: Fleet, code: str, organisation: str, username: str, password: str, confirm: str, client: str
) -> None:
    """The first run: the provider's organisation and its administrator, with the setup code
    shown by the terminal that started the server."""
    name = _clean(organisation, "Nom de l'organisation")
    accounts.install(fleet.home, code, username, password, confirm, [name], client)
    organisation_id = create_organisation(fleet, name)
    with fleet.transaction() as session:
        user = session.scalars(select(UserRow).where(UserRow.username == username.strip())).one()  # just created
        session.add(MembershipRow(user_id=user.id, role="admin", organisation_id=organisation_id, pharmacy_id=None))


def add_person(fleet: Fleet, access: Access, username: str, full_name: str, role: str, pharmacy_id: int | None) -> str:
    """A new account of the organisation with a temporary password (returned, shown once)."""
    access.require("gerer")
    if role not in ROLES:
        raise UserError("Rôle inconnu. Rien n'a été créé.")
    if role == "pharmacien":
        if pharmacy_id is None:
            raise UserError("Choisissez la pharmacie de ce pharmacien. Rien n'a été créé.")
        pharmacy(fleet, access, pharmacy_id)  # NotFound when not one of the organisation's
    else:
        pharmacy_id = None
    username = accounts.check_username(username)
    temporary = accounts.random_code(TEMPORARY_GROUPS)
    password_hash = accounts.hash_password(temporary)
    try:
        with fleet.transaction() as session:
            user = UserRow(
                username=username,
                password_hash=password_hash,
                created_at=datetime.now(UTC),
                role="lecture",  # the dashboard's role; the console's is the membership's
                full_name=" ".join(full_name.split())[:120],
                created_by=access.user.username,
                must_change_password=1,
            )
            session.add(user)
            session.flush()
            membership = MembershipRow(
                user_id=user.id, role=role, organisation_id=access.organisation_id, pharmacy_id=pharmacy_id
            )
            session.add(membership)
    except IntegrityError as exc:
        raise UserError(f"L'identifiant « {username} » est déjà pris. Rien n'a été créé.") from exc
    log(fleet, access, "compte_cree", pharmacy_id, {"identifiant": username, "role": role})
    return temporary


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    full_name: str
    role: str
    pharmacy: str | None


def people(fleet: Fleet, access: Access) -> list[Person]:
    access.require("gerer")
    with fleet.session() as session:
        rows = session.execute(
            select(UserRow.id, UserRow.username, UserRow.full_name, MembershipRow.role, FleetPharmacyRow.name)
            .join(MembershipRow, MembershipRow.user_id == UserRow.id)
            .outerjoin(FleetPharmacyRow, FleetPharmacyRow.id == MembershipRow.pharmacy_id)
            .where(MembershipRow.organisation_id == access.organisation_id)
            .order_by(UserRow.username)
        ).all()
    return [Person(r[0], r[1], r[2], r[3], r[4]) for r in rows]


# -- the console's log -----------------------------------------------------------------------------


def log(
    fleet: Fleet,
    access: Access,
    action: str,
    pharmacy_id: int | None,
    details: dict[str, Any],
    client: str = "",
    session: Session | None = None,
) -> None:
    row = ConsoleLogRow(
        at=datetime.now(UTC),
        organisation_id=access.organisation_id,
        pharmacy_id=pharmacy_id,
        username=access.user.username,
        action=action,
        details=details,
        client=client[:64],
    )
    if session is not None:
        session.add(row)
        return
    with fleet.transaction() as own:
        own.add(row)


def console_log(fleet: Fleet, access: Access, limit: int = 200) -> list[ConsoleLogRow]:
    access.require("journal")
    with fleet.session() as session:
        rows = list(
            session.scalars(
                select(ConsoleLogRow)
                .where(ConsoleLogRow.organisation_id == access.organisation_id)
                .order_by(ConsoleLogRow.id.desc())
                .limit(limit)
            )
        )
        session.expunge_all()
    return rows
