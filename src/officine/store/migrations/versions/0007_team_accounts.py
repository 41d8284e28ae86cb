"""Team accounts: a role per account (titulaire, équipe, lecture seule), who created it, whether
it is disabled, when it was last unlocked, and whether its password was given by someone else
(a temporary password to change at the first sign-in).

Revision ID: 0007
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        # Accounts made before team accounts existed are the pharmacy's administrator.
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="titulaire"))
        batch.add_column(sa.Column("full_name", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("created_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("must_change_password", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for column in ("must_change_password", "unlocked_at", "disabled_at", "created_by", "full_name", "role"):
            batch.drop_column(column)
