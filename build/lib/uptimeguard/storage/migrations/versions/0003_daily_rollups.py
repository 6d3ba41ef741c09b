"""daily rollups: per-site uptime per UTC day for the status page and the SLA report

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_rollups",
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("maintenance", sa.Integer(), nullable=False),
        sa.Column("up_seconds", sa.Float(), nullable=False),
        sa.Column("down_seconds", sa.Float(), nullable=False),
        sa.Column("maintenance_seconds", sa.Float(), nullable=False),
        sa.Column("longest_down_seconds", sa.Float(), nullable=False),
        sa.Column("longest_started_at", sa.DateTime(), nullable=True),
        sa.Column("down_at_start_seconds", sa.Float(), nullable=False),
        sa.Column("run_started_at", sa.DateTime(), nullable=True),
        sa.Column("run_ended_at", sa.DateTime(), nullable=True),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.Column("last_kind", sa.String(length=16), nullable=True),
        sa.Column("accounted_to", sa.DateTime(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("customer", "site", "day", name=op.f("pk_daily_rollups")),
    )
    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.create_index("ix_probe_results_checked_at", ["checked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.drop_index("ix_probe_results_checked_at")
    op.drop_table("daily_rollups")
