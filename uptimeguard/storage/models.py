"""SQLAlchemy tables. Every instant is stored as naive UTC and read back as aware UTC.

The schema is owned by the Alembic migrations in `storage/migrations/versions/`; a change here
needs a new revision there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database (the same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Percent of each `daily_rollups` page filled by inserts on PostgreSQL (see the table).
ROLLUP_FILLFACTOR = 50

# The location of a node started without `--location`, and of rows from before locations.
DEFAULT_LOCATION = "default"

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ProbeResultRow(Base):
    __tablename__ = "probe_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    total_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(300))
    in_maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the probe was made from (the node's `LOCATION`).
    location: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_LOCATION, server_default=DEFAULT_LOCATION
    )

    __table_args__ = (
        Index("ix_probe_results_site_time", "customer", "site", "checked_at"),
        # The daily rollup reads every site's new results by time; pruning deletes by time.
        Index("ix_probe_results_checked_at", "checked_at"),
    )


class SiteStateRow(Base):
    """The monitor's per-site state, so a restart carries on counting where it stopped; one
    row per location probing the site (a node taking a site over reads its location's row)."""

    __tablename__ = "site_states"

    customer: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    location: Mapped[str] = mapped_column(
        String(64), primary_key=True, default=DEFAULT_LOCATION, server_default=DEFAULT_LOCATION
    )
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    tls_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DailyRollupRow(Base):
    """One site's uptime over one UTC day as seen from one location, folded from its probe
    results as they arrive (see `uptimeguard.status.rollups` and `live_rollups`), so the
    status page and the SLA report never scan raw results, and healthy probes need no raw row.

    Each probe result stands for the time until the next one (at most `max_span`); seconds are
    up, down or in maintenance (maintenance is not counted against uptime). The `last_*`,
    `accounted_to` and `run_*` columns carry the fold's state, so today's row is brought up to
    date from the new results alone; `complete` rows are final.
    """

    __tablename__ = "daily_rollups"
    # Today's row of every site is rewritten every few minutes: on PostgreSQL, room on each
    # page lets the new version stay there (a HOT update, pruned without a vacuum), so the
    # table does not grow by a copy of itself between autovacuums.
    __table_args__ = ({"postgresql_with": {"fillfactor": ROLLUP_FILLFACTOR}},)

    customer: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # The location whose results these are: each node folds its own (readers add them up).
    location: Mapped[str] = mapped_column(
        String(64), primary_key=True, default=DEFAULT_LOCATION, server_default=DEFAULT_LOCATION
    )
    good: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)  # probes outside maintenance
    maintenance: Mapped[int] = mapped_column(Integer, default=0)  # probes in maintenance
    up_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    down_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    maintenance_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    longest_down_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    longest_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    down_at_start_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    run_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    run_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_kind: Mapped[str | None] = mapped_column(String(16))
    accounted_to: Mapped[datetime] = mapped_column(UTCDateTime())
    complete: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(64))
    site: Mapped[str | None] = mapped_column(String(64))
    plan: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    source: Mapped[str] = mapped_column(String(16), default="monitor")
    summary: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    held_over: Mapped[bool] = mapped_column(Boolean, default=False)
    clock_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Held-over incidents: when the desk was told at the calendar's opening.
    desk_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Opened during a customer's ad-hoc cover period (`plan` is then the cover plan): the
    # period as written, e.g. "2026-12-20..2027-01-04".
    cover: Mapped[str | None] = mapped_column(String(64))
    # The SLA clock is stopped (waiting on the customer) since then; the pause itself, with
    # its reason, is a row of `incident_pauses`.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The first acknowledgement, kept when it expires (`oncall.ack_timeout`) and the incident
    # is triggered again: it met the response target, whatever happens after.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One open incident per site: the database enforces what the service promises.
        Index(
            "uq_incidents_open_site",
            "customer",
            "site",
            unique=True,
            sqlite_where=text("resolved_at IS NULL AND site IS NOT NULL"),
            postgresql_where=text("resolved_at IS NULL AND site IS NOT NULL"),
        ),
        Index("ix_incidents_status", "status"),
    )


class IncidentEventRow(Base):
    """One line of an incident's timeline."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("incidents.id", ondelete="CASCADE"),
        index=True,
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    by: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class IncidentPauseRow(Base):
    """A stretch during which an incident's SLA clock was stopped (`ended_at` None: still
    stopped), who stopped and restarted it and why, and the deadlines it stood at before."""

    __tablename__ = "incident_pauses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("incidents.id", ondelete="CASCADE"),
        index=True,
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    resumed_by: Mapped[str | None] = mapped_column(String(128))
    # The deadlines when the pause began: a pause never makes one earlier than these.
    response_due_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
