"""agreements: ad-hoc cover on incidents, phone messages, NPS surveys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cover", sa.String(length=64), nullable=True))
    op.create_table(
        "phone_messages",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("recording_url", sa.Text(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("incident_id", BIG_ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_messages")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_phone_messages_recording_sid")),
    )
    op.create_table(
        "nps_surveys",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("incident_id", BIG_ID, nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_surveys")),
        sa.UniqueConstraint("token", name=op.f("uq_nps_surveys_token")),
    )
    op.create_index("ix_nps_surveys_customer_answered", "nps_surveys", ["customer", "answered_at"])
    op.create_table(
        "nps_contacts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_contacts")),
        sa.UniqueConstraint("customer", "email", name=op.f("uq_nps_contacts_customer")),
    )


def downgrade() -> None:
    op.drop_table("nps_contacts")
    op.drop_index("ix_nps_surveys_customer_answered", table_name="nps_surveys")
    op.drop_table("nps_surveys")
    op.drop_table("phone_messages")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("cover")
