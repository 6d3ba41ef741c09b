"""cluster: nodes and heartbeats, per-location verdicts, probe requests, degraded spells;
probe results and site states tagged with the location; pages name the node that claimed them

Existing rows keep their meaning: results and site states from before are the `default`
location's (a node started without `--location`), pages claimed before name no node.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _location() -> sa.Column:
    return sa.Column("location", sa.String(length=64), server_default="default", nullable=False)


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("incarnation", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("leader", sa.Boolean(), nullable=False),
        sa.Column("leader_since", sa.DateTime(), nullable=True),
        sa.Column("sites_owned", sa.Integer(), nullable=False),
        sa.Column("window_sites", sa.Integer(), nullable=False),
        sa.Column("window_failing", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_nodes")),
    )
    op.create_table(
        "site_verdicts",
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("failing", sa.Boolean(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer", "site", "location", name=op.f("pk_site_verdicts")),
    )
    op.create_table(
        "probe_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("asked_from", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_requests")),
    )
    with op.batch_alter_table("probe_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_probe_requests_location_done", ["location", "done_at"], unique=False
        )
        batch_op.create_index(
            "uq_probe_requests_open",
            ["customer", "site", "location"],
            unique=True,
            sqlite_where=sa.text("done_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL"),
        )
    op.create_table(
        "location_degradations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_degradations")),
    )
    with op.batch_alter_table("location_degradations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_location_degradations_open",
            ["location"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.add_column(_location())
    # One state row per site and location: the primary key gains the location.
    with op.batch_alter_table("site_states", schema=None) as batch_op:
        batch_op.add_column(_location())
        batch_op.drop_constraint("pk_site_states", type_="primary")
        batch_op.create_primary_key("pk_site_states", ["customer", "site", "location"])
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
    # One state row per site again: the first location's by name.
    op.execute(
        "DELETE FROM site_states WHERE location <> (SELECT MIN(d.location) FROM site_states AS d "
        "WHERE d.customer = site_states.customer AND d.site = site_states.site)"
    )
    with op.batch_alter_table("site_states", schema=None) as batch_op:
        batch_op.drop_constraint("pk_site_states", type_="primary")
        batch_op.create_primary_key("pk_site_states", ["customer", "site"])
        batch_op.drop_column("location")
    with op.batch_alter_table("probe_results", schema=None) as batch_op:
        batch_op.drop_column("location")
    op.drop_table("location_degradations")
    op.drop_table("probe_requests")
    op.drop_table("site_verdicts")
    op.drop_table("cluster_nodes")
