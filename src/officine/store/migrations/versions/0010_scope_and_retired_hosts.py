"""Workstations can be retired (kept in the history, out of the current score), and every audit
records which workstations its score covers (its scope) and whether it judged the whole pharmacy
or the machines given on the command line (its kind), so that trends compare like with like.
Work started from a page is recorded in `jobs`, so that any server process shows its progress.

Revision ID: 0010
Revises: 0009
"""

import hashlib
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def scope_of(keys: list[str]) -> str:
    """The same function as officine.store.db.scope_of, frozen here as migrations must be."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode("utf-8")).hexdigest()[:32]


def upgrade() -> None:
    # Work started from a page (an audit, a backup, a drill): any server process shows its progress.
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lane", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.JSON(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("hostname", sa.String(255), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_lane_state", "jobs", ["lane", "state"])
    with op.batch_alter_table("hosts") as batch:
        batch.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("retired_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("retired_reason", sa.String(200), nullable=True))
    with op.batch_alter_table("audits") as batch:
        batch.add_column(sa.Column("scope", sa.String(32), nullable=True))
        batch.add_column(sa.Column("host_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=True))
        # Covering indexes: in SQLite these columns come after the large assessment document in
        # the row, so reading them from the table would read the whole document.
        batch.create_index("ix_audits_timeline", ["created_at", "id", "score", "scope", "host_count", "kind"])
        batch.create_index("ix_audits_scope", ["scope", "id", "created_at", "score", "host_count", "kind"])
    conn = op.get_bind()
    keys: dict[int, list[str]] = defaultdict(list)
    rows = conn.execute(
        sa.text(
            "SELECT l.audit_id, h.machine_key FROM audit_snapshots l "
            "JOIN snapshots s ON s.id = l.snapshot_id JOIN hosts h ON h.id = s.host_id"
        )
    )
    for audit_id, key in rows:
        keys[audit_id].append(key)
    if keys:
        conn.execute(
            sa.text("UPDATE audits SET scope = :scope, host_count = :count WHERE id = :id"),
            [{"id": a, "scope": scope_of(k), "count": len(set(k))} for a, k in keys.items()],
        )
    conn.execute(sa.text("UPDATE audits SET host_count = 0 WHERE host_count IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_jobs_lane_state", table_name="jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("audits") as batch:
        batch.drop_index("ix_audits_scope")
        batch.drop_index("ix_audits_timeline")
        batch.drop_column("kind")
        batch.drop_column("host_count")
        batch.drop_column("scope")
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("retired_reason")
        batch.drop_column("retired_by")
        batch.drop_column("retired_at")
