"""Opening the database (creating or migrating it) and the few queries the surfaces need."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from filelock import FileLock
from filelock import Timeout as LockTimeout
from sqlalchemy import Connection, Engine, ExceptionContext, create_engine, event, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from officine.errors import UserError, os_reason
from officine.paths import ENV_DATA_DIR, data_dir
from officine.store.faults import database_problem
from officine.store.models import AuditRow, AuditSnapshotRow, BlobRow, HostRow, MeasureResultRow, SnapshotRow
from officine.store.packing import PackingError, blob_refs, pack, unpack

ENV_URL = "OFFICINE_DATABASE_URL"
# The newest migration in store/migrations/versions (a test checks they agree).
# Several processes may open a fresh database at once (audits started together, the dashboard):
# one migrates, the others wait for it, then find the schema current.
MIGRATION_LOCK_TIMEOUT_S = 300
RECORD_ATTEMPTS = 5
PG_MIGRATION_LOCK = 0x0FF1C1E  # any constant: the advisory lock every officine-cyber process takes
HEAD_REVISION = "0013"
SCHEMA_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def scope_of(keys: list[str]) -> str:
    """Which workstations an audit covers, as one comparable value (their keys, hashed)."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode("utf-8")).hexdigest()[:32]


def host_key(document: dict[str, Any]) -> str:
    """A workstation's identity in a snapshot document: its machine id, else its name."""
    host_info = document.get("host") or {}
    return str(host_info.get("machine_id_sha256") or f"name:{host_info.get('hostname')}")


def default_database_url() -> str:
    return os.environ.get(ENV_URL) or f"sqlite:///{data_dir() / 'officine.db'}"


def _describe(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    if sep and "://" in head:
        scheme, _, creds = head.partition("://")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{tail}"
    return url


@dataclass
class AuditSummary:
    id: int
    created_at: datetime
    score: int | None
    hosts: list[str]
    catalogue_version: str
    scope: str | None = None


class Store:
    """One pharmacy's database. On PostgreSQL it may live in a schema of its own (`schema`), over
    an engine shared with other schemas (`engine`): the fleet keeps each pharmacy in its own
    schema, so every query the single-pharmacy code makes reads that pharmacy's rows only.
    `fleet_home` marks the fleet's own schema, where migration 0012 adds the fleet's tables."""

    def __init__(
        self,
        url: str | None = None,
        *,
        schema: str | None = None,
        engine: Engine | None = None,
        fleet_home: bool = False,
    ) -> None:
        self.url = url or default_database_url()
        self.path: Path | None = None  # the SQLite file
        self.schema = schema
        self.fleet_home = fleet_home
        if schema is not None and not SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        self.engine: Engine
        self.base_engine: Engine
        if engine is not None:  # a schema over an engine another Store made (its listeners included)
            self.base_engine = engine
            self.engine = engine.execution_options(schema_translate_map={None: schema})
            self._migrate()
            return
        if self.url.startswith("sqlite:///"):
            path = self.path = Path(self.url.removeprefix("sqlite:///"))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.exists() and not os.access(path, os.W_OK):
                    raise PermissionError(str(path))
                if not os.access(path.parent, os.W_OK):
                    raise PermissionError(str(path.parent))
                _owner_only(path)
            except OSError as exc:
                raise UserError(
                    f"Impossible d'écrire dans le dossier de données {path.parent} "
                    f"({os_reason(exc) if exc.errno else 'accès refusé'}). Choisissez un autre dossier avec "
                    f"{ENV_DATA_DIR} ou une autre base avec {ENV_URL}."
                ) from exc
        try:
            self.engine = create_engine(self.url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise UserError(
                f"Adresse de base de données invalide ({_describe(self.url)}). Exemples : "
                "sqlite:///chemin/officine.db, postgresql+psycopg://compte@serveur/base."
            ) from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "handle_error", self._translate_error)
        self.base_engine = self.engine
        if schema is not None:
            if self.engine.dialect.name != "postgresql":
                raise UserError("Une base à plusieurs pharmacies (parc) demande PostgreSQL.")
            # Every table name is written with this schema (ORM and Core alike); text SQL is not,
            # and finds no table outside a schema: it fails rather than read another pharmacy.
            self.engine = self.engine.execution_options(schema_translate_map={None: schema})
        self._migrate()

    def _translate_error(self, context: ExceptionContext) -> None:
        """A full disk, a damaged file, no access: a French message saying what to do (see faults)."""
        problem = database_problem(context.original_exception, _describe(self.url), self.path)
        if problem is not None:
            raise problem from context.sqlalchemy_exception

    @contextmanager
    def _migration_lock(self) -> Iterator[Connection]:
        """A transaction that no other officine-cyber process migrating this database runs at
        the same time: a file lock next to a SQLite file, an advisory lock on PostgreSQL."""
        if self.path is not None:
            lock = FileLock(
                self.path.with_name(self.path.name + ".migration.lock"), timeout=MIGRATION_LOCK_TIMEOUT_S, mode=0o600
            )
            try:
                with lock, self.engine.begin() as conn:
                    yield conn
            except LockTimeout as exc:
                raise UserError(
                    f"La base de données ({_describe(self.url)}) est en cours de mise à jour par un autre "
                    "programme officine-cyber depuis plus de cinq minutes. Réessayez plus tard ; rien n'a été modifié."
                ) from exc
            return
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # held until this transaction ends
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
                if self.schema is not None:  # migrations' own SQL (and Alembic's table) land there too
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                    conn.execute(text(f'SET LOCAL search_path TO "{self.schema}"'))
            yield conn

    def _migrate(self) -> None:
        """Bring the schema to the latest revision. Alembic (slow to import) only runs when needed."""
        try:
            with self.engine.connect() as conn:
                if _current_revision(conn, self.schema) == HEAD_REVISION:
                    return
            from alembic import command  # noqa: PLC0415
            from alembic.config import Config  # noqa: PLC0415
            from alembic.script import ScriptDirectory  # noqa: PLC0415

            config = Config()
            config.set_main_option("script_location", str(resources.files("officine.store") / "migrations"))
            known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
            with self._migration_lock() as conn:
                current = _current_revision(conn, self.schema)  # again: another process may have migrated meanwhile
                if current == HEAD_REVISION:
                    return
                if current is not None and current not in known:
                    raise UserError(
                        f"La base de données ({_describe(self.url)}) a été créée par une version plus récente "
                        f"d'officine-cyber (révision {current}). Installez cette version (ou une plus récente) : "
                        "rien n'a été modifié."
                    )
                config.attributes["connection"] = conn
                config.attributes["fleet_home"] = self.fleet_home
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise UserError(
                f"Base de données inaccessible ({_describe(self.url)}) : le serveur ne répond pas, refuse la "
                "connexion, ou le fichier ne peut pas être ouvert. Vérifiez l'adresse et les droits."
            ) from exc

    # -- writes ---------------------------------------------------------------
    def record_audit(
        self,
        snapshots: list[dict[str, Any]],
        assessment: dict[str, Any],
        answers: dict[str, Any],
        kind: str = "selection",
    ) -> int:
        """Store the snapshots (as collected) and the assessment in one transaction. `kind` says
        whether it judged every workstation in service ("pharmacy") or the ones given ("selection").

        Audits recorded at the same moment (PostgreSQL runs them side by side) may both find a
        host, snapshot or blob missing and both add it: the slower one is refused by the unique
        key, rolled back whole, and tried again, when it finds the row the other one added."""
        now = datetime.now(UTC)
        for attempt in range(RECORD_ATTEMPTS):
            try:
                return self._record_audit(snapshots, assessment, answers, now, kind)
            except IntegrityError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _record_audit(
        self,
        snapshots: list[dict[str, Any]],
        assessment: dict[str, Any],
        answers: dict[str, Any],
        now: datetime,
        kind: str,
    ) -> int:
        with Session(self.engine) as session, session.begin():
            keys = [host_key(doc) for doc in snapshots]
            audit = AuditRow(
                created_at=now,
                score=assessment.get("score"),
                catalogue_version=str(assessment.get("catalogue_version")),
                scope=scope_of(keys),
                host_count=len(set(keys)),
                kind=kind,
                assessment=assessment,
                answers=answers,
            )
            session.add(audit)
            for doc, key in zip(snapshots, keys, strict=True):
                host_info = doc.get("host") or {}
                host = session.scalar(select(HostRow).where(HostRow.machine_key == key))
                # UTC in the database: SQLite keeps no offset, and ordering must hold across them.
                collected = datetime.fromisoformat(doc["collected_at"]).astimezone(UTC)
                if host is None:
                    host = HostRow(
                        hostname=host_info.get("hostname") or "?",
                        platform=doc["platform"],
                        machine_key=key,
                        first_seen=collected,
                        last_seen=collected,
                    )
                    session.add(host)
                    session.flush()
                else:
                    host.last_seen = max(_aware(host.last_seen), collected)
                    host.hostname = host_info.get("hostname") or host.hostname
                    if host.retired_at is not None and collected > _aware(host.retired_at):
                        # Collected again after it was retired: it is in service, it counts again.
                        host.retired_at = host.retired_by = host.retired_reason = None
                if session.get(SnapshotRow, doc["snapshot_id"]) is None:
                    packed, blobs = pack(doc)
                    known = set(session.scalars(select(BlobRow.sha256).where(BlobRow.sha256.in_(list(blobs)))))
                    for sha, data in blobs.items():
                        if sha not in known:
                            session.add(BlobRow(sha256=sha, size=len(data), data=data))
                    session.add(
                        SnapshotRow(
                            id=doc["snapshot_id"],
                            host_id=host.id,
                            collected_at=collected,
                            mode=doc["mode"],
                            packed=packed,
                        )
                    )
                session.flush()
                session.add(AuditSnapshotRow(audit_id=audit.id, snapshot_id=doc["snapshot_id"]))
            for m in assessment.get("measures", []):
                exception = m.get("exception")
                audit.results.append(
                    MeasureResultRow(
                        measure_id=m["id"],
                        practice_id=m["practice"],
                        verdict=m["verdict"],
                        excepted=int(bool(exception and not exception.get("expired"))),
                    )
                )
            session.flush()
            return audit.id

    # -- reads ----------------------------------------------------------------
    def history(self, limit: int = 50) -> list[AuditSummary]:
        with Session(self.engine) as session:
            audits = session.execute(
                select(AuditRow.id, AuditRow.created_at, AuditRow.score, AuditRow.catalogue_version, AuditRow.scope)
                .order_by(AuditRow.created_at.desc(), AuditRow.id.desc())
                .limit(limit)
            ).all()
        names = self.audit_hostnames([a.id for a in audits])
        return [
            AuditSummary(a.id, _aware(a.created_at), a.score, names.get(a.id, []), a.catalogue_version, a.scope)
            for a in audits
        ]

    def audit_hostnames(self, audit_ids: list[int]) -> dict[int, list[str]]:
        """The workstations each audit judged, by name (one query, not the assessment documents)."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(AuditSnapshotRow.audit_id, HostRow.hostname)
                .join(SnapshotRow, SnapshotRow.id == AuditSnapshotRow.snapshot_id)
                .join(HostRow, HostRow.id == SnapshotRow.host_id)
                .where(AuditSnapshotRow.audit_id.in_(audit_ids))
                .order_by(HostRow.hostname)
            ).all()
        names: dict[int, list[str]] = {}
        for audit_id, hostname in rows:
            names.setdefault(audit_id, []).append(hostname)
        return names

    def snapshot_documents(self, rows: list[tuple[str, str | None, bytes | None]]) -> dict[str, dict[str, Any]]:
        """Snapshot documents as collected, from (id, document, packed) rows of the snapshots table."""
        refs = {sha for _, _, packed in rows if packed is not None for sha in blob_refs(packed)}
        with Session(self.engine) as session:
            blobs = dict(session.execute(select(BlobRow.sha256, BlobRow.data).where(BlobRow.sha256.in_(refs))).all())
        documents = {}
        for sid, document, packed in rows:
            try:
                documents[sid] = unpack(packed, blobs) if packed is not None else json.loads(document or "null")
            except (PackingError, json.JSONDecodeError) as exc:
                raise UserError(
                    f"L'instantané {sid} est abîmé dans la base de données. "
                    "Restaurez la base depuis une sauvegarde, ou refaites l'audit du poste concerné."
                ) from exc
        return documents

    def audit(self, audit_id: int) -> dict[str, Any] | None:
        with Session(self.engine) as session:
            row = session.get(AuditRow, audit_id)
            return None if row is None else dict(row.assessment)


def _current_revision(conn: Connection, schema: str | None = None) -> str | None:
    if not inspect(conn).has_table("alembic_version", schema=schema):
        return None
    table = f'"{schema}".alembic_version' if schema else "alembic_version"
    return conn.execute(text(f"SELECT version_num FROM {table}")).scalar()  # noqa: S608 - a checked name


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _owner_only(path: Path) -> None:
    """The database lists the pharmacy's weak points and, before the first account, holds the
    setup code: another account of the machine must not read it, whatever the umask. SQLite gives
    its -wal and -shm files the mode of the database file."""
    if os.name != "posix":
        return
    if not path.exists():
        path.touch(mode=0o600)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        if file.exists() and file.stat().st_uid == os.getuid() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
