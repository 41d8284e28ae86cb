"""Incident journals: their head (sequence number and hash) anchored outside the journal file.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journal", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journal_anchors"),
    )
    op.create_index("ix_journal_anchors_journal_seq", "journal_anchors", ["journal", "seq"])


def downgrade() -> None:
    op.drop_index("ix_journal_anchors_journal_seq", table_name="journal_anchors")
    op.drop_table("journal_anchors")
