"""incidents.responded_at: the acknowledgement that met the response target, kept when an
acknowledgement expires (`oncall.ack_timeout`) and the incident is triggered again

Existing incidents keep their meaning: empty, and the response is their acknowledgement.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responded_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("responded_at")
