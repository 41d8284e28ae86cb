"""Snapshots packed: compressed documents, large outputs stored once in `blobs`.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
    )
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("packed", sa.LargeBinary(), nullable=True))
        batch.alter_column("document", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.alter_column("document", existing_type=sa.Text(), nullable=False)
        batch.drop_column("packed")
    op.drop_table("blobs")
