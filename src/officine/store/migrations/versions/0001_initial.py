"""Initial tables: hosts, snapshots, audits, measure results.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("machine_key", sa.String(128), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hosts"),
        sa.UniqueConstraint("machine_key", name="uq_hosts_machine_key"),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], name="fk_snapshots_host_id_hosts"),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
    )
    op.create_index("ix_snapshots_host_id", "snapshots", ["host_id"])
    op.create_index("ix_snapshots_collected_at", "snapshots", ["collected_at"])
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("catalogue_version", sa.String(32), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audits"),
    )
    op.create_index("ix_audits_created_at", "audits", ["created_at"])
    op.create_table(
        "audit_snapshots",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], name="fk_audit_snapshots_audit_id_audits"),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], name="fk_audit_snapshots_snapshot_id_snapshots"),
        sa.PrimaryKeyConstraint("audit_id", "snapshot_id", name="pk_audit_snapshots"),
    )
    op.create_table(
        "measure_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.String(16), nullable=False),
        sa.Column("practice_id", sa.String(8), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("excepted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], name="fk_measure_results_audit_id_audits"),
        sa.PrimaryKeyConstraint("id", name="pk_measure_results"),
        sa.UniqueConstraint("audit_id", "measure_id", name="uq_measure_results_audit_id"),
    )
    op.create_index("ix_measure_results_audit_id", "measure_results", ["audit_id"])
    op.create_index("ix_measure_results_measure_id", "measure_results", ["measure_id"])


def downgrade() -> None:
    op.drop_table("measure_results")
    op.drop_table("audit_snapshots")
    op.drop_table("audits")
    op.drop_table("snapshots")
    op.drop_table("hosts")
