"""The fleet's own tables (migration 0012), in the fleet's schema beside the console's accounts.

Each pharmacy's audits, snapshots, answers and backup records live in a schema of their own
(`pharmacie_<id>`), with the tables of the single-pharmacy store: these tables only say who
owns what, what the agents sent, and what the console did. Their metadata is apart from the
pharmacy store's, so a single pharmacy's SQLite file never holds them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class FleetBase(DeclarativeBase):
    pass


class OrganisationRow(FleetBase):
    """An IT provider or a group of pharmacies: it owns pharmacies and its people see them."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # prestataire, groupement
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    alert_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)


class FleetPharmacyRow(FleetBase):
    __tablename__ = "pharmacies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(120), default="")
    # What agents name in each message: random, so that it tells nothing and cannot be guessed.
    tenant: Mapped[str] = mapped_column(String(32), unique=True)
    schema_name: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))


class MembershipRow(FleetBase):
    """What a console account may see: its organisation (provider roles) or one pharmacy."""

    __tablename__ = "memberships"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # users.id, in the same schema
    role: Mapped[str] = mapped_column(String(16))  # admin, technicien, lecture, pharmacien
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    pharmacy_id: Mapped[int | None] = mapped_column(ForeignKey("pharmacies.id"), nullable=True, index=True)


class EnrolmentTokenRow(FleetBase):
    """A one-time, expiring enrolment token for one pharmacy; only its SHA-256 is kept."""

    __tablename__ = "enrolment_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AgentRow(FleetBase):
    """A workstation's agent: the server keeps only its public key."""

    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # raw Ed25519, 32 bytes
    hostname: Mapped[str] = mapped_column(String(255))
    # The workstation it speaks for (machine id hash, else name): bound by its first snapshot.
    machine_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class NonceRow(FleetBase):
    """Nonces seen recently, per agent: a message sent twice is refused."""

    __tablename__ = "nonces"
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class InboxRow(FleetBase):
    """A snapshot received (from an agent or uploaded in the console), once per pharmacy: the
    snapshot id is the idempotency key. Its id is the order of arrival."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("pharmacy_id", "snapshot_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    snapshot_id: Mapped[str] = mapped_column(String(100))
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the agent's own numbering
    hostname: Mapped[str] = mapped_column(String(255))
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the snapshot document, zlib
    state: Mapped[str] = mapped_column(String(12))  # pending, judged, failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AgentEventRow(FleetBase):
    """A backup run, drill, sighting, sentinel event, incident entry or backup plan sent by an
    agent; once each (the workstation's own key for it)."""

    __tablename__ = "agent_events"
    __table_args__ = (
        UniqueConstraint("agent_id", "kind", "source_key"),
        Index("ix_agent_events_pharmacy_kind", "pharmacy_id", "kind", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"))
    agent_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Copied into the pharmacy's own tables (backup records, sentinel events) by its judgement.
    applied: Mapped[bool] = mapped_column(Boolean, default=False)


class FleetJobRow(FleetBase):
    """Work for any server process: judging a pharmacy, sending a notification, a sweep."""

    __tablename__ = "fleet_jobs"
    __table_args__ = (Index("ix_fleet_jobs_state_id", "state", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # judge, notify
    pharmacy_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12))  # pending, running, done, failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class PharmacyStatusRow(FleetBase):
    """What the console's table shows of a pharmacy, written after each judgement (one row per
    pharmacy: the table of hundreds of pharmacies is one query)."""

    __tablename__ = "pharmacy_status"
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), primary_key=True)
    audit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    judged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trend: Mapped[int | None] = mapped_column(Integer, nullable=True)  # points since the same workstations
    workstations: Mapped[int] = mapped_column(Integer, default=0)
    failing: Mapped[int] = mapped_column(Integer, default=0)
    worst: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_backup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_drill_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    drill_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    sentinel_alarms: Mapped[int] = mapped_column(Integer, default=0)
    open_alerts: Mapped[int] = mapped_column(Integer, default=0)


class FindingRow(FleetBase):
    """The verdict of one measure on one workstation (or the whole pharmacy) in the current
    assessment: "which pharmacies have this problem" is one indexed query."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_measure_verdict", "measure_id", "verdict", "pharmacy_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), index=True)
    hostname: Mapped[str | None] = mapped_column(String(255), nullable=True)  # None: the pharmacy
    measure_id: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")


class AlertRow(FleetBase):
    """Something a provider must know. One row per pharmacy, kind and key while open: the same
    event again counts an occurrence, it does not make a new alert."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    # "<pharmacy>:<kind>:<key>" while open, NULL once acknowledged: unique, so concurrent
    # judgements of the same pharmacy add occurrences to one alert.
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class NotificationRow(FleetBase):
    """One grouped message (an e-mail, a webhook call) about several alerts."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(12))  # courriel, webhook
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    alert_ids: Mapped[list[int]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ConsoleLogRow(FleetBase):
    """What people did in the console (append-only)."""

    __tablename__ = "console_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    pharmacy_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client: Mapped[str] = mapped_column(String(64))


class RefusalRow(FleetBase):
    """A message or enrolment refused (replayed, badly signed, unknown or revoked agent...)."""

    __tablename__ = "refusals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reason: Mapped[str] = mapped_column(String(24))
    claimed_agent: Mapped[str] = mapped_column(String(64))  # as sent, cut
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pharmacy_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    client: Mapped[str] = mapped_column(String(64))
