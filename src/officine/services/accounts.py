"""Who may open the dashboard: the accounts, the one-time setup code of the first run, sign-in
with a lock-out per account and a slow-down per client, browser sessions."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from officine.errors import UserError
from officine.services.password_check import MIN_LENGTH as MIN_PASSWORD_LENGTH
from officine.services.password_check import password_problem
from officine.store import Store
from officine.store.models import LoginAttemptRow, SettingRow, UserRow, WebSessionRow

__all__ = ["MIN_PASSWORD_LENGTH", "password_problem"]

# Roles, from the least to the most trusted: each can do what the ones before it can.
ROLES = ("lecture", "equipe", "titulaire")
ADMIN_ROLE = "titulaire"
MAX_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)
# Every browser on the machine shares 127.0.0.1: a client is slowed down, never locked out.
MAX_CLIENT_DELAY = 4.0
SESSION_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(minutes=30)  # a dashboard left open on a counter PC closes itself
IDLE_WRITE_EVERY = timedelta(minutes=1)
SETUP_KEY = "setup_code"
SETUP_ATTEMPT = "(code d'installation)"  # how a wrong setup code is recorded among sign-in attempts
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Each argon2 computation takes 64 MiB: a burst of sign-ins must not take the server's memory.
_hash_slots = threading.BoundedSemaphore(2)


class LockedOut(UserError):
    """Too many wrong passwords: sign-in refused for a while, even with the right one."""


class WrongSetupCode(UserError):
    """The first-run form without the code shown on the machine that started the server."""


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    csrf_token: str
    role: str = ADMIN_ROLE
    must_change_password: bool = False

    def can(self, role: str) -> bool:
        """Whether this account has at least the rights of `role`."""
        return ROLES.index(self.role) >= ROLES.index(role)


def has_users(store: Store) -> bool:
    with Session(store.engine) as session:
        return session.scalar(select(func.count()).select_from(UserRow)) != 0


def check_new_password(password: str, confirm: str, context: Sequence[str]) -> None:
    if password != confirm:
        raise UserError("Les deux mots de passe saisis sont différents. Rien n'a été enregistré.")
    problem = password_problem(password, context)
    if problem:
        raise UserError(f"Mot de passe trop faible : {problem}. Rien n'a été enregistré.")


def check_username(username: str) -> str:
    username = username.strip()
    if not 2 <= len(username) <= 64 or any(c.isspace() or not c.isprintable() for c in username):
        raise UserError("Identifiant : entre 2 et 64 caractères, sans espace.")
    return username


def hash_password(password: str) -> str:
    with _hash_slots:
        return _hasher.hash(password)


# -- the first run ----------------------------------------------------------------------------------


def random_code(groups: int) -> str:
    """Groups of four characters, easy to copy by hand: 3 groups are 60 bits of chance."""
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(groups))


def setup_code(store: Store) -> str | None:
    """The one-time code the first-run form asks for, or None once an account exists."""
    with Session(store.engine) as session:
        if session.scalar(select(func.count()).select_from(UserRow)):
            return None
        row = session.get(SettingRow, SETUP_KEY)
        return str(row.value["code"]) if row is not None else None


def ensure_setup_code(store: Store) -> str | None:
    """The setup code, made on the first start. Kept in the database so that a restart, or
    `officine setup-code` on the machine, shows the same one. None once an account exists."""
    current = setup_code(store)
    if current is not None or has_users(store):
        return current
    try:
        with Session(store.engine) as session, session.begin():
            session.add(_setup_row(random_code(3)))
    except IntegrityError:
        pass  # another server process made it at the same moment: show theirs
    return setup_code(store)


def new_setup_code(store: Store) -> str:
    """A new code, the old one no longer works (shown to someone who should not have seen it)."""
    code = random_code(3)
    with Session(store.engine) as session, session.begin():
        if session.scalar(select(func.count()).select_from(UserRow)):
            raise UserError(
                "Le compte administrateur existe déjà : il n'y a plus de code d'installation. "
                "Mot de passe oublié : « officine reset-password IDENTIFIANT » sur ce poste."
            )
        session.execute(delete(SettingRow).where(SettingRow.key == SETUP_KEY))
        session.add(_setup_row(code))
    return code


def _setup_row(code: str) -> SettingRow:
    now = datetime.now(UTC)
    return SettingRow(key=SETUP_KEY, value={"code": code}, updated_at=now, updated_by="officine")


def _same_code(stored: str, typed: str) -> bool:
    def norm(code: str) -> str:
        return "".join(c for c in code.lower() if c.isalnum())

    return secrets.compare_digest(norm(stored).encode(), norm(typed).encode())


def install(
    store: Store, code: str, username: str, password: str, confirm: str, context: Sequence[str], client: str
) -> None:
    """The first account, from the web: only with the setup code shown on the machine."""
    stored = setup_code(store)
    if stored is None and has_users(store):
        raise UserError("Le compte administrateur existe déjà. Connectez-vous.")
    if stored is None or not _same_code(stored, code[:64]):
        with Session(store.engine) as session, session.begin():
            now = datetime.now(UTC)
            session.add(LoginAttemptRow(username=SETUP_ATTEMPT, client=client[:64], at=now, success=0))
        raise WrongSetupCode(
            "Code d'installation absent ou faux. Il s'affiche dans la fenêtre où le tableau de bord a été "
            "lancé ; sur ce poste, « officine setup-code » le montre de nouveau. Rien n'a été créé."
        )
    _create_first(store, username, password, confirm, context, claimed=stored)


def create_admin(store: Store, username: str, password: str, confirm: str, context: Sequence[str]) -> None:
    """The first account, made on the machine itself (the demo, a provider's script)."""
    _create_first(store, username, password, confirm, context, claimed=None)


def _create_first(
    store: Store, username: str, password: str, confirm: str, context: Sequence[str], claimed: str | None
) -> None:
    """Refused once any account exists: nobody takes over an installed dashboard. The setup code
    is used up in the same transaction that creates the account."""
    username = check_username(username)
    check_new_password(password, confirm, [username, *context])
    password_hash = hash_password(password)
    with Session(store.engine) as session, session.begin():
        if session.scalar(select(func.count()).select_from(UserRow)):
            raise UserError("Le compte administrateur existe déjà. Connectez-vous.")
        row = session.get(SettingRow, SETUP_KEY)
        if claimed is not None and (row is None or row.value.get("code") != claimed):
            raise WrongSetupCode("Le code d'installation vient de changer. Rechargez la page. Rien n'a été créé.")
        if row is not None:
            session.delete(row)  # used once
        session.add(
            UserRow(
                username=username,
                password_hash=password_hash,
                created_at=datetime.now(UTC),
                role=ADMIN_ROLE,
                created_by="installation",
            )
        )


# -- sign-in ----------------------------------------------------------------------------------------


def delay_after(failures: int) -> float:
    """Seconds a client waits before its next sign-in is looked at, after `failures` recent ones."""
    if failures < MAX_FAILURES:
        return 0.0
    return min(MAX_CLIENT_DELAY, 0.5 * 2.0 ** (failures - MAX_FAILURES))


def client_delay(store: Store, client: str, now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    with Session(store.engine) as session:
        failures = session.scalar(
            select(func.count())
            .select_from(LoginAttemptRow)
            .where(
                LoginAttemptRow.client == client[:64],
                LoginAttemptRow.success == 0,
                LoginAttemptRow.at > now - LOCK_WINDOW,
            )
        )
    return delay_after(int(failures or 0))


def _failures(session: Session, username: str, since: datetime) -> list[datetime]:
    """Failed sign-ins under this name since `since`, newest first."""
    rows = session.scalars(
        select(LoginAttemptRow.at)
        .where(LoginAttemptRow.username == username, LoginAttemptRow.success == 0, LoginAttemptRow.at > since)
        .order_by(LoginAttemptRow.at.desc())
        .limit(MAX_FAILURES)
    ).all()
    return [_aware(a) for a in rows]


def _count_from(session: Session, username: str, user: UserRow | None, now: datetime) -> datetime:
    """Failures count from the latest of: the lock window, the last success, the last unlock."""
    since = now - LOCK_WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttemptRow.at)).where(LoginAttemptRow.username == username, LoginAttemptRow.success == 1)
    )
    for moment in (last_success, user.unlocked_at if user else None):
        if moment is not None:
            since = max(since, _aware(moment))
    return since


def sign_in(store: Store, username: str, password: str, client: str, now: datetime | None = None) -> str:
    """Check the password; return a new session token. Every attempt is recorded.
    Five failures lock the account for 15 minutes; a name that is no account locks nothing."""
    now = now or datetime.now(UTC)
    username = username.strip()[:64]
    client = client[:64]
    with Session(store.engine) as session, session.begin():
        user = session.scalar(select(UserRow).where(UserRow.username == username))
        failures = _failures(session, username, _count_from(session, username, user, now))
        if user is not None and len(failures) >= MAX_FAILURES:
            wait = max(1, round((failures[MAX_FAILURES - 1] + LOCK_WINDOW - now).total_seconds() / 60))
            raise LockedOut(
                f"Trop d'essais de mot de passe : connexion bloquée pendant encore {wait} minute(s). "
                "Patientez, ou sur ce poste : « officine unlock IDENTIFIANT »."
            )
        ok = False
        if user is not None:
            ok = _matches(user.password_hash, password)
        else:
            hash_password(password)  # same cost whether the account exists or not
        session.add(LoginAttemptRow(username=username, client=client, at=now, success=int(ok)))
        # A failed attempt is committed before refusing: the lock-out counts it.
        disabled = ok and user is not None and user.disabled_at is not None
        token = _open_session(session, user, password, now) if ok and user is not None and not disabled else None
    if disabled:
        raise UserError("Ce compte a été désactivé. Demandez au titulaire de la pharmacie de le réactiver.")
    if token is None:
        left = MAX_FAILURES - len(failures) - 1
        hint = f" Encore {left} essai(s) avant un blocage de 15 minutes." if left > 0 else ""
        raise UserError(f"Identifiant ou mot de passe incorrect.{hint}")
    return token


def _open_session(session: Session, user: UserRow, password: str, now: datetime) -> str:
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
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


def change_password(
    store: Store,
    user_id: int,
    current: str,
    new: str,
    confirm: str,
    keep_token: str | None,
    context: Sequence[str] = (),
) -> None:
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
        problem = password_problem(new, [user.username, user.full_name, *context])
        if problem:
            raise UserError(f"Nouveau mot de passe trop faible : {problem}. Rien n'a été changé.")
        user.password_hash = hash_password(new)
        user.must_change_password = 0
        keep = _token_id(keep_token) if keep_token else ""
        session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id, WebSessionRow.id != keep))


def session_for(store: Store, token: str | None, now: datetime | None = None) -> SignedIn | None:
    """The signed-in user of this cookie, or None when it is unknown, expired or left idle."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    with Session(store.engine) as session:
        row = session.get(WebSessionRow, _token_id(token))
        if row is None or _aware(row.expires_at) <= now or row.user.disabled_at is not None:
            return None
        seen = _aware(row.last_seen or row.created_at)
        if seen + IDLE_TIMEOUT <= now:
            session.delete(row)
            session.commit()
            return None
        user = row.user
        signed_in = SignedIn(row.user_id, user.username, row.csrf_token, user.role, bool(user.must_change_password))
        if now - seen >= IDLE_WRITE_EVERY:  # not one write per page view
            row.last_seen = now
            session.commit()
        return signed_in


def sign_out(store: Store, token: str | None) -> None:
    if token:
        with Session(store.engine) as session, session.begin():
            session.execute(delete(WebSessionRow).where(WebSessionRow.id == _token_id(token)))


# -- on the machine (the command line): whoever runs it can already open the database -----------


def account_names(store: Store) -> list[str]:
    with Session(store.engine) as session:
        return list(session.scalars(select(UserRow.username).order_by(UserRow.id)))


def require_account(store: Store, username: str) -> None:
    """Refuses, naming the accounts that exist, when `username` is none of them."""
    with Session(store.engine) as session:
        _account(session, store, username)


def _account(session: Session, store: Store, username: str) -> UserRow:
    user = session.scalar(select(UserRow).where(UserRow.username == username.strip()))
    if user is None:
        names = account_names(store)
        known = f"Comptes existants : {', '.join(names)}." if names else "Aucun compte n'existe encore."
        raise UserError(f"Le compte « {username} » n'existe pas. {known}")
    return user


def unlock(store: Store, username: str, now: datetime | None = None) -> None:
    """Failed sign-ins so far no longer count for this account."""
    with Session(store.engine) as session, session.begin():
        _account(session, store, username).unlocked_at = now or datetime.now(UTC)


def reset_password(
    store: Store, username: str, password: str, confirm: str, context: Sequence[str], now: datetime | None = None
) -> None:
    """A forgotten password replaced on the machine: the account is also unlocked and re-enabled,
    and every browser signed in to it is signed out."""
    now = now or datetime.now(UTC)
    with Session(store.engine) as session, session.begin():
        user = _account(session, store, username)
        check_new_password(password, confirm, [user.username, user.full_name, *context])
        user.password_hash = hash_password(password)
        user.must_change_password = 0
        user.unlocked_at = now
        user.disabled_at = None
        session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))


def end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))


def _matches(stored_hash: str, password: str) -> bool:
    try:
        with _hash_slots:
            return bool(_hasher.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
