"""inbound_sms: the MessageSid of every SMS reply taken, so a replayed one does nothing

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_sms",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_inbound_sms")),
    )


def downgrade() -> None:
    op.drop_table("inbound_sms")
