"""The ransomware sentinel's alarms and reactions, for the dashboard's banner and the fleet.

Revision ID: 0009
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sentinel_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentinel_events")),
    )
    op.create_index(op.f("ix_sentinel_events_at"), "sentinel_events", ["at"])
    op.create_index("ix_sentinel_events_type_ack", "sentinel_events", ["type", "acknowledged_at"])


def downgrade() -> None:
    op.drop_index("ix_sentinel_events_type_ack", table_name="sentinel_events")
    op.drop_index(op.f("ix_sentinel_events_at"), table_name="sentinel_events")
    op.drop_table("sentinel_events")
