"""Tables. Changes go through an Alembic migration (store/migrations/versions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class HostRow(Base):
    __tablename__ = "hosts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(16))
    machine_key: Mapped[str] = mapped_column(String(128), unique=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A workstation replaced or imported by mistake: kept in the history, out of the current score.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retired_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    retired_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SnapshotRow(Base):
    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_host_id_collected_at", "host_id", "collected_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    # The snapshot JSON exactly as collected (rows written before migration 0004)...
    document: Mapped[str | None] = mapped_column(Text, nullable=True)
    # ...or, since then, packed by officine.store.packing (large outputs in `blobs`).
    packed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    host: Mapped[HostRow] = relationship()


class BlobRow(Base):
    """A large observation output (a package database...), stored once whatever the snapshots."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zlib


class AuditRow(Base):
    __tablename__ = "audits"
    # Covering indexes (migration 0010): the history reads these columns without the document.
    __table_args__ = (
        Index("ix_audits_timeline", "created_at", "id", "score", "scope", "host_count", "kind"),
        Index("ix_audits_scope", "scope", "id", "created_at", "score", "host_count", "kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    catalogue_version: Mapped[str] = mapped_column(String(32))
    # Which workstations the score covers (a hash of their keys) and how many: a trend compares
    # audits of the same scope only.
    scope: Mapped[str | None] = mapped_column(String(32), nullable=True)
    host_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # "pharmacy": every workstation in service, as the dashboard judges; "selection": the machines
    # given to `officine audit`. None: recorded before 0010.
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    assessment: Mapped[dict[str, Any]] = mapped_column(JSON)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    results: Mapped[list[MeasureResultRow]] = relationship(back_populates="audit", cascade="all, delete-orphan")


class AuditSnapshotRow(Base):
    __tablename__ = "audit_snapshots"
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), primary_key=True)
    snapshot_id: Mapped[str] = mapped_column(ForeignKey("snapshots.id"), primary_key=True)


class MeasureResultRow(Base):
    __tablename__ = "measure_results"
    __table_args__ = (UniqueConstraint("audit_id", "measure_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    measure_id: Mapped[str] = mapped_column(String(16), index=True)
    practice_id: Mapped[str] = mapped_column(String(8))
    verdict: Mapped[str] = mapped_column(String(16))
    excepted: Mapped[int] = mapped_column(Integer, default=0)
    audit: Mapped[AuditRow] = relationship(back_populates="results")


class BackupRunRow(Base):
    """One backup of the plan to one destination."""

    __tablename__ = "backup_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination_id: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # success, partial, failed, absent
    snapshot_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    files_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    files_new: Mapped[int | None] = mapped_column(Integer, nullable=True)
    files_changed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bytes_added: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bytes_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BackupVerificationRow(Base):
    """A proof: a repository check and a restore drill of one destination."""

    __tablename__ = "backup_verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(16))  # passed, failed
    snapshot_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    full: Mapped[int] = mapped_column(Integer, default=0)
    check_subset: Mapped[str | None] = mapped_column(String(16), nullable=True)
    files_checked: Mapped[int] = mapped_column(Integer, default=0)
    bytes_checked: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # mismatches, changed files...


class DestinationSightingRow(Base):
    """Whether a destination was attached/reachable when we looked (for the disconnected copy)."""

    __tablename__ = "destination_sightings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    present: Mapped[int] = mapped_column(Integer)
    volume_encrypted: Mapped[int | None] = mapped_column(Integer, nullable=True)


# -- the dashboard: people, the pharmacy, answers given on the page ---------------------------


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, never the password
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    role: Mapped[str] = mapped_column(String(16), default="titulaire")  # titulaire, equipe, lecture
    full_name: Mapped[str] = mapped_column(String(120), default="")
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Failed sign-ins before this moment no longer count (unlocked on the machine, re-enabled).
    unlocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A temporary password given by the titulaire: to be replaced at the first sign-in.
    must_change_password: Mapped[int] = mapped_column(Integer, default=0)


class WebSessionRow(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Last request seen: a session left idle ends, like a workstation that locks itself.
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user: Mapped[UserRow] = relationship()


class LoginAttemptRow(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    success: Mapped[int] = mapped_column(Integer)


class SettingRow(Base):
    """The pharmacy's profile, contacts, team and data folders: one JSON document per key."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64))


class ProofRow(Base):
    """A file attached to an answer (a signed questionnaire, a restore report...)."""

    __tablename__ = "proofs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(String(24), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AnswerRow(Base):
    """Every answer ever given (append-only): the latest per question is the current one."""

    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[str] = mapped_column(String(24), index=True)
    value: Mapped[str] = mapped_column(String(64))
    answered_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    proof_id: Mapped[int | None] = mapped_column(ForeignKey("proofs.id"), nullable=True)


class ExceptionRow(Base):
    """A measure set aside on purpose (append-only; withdrawn ones are kept)."""

    __tablename__ = "accepted_exceptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[str] = mapped_column(String(16), index=True)
    justification: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class JournalAnchorRow(Base):
    """The head of a hash-chained journal, written outside the journal file at each append.

    One row per entry: announced before the file is written, marked written once it is on
    disk (abandoned when the write failed), so that a crash between the two is told apart
    from an entry added by someone who cannot write here."""

    __tablename__ = "journal_anchors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journal: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # announced, written, abandoned
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_journal_anchors_journal_seq", "journal", "seq"),)


class PasswordAuditRow(Base):
    """One audit of a password manager (officine.passwords.audit): counts and entry titles,
    never a password (migration 0008)."""

    __tablename__ = "password_audits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    source: Mapped[str] = mapped_column(String(16))  # keepass, bitwarden, firefox, chrome
    file_name: Mapped[str] = mapped_column(String(255))
    entries: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # AuditReport.to_json()
    recorded_by: Mapped[str] = mapped_column(String(64))


class SentinelEventRow(Base):
    """What the ransomware sentinel saw and did: alarms, reactions, overflows, starts (migration 0009)."""

    __tablename__ = "sentinel_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    type: Mapped[str] = mapped_column(String(32))
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paths: Mapped[list[str]] = mapped_column(JSON)
    indicators: Mapped[dict[str, Any]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    __table_args__ = (Index("ix_sentinel_events_type_ack", "type", "acknowledged_at"),)


class JobRow(Base):
    """Work started from a page (an audit of this machine, a backup, a drill) and its progress:
    whichever server process answers the progress page reads it here."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_lane_state", "lane", "state"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # audit, backup, drill
    lane: Mapped[str] = mapped_column(String(16))  # work that must not run twice at once
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))  # running, finished, failed
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[list[str]] = mapped_column(JSON)
    audit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hostname: Mapped[str | None] = mapped_column(String(255), nullable=True)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class RegisterEntryRow(Base):
    """One version of one entry of a register (processings, destructions, CPS cards, providers,
    expected signing certificates): append-only, the highest version of an entry is its current
    state, every version keeps who wrote it and when (migration 0011)."""

    __tablename__ = "register_entries"
    __table_args__ = (UniqueConstraint("register", "number", "version", name="uq_register_entries_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    register: Mapped[str] = mapped_column(String(16), index=True)
    number: Mapped[int] = mapped_column(Integer)  # the entry's number in its register, stable
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… per entry
    action: Mapped[str] = mapped_column(String(16))  # proposed, created, updated, reviewed, withdrawn
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))


class QuestionnaireRequestRow(Base):
    """A questionnaire asked of a provider: its one-time link (only the token's SHA-256 is kept),
    the nonce that binds the signed answer to it, and when it expires or was answered."""

    __tablename__ = "questionnaire_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[int] = mapped_column(Integer, index=True)  # number in the providers register
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class QuestionnaireRow(Base):
    """A signed questionnaire, accepted after its signature, signer and integrity were verified:
    the PDF itself as received, and what was read from it."""

    __tablename__ = "questionnaires"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_requests.id"), unique=True)
    provider: Mapped[int] = mapped_column(Integer, index=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(300))
    cert_sha256: Mapped[str] = mapped_column(String(64))
    self_signed: Mapped[int] = mapped_column(Integer)  # 1: a certificate no authority vouches for
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # as the signer's machine said
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(8))  # lien (dashboard link) or fichier (offline file)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(64))
