"""pauses of the SLA clock: `incident_pauses`, and `incidents.paused_at` while one runs

Existing incidents were never paused: no rows, `paused_at` empty.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(), nullable=True))
    op.create_table(
        "incident_pauses",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("incident_id", BIG_ID, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("paused_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resumed_by", sa.String(length=128), nullable=True),
        sa.Column("response_due_before", sa.DateTime(), nullable=True),
        sa.Column("resolution_due_before", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_pauses_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_pauses")),
    )
    with op.batch_alter_table("incident_pauses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_pauses_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_pauses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_pauses_incident_id"))
    op.drop_table("incident_pauses")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
