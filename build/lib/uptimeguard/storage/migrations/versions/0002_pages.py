"""paging: the pages outbox and per-incident paging state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("incident_id", BIG_ID, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_pages_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint(
            "incident_id",
            "purpose",
            "round",
            "step",
            "person",
            "channel",
            name=op.f("uq_pages_incident_id"),
        ),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index("ix_pages_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_pages_phone_sent", ["phone", "sent_at"], unique=False)

    op.create_table(
        "paging_states",
        sa.Column("incident_id", BIG_ID, nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.String(length=64), nullable=False),
        sa.Column("ladder", sa.String(length=8), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
        sa.Column("held_told_at", sa.DateTime(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_paging_states_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_paging_states")),
    )
    with op.batch_alter_table("paging_states", schema=None) as batch_op:
        batch_op.create_index("ix_paging_states_closed", ["closed"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paging_states", schema=None) as batch_op:
        batch_op.drop_index("ix_paging_states_closed")
    op.drop_table("paging_states")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("ix_pages_phone_sent")
        batch_op.drop_index("ix_pages_status_due")
    op.drop_table("pages")
