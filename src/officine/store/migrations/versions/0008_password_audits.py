"""Password-manager audits: when, which kind of file, how many entries, and the report (counts
and entry titles, never a password), for MDP-04 and MDP-05 and the dashboard.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_password_audits"),
    )
    op.create_index("ix_password_audits_audited_at", "password_audits", ["audited_at"])


def downgrade() -> None:
    op.drop_index("ix_password_audits_audited_at", table_name="password_audits")
    op.drop_table("password_audits")
