"""The pharmacy's team on the dashboard: the titulaire adds colleagues, each with their own
sign-in and a role, and can disable an account. Accounts are never deleted, so a name in the
history (who answered, who accepted an exception) always points to one person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.services import accounts
from officine.services.accounts import ADMIN_ROLE, ROLES, SignedIn
from officine.services.password_check import words_of
from officine.services.site import get_setting
from officine.store import Store
from officine.store.models import UserRow

TEMPORARY_GROUPS = 4  # 80 bits: a temporary password, replaced at the first sign-in


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    full_name: str
    role: str
    created_at: datetime
    created_by: str | None
    disabled: bool
    must_change_password: bool


def members(store: Store) -> list[Member]:
    with Session(store.engine) as session:
        return [
            Member(
                u.id,
                u.username,
                u.full_name,
                u.role,
                _aware(u.created_at),
                u.created_by,
                u.disabled_at is not None,
                bool(u.must_change_password),
            )
            for u in session.scalars(select(UserRow).order_by(UserRow.disabled_at.is_not(None), UserRow.id))
        ]


def pharmacy_words(store: Store) -> list[str]:
    """What an attacker knows of the pharmacy and would try in a password: its name, its address
    (town, street), its team and the names of its accounts."""
    texts: list[str] = []
    pharmacy = get_setting(store, "pharmacy") or {}
    texts += [str(pharmacy.get("name") or ""), str(pharmacy.get("address") or "")]
    texts += [str(p.get("name") or "") for p in get_setting(store, "team") or [] if isinstance(p, dict)]
    with Session(store.engine) as session:
        for username, full_name in session.execute(select(UserRow.username, UserRow.full_name)):
            texts += [username, full_name]
    return sorted({w for text in texts for w in words_of(text)})


def add_member(store: Store, by: SignedIn, username: str, full_name: str, role: str) -> str:
    """A colleague's account with a temporary password (returned, shown once to the titulaire)."""
    username = accounts.check_username(username)
    full_name = " ".join(full_name.split())
    if not 2 <= len(full_name) <= 120:
        raise UserError("Nom et prénom : entre 2 et 120 caractères. Rien n'a été créé.")
    _check_role(role)
    password = accounts.random_code(TEMPORARY_GROUPS)
    row = UserRow(
        username=username,
        full_name=full_name,
        role=role,
        password_hash=accounts.hash_password(password),
        created_at=datetime.now(UTC),
        created_by=by.username,
        must_change_password=1,
    )
    try:
        with Session(store.engine) as session, session.begin():
            session.add(row)
    except IntegrityError as exc:
        raise UserError(
            f"L'identifiant « {username} » est déjà pris (les comptes désactivés gardent le leur). "
            "Choisissez-en un autre. Rien n'a été créé."
        ) from exc
    return password


def set_role(store: Store, by: SignedIn, user_id: int, role: str) -> None:
    _check_role(role)
    with Session(store.engine) as session, session.begin():
        user = _member(session, user_id)
        if user.role == ADMIN_ROLE and role != ADMIN_ROLE:
            _keep_an_administrator(session, user)
        user.role = role
        accounts.end_sessions(session, user.id)  # the new rights apply from the next sign-in


def disable(store: Store, by: SignedIn, user_id: int) -> None:
    """The account can no longer sign in; its browsers are signed out; its history stays."""
    with Session(store.engine) as session, session.begin():
        user = _member(session, user_id)
        if user.id == by.user_id:
            raise UserError("Vous ne pouvez pas désactiver votre propre compte.")
        if user.role == ADMIN_ROLE:
            _keep_an_administrator(session, user)
        user.disabled_at = datetime.now(UTC)
        accounts.end_sessions(session, user.id)


def enable(store: Store, by: SignedIn, user_id: int) -> None:
    with Session(store.engine) as session, session.begin():
        user = _member(session, user_id)
        user.disabled_at = None
        user.unlocked_at = datetime.now(UTC)


def new_temporary_password(store: Store, by: SignedIn, user_id: int) -> tuple[str, str]:
    """A colleague forgot their password: a new temporary one (returned with the username)."""
    password = accounts.random_code(TEMPORARY_GROUPS)
    with Session(store.engine) as session, session.begin():
        user = _member(session, user_id)
        if user.id == by.user_id:
            raise UserError("Pour votre propre compte, changez le mot de passe depuis « Mon compte ».")
        user.password_hash = accounts.hash_password(password)
        user.must_change_password = 1
        user.unlocked_at = datetime.now(UTC)
        accounts.end_sessions(session, user.id)
        return user.username, password


def _member(session: Session, user_id: int) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None:
        raise UserError("Ce compte n'existe pas. Rechargez la page.")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError("Choisissez un des rôles proposés. Rien n'a été enregistré.")


def _keep_an_administrator(session: Session, leaving: UserRow) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(UserRow)
        .where(UserRow.role == ADMIN_ROLE, UserRow.disabled_at.is_(None), UserRow.id != leaving.id)
    )
    if not others:
        raise UserError(
            "La pharmacie doit garder au moins un compte titulaire actif : donnez d'abord ce rôle à un autre compte."
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
