"""Results kept sparse: daily rollups per location, folded in memory by each node; raw results
only for failures and changes

`daily_rollups` gains `location` in its key: each node folds the results it makes into its
location's rows as they arrive and writes them in batches, and the page and the report add the
locations up. Existing rows were folded from every location's results together; they become
the default location's.

Raw results of healthy probes that the rollups already hold and that changed nothing (the
probe before it, from the same location, was healthy too) are deleted: what stays is every
failure, every probe in maintenance, the first result of each site and each recovery.

On PostgreSQL the table leaves half of each page free, so rewriting today's row of every site
every few minutes stays on the page (HOT updates) instead of growing the table between
autovacuums.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

HEALTHY_ROLLED_UP = """
DELETE FROM probe_results WHERE id IN (
    SELECT id FROM (
        SELECT r.id, r.outcome, r.in_maintenance, r.checked_at, r.customer, r.site,
            LAG(r.outcome) OVER (
                PARTITION BY r.customer, r.site, r.location ORDER BY r.checked_at, r.id
            ) AS previous_outcome,
            LAG(r.in_maintenance) OVER (
                PARTITION BY r.customer, r.site, r.location ORDER BY r.checked_at, r.id
            ) AS previous_maintenance
        FROM probe_results r
    ) AS t
    WHERE t.outcome IN ('up', 'slow') AND t.in_maintenance = :no
        AND t.previous_outcome IN ('up', 'slow') AND t.previous_maintenance = :no
        AND t.checked_at < (
            SELECT MAX(d.accounted_to) FROM daily_rollups d
            WHERE d.customer = t.customer AND d.site = t.site
        )
)
"""


def upgrade() -> None:
    with op.batch_alter_table("daily_rollups", schema=None, recreate="always") as batch_op:
        batch_op.add_column(
            sa.Column("location", sa.String(length=64), nullable=False, server_default="default")
        )
        batch_op.drop_constraint("pk_daily_rollups", type_="primary")
        batch_op.create_primary_key("pk_daily_rollups", ["customer", "site", "day", "location"])
    op.execute(sa.text(HEALTHY_ROLLED_UP).bindparams(no=False))
    if op.get_bind().dialect.name == "postgresql":
        # Room on each page for today's rows to be rewritten in place (HOT updates).
        op.execute(sa.text("ALTER TABLE daily_rollups SET (fillfactor = 50)"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE daily_rollups RESET (fillfactor)"))
    # Rows of the other locations cannot share the old key: the default location's are kept.
    op.execute(sa.text("DELETE FROM daily_rollups WHERE location != 'default'"))
    with op.batch_alter_table("daily_rollups", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_daily_rollups", type_="primary")
        batch_op.create_primary_key("pk_daily_rollups", ["customer", "site", "day"])
        batch_op.drop_column("location")
