"""subscribers to status pages, and maintenance announcements told

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirm_sent_at", sa.DateTime(), nullable=True),
        sa.Column("confirmations_sent", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("customer", "email_key", name=op.f("uq_subscribers_customer")),
        sa.UniqueConstraint("token", name=op.f("uq_subscribers_token")),
    )
    op.create_table(
        "maintenance_notices",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("window_key", sa.String(length=160), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("message", sa.String(length=600), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_notices")),
        sa.UniqueConstraint(
            "customer", "window_key", "phase", name=op.f("uq_maintenance_notices_customer")
        ),
    )


def downgrade() -> None:
    op.drop_table("maintenance_notices")
    op.drop_table("subscribers")
