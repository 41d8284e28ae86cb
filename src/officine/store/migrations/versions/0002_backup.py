"""Backup guardian: runs, verifications (checks and restore drills), destination sightings.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backup_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("destination_id", sa.String(40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snapshot_id", sa.String(80), nullable=True),
        sa.Column("files_total", sa.Integer(), nullable=True),
        sa.Column("files_new", sa.Integer(), nullable=True),
        sa.Column("files_changed", sa.Integer(), nullable=True),
        sa.Column("bytes_added", sa.Integer(), nullable=True),
        sa.Column("bytes_total", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backup_runs"),
    )
    op.create_index("ix_backup_runs_destination_id", "backup_runs", ["destination_id"])
    op.create_index("ix_backup_runs_started_at", "backup_runs", ["started_at"])
    op.create_table(
        "backup_verifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("destination_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snapshot_id", sa.String(80), nullable=True),
        sa.Column("full", sa.Integer(), nullable=False),
        sa.Column("check_subset", sa.String(16), nullable=True),
        sa.Column("files_checked", sa.Integer(), nullable=False),
        sa.Column("bytes_checked", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backup_verifications"),
    )
    op.create_index("ix_backup_verifications_destination_id", "backup_verifications", ["destination_id"])
    op.create_index("ix_backup_verifications_at", "backup_verifications", ["at"])
    op.create_table(
        "destination_sightings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("destination_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("volume_encrypted", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_destination_sightings"),
    )
    op.create_index("ix_destination_sightings_destination_id", "destination_sightings", ["destination_id"])
    op.create_index("ix_destination_sightings_at", "destination_sightings", ["at"])


def downgrade() -> None:
    op.drop_table("destination_sightings")
    op.drop_table("backup_verifications")
    op.drop_table("backup_runs")
