"""The pharmacy's registers (processings, destructions, CPS cards, providers and contracts,
expected signing certificates) as append-only versions, and the IT provider's questionnaires:
requests with their one-time link and the signed PDFs accepted.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("register", sa.String(16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_register_entries"),
        sa.UniqueConstraint("register", "number", "version", name="uq_register_entries_version"),
    )
    op.create_index("ix_register_entries_register", "register_entries", ["register"])
    op.create_table(
        "questionnaire_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_questionnaire_requests"),
        sa.UniqueConstraint("nonce", name="uq_questionnaire_requests_nonce"),
        sa.UniqueConstraint("token_sha256", name="uq_questionnaire_requests_token_sha256"),
    )
    op.create_index("ix_questionnaire_requests_provider", "questionnaire_requests", ["provider"])
    op.create_table(
        "questionnaires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.Integer(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signer", sa.String(300), nullable=False),
        sa.Column("cert_sha256", sa.String(64), nullable=False),
        sa.Column("self_signed", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["questionnaire_requests.id"], name="fk_questionnaires_request_id_questionnaire_requests"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_questionnaires"),
        sa.UniqueConstraint("request_id", name="uq_questionnaires_request_id"),
    )
    op.create_index("ix_questionnaires_provider", "questionnaires", ["provider"])


def downgrade() -> None:
    op.drop_index("ix_questionnaires_provider", table_name="questionnaires")
    op.drop_table("questionnaires")
    op.drop_index("ix_questionnaire_requests_provider", table_name="questionnaire_requests")
    op.drop_table("questionnaire_requests")
    op.drop_index("ix_register_entries_register", table_name="register_entries")
    op.drop_table("register_entries")
