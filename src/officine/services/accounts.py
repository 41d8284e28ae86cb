"""Who may open the dashboard: the administrator account, sign-in with a lock-out, browser sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from officine.errors import UserError
from officine.store import Store
from officine.store.models import LoginAttemptRow, UserRow, WebSessionRow

MIN_PASSWORD_LENGTH = 12  # CNIL deliberation 2022-100, case 1
MIN_ZXCVBN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the start is enough to judge
# Words an attacker tries first against a pharmacy: zxcvbn has no French dictionary.
LOCAL_WORDS = ["pharmacie", "officine", "pharma", "pharmacien", "admin", "motdepasse", "azerty", "soleil"]
MAX_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(minutes=30)  # a dashboard left open on a counter PC closes itself
IDLE_WRITE_EVERY = timedelta(minutes=1)

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


class LockedOut(UserError):
    """Too many wrong passwords: sign-in refused for a while, even with the right one."""


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    csrf_token: str


def has_users(store: Store) -> bool:
    with Session(store.engine) as session:
        return session.scalar(select(func.count()).select_from(UserRow)) != 0


def password_problem(password: str, context: list[str]) -> str | None:
    """Why a password is too weak, in French, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"au moins {MIN_PASSWORD_LENGTH} caractères (une phrase de passe est idéale)"
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[*LOCAL_WORDS, *context])
    if result["score"] < MIN_ZXCVBN_SCORE:
        return "trop facile à deviner (mot courant, suite de clavier, nom de la pharmacie…) ; ajoutez des mots rares"
    return None


def create_admin(store: Store, username: str, password: str, confirm: str, context: list[str]) -> None:
    """The first account. Refused once any account exists: nobody takes over an installed dashboard."""
    username = username.strip()
    if not 2 <= len(username) <= 64:
        raise UserError("Identifiant : entre 2 et 64 caractères.")
    if password != confirm:
        raise UserError("Les deux mots de passe saisis sont différents.")
    problem = password_problem(password, [username, *context])
    if problem:
        raise UserError(f"Mot de passe trop faible : {problem}.")
    with Session(store.engine) as session, session.begin():
        if session.scalar(select(func.count()).select_from(UserRow)):
            raise UserError("Le compte administrateur existe déjà. Connectez-vous.")
        session.add(UserRow(username=username, password_hash=_hasher.hash(password), created_at=datetime.now(UTC)))


def _recent_failures(session: Session, username: str, client: str, now: datetime) -> list[datetime]:
    rows = session.scalars(
        select(LoginAttemptRow.at).where(
            LoginAttemptRow.success == 0,
            LoginAttemptRow.at > now - LOCK_WINDOW,
            or_(LoginAttemptRow.username == username, LoginAttemptRow.client == client),
        )
    ).all()
    return [_aware(a) for a in rows]


def sign_in(store: Store, username: str, password: str, client: str, now: datetime | None = None) -> str:
    """Check the password; return a new session token. Every attempt is recorded."""
    now = now or datetime.now(UTC)
    username = username.strip()[:64]
    client = client[:64]
    with Session(store.engine) as session, session.begin():
        failures = _recent_failures(session, username, client, now)
        if len(failures) >= MAX_FAILURES:
            wait = max(1, round((min(sorted(failures)[-MAX_FAILURES:]) + LOCK_WINDOW - now).total_seconds() / 60))
            raise LockedOut(
                f"Trop d'essais de mot de passe : connexion bloquée pendant encore {wait} minute(s). "
                "Patientez, ou demandez à la personne qui connaît le mot de passe."
            )
        user = session.scalar(select(UserRow).where(UserRow.username == username))
        ok = False
        if user is not None:
            ok = _matches(user.password_hash, password)
        else:
            _hasher.hash(password)  # same cost whether the account exists or not
        session.add(LoginAttemptRow(username=username, client=client, at=now, success=int(ok)))
        # A failed attempt is committed before refusing: the lock-out counts it.
        token = _open_session(session, user, password, now) if ok and user is not None else None
    if token is None:
        left = MAX_FAILURES - len(failures) - 1
        hint = f" Encore {left} essai(s) avant un blocage de 15 minutes." if left > 0 else ""
        raise UserError(f"Identifiant ou mot de passe incorrect.{hint}")
    return token


def _open_session(session: Session, user: UserRow, password: str, now: datetime) -> str:
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token = secrets.token_urlsafe(32)
    session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
    session.add(
        WebSessionRow(
            id=_token_id(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return token


def change_password(store: Store, user_id: int, current: str, new: str, confirm: str, keep_token: str | None) -> None:
    """A new password, checked like the first one; every other session of the account ends."""
    with Session(store.engine) as session, session.begin():
        user = session.get(UserRow, user_id)
        if user is None:
            raise UserError("Ce compte n'existe plus. Reconnectez-vous.")
        if not _matches(user.password_hash, current):
            raise UserError("Le mot de passe actuel est incorrect. Rien n'a été changé.")
        if new != confirm:
            raise UserError("Les deux nouveaux mots de passe saisis sont différents. Rien n'a été changé.")
        if new == current:
            raise UserError("Le nouveau mot de passe doit être différent de l'actuel.")
        problem = password_problem(new, [user.username])
        if problem:
            raise UserError(f"Nouveau mot de passe trop faible : {problem}. Rien n'a été changé.")
        user.password_hash = _hasher.hash(new)
        keep = _token_id(keep_token) if keep_token else ""
        session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id, WebSessionRow.id != keep))


def session_for(store: Store, token: str | None, now: datetime | None = None) -> SignedIn | None:
    """The signed-in user of this cookie, or None when it is unknown, expired or left idle."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    with Session(store.engine) as session:
        row = session.get(WebSessionRow, _token_id(token))
        if row is None or _aware(row.expires_at) <= now:
            return None
        seen = _aware(row.last_seen or row.created_at)
        if seen + IDLE_TIMEOUT <= now:
            session.delete(row)
            session.commit()
            return None
        signed_in = SignedIn(row.user_id, row.user.username, row.csrf_token)
        if now - seen >= IDLE_WRITE_EVERY:  # not one write per page view
            row.last_seen = now
            session.commit()
        return signed_in


def sign_out(store: Store, token: str | None) -> None:
    if token:
        with Session(store.engine) as session, session.begin():
            session.execute(delete(WebSessionRow).where(WebSessionRow.id == _token_id(token)))


def _matches(stored_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
