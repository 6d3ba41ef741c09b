"""The cluster's tables: nodes and their heartbeats, what each location concluded about each
site, requests for a location to probe a site now, and the spells a location was degraded.

Owned by migration `0007`. Every instant a node's liveness depends on is written with the
database's clock (`clock_timestamp()`), never a node's own, so all nodes judge death alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from uptimeguard.storage.models import Base, BigId, UTCDateTime


class NodeRow(Base):
    """One node (a running `uptimeguard run`, by its `--node` name) and its last heartbeat.

    A node is alive while `stopped_at` is unset and `heartbeat_at + timeout_seconds` is after
    the database's now. `released_at` is when a node stopping cleanly started no more probes,
    so the nodes taking over know from when its sites went unprobed.
    """

    __tablename__ = "cluster_nodes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    location: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[str] = mapped_column(String(32), default="")
    incarnation: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timeout_seconds: Mapped[float] = mapped_column(Float)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    leader_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sites_owned: Mapped[int] = mapped_column(Integer, default=0)
    # Over the last few seconds: distinct sites this node probed, and those that failed (what
    # tells a location whose own network fails from sites that fail).
    window_sites: Mapped[int] = mapped_column(Integer, default=0)
    window_failing: Mapped[int] = mapped_column(Integer, default=0)


class SiteVerdictRow(Base):
    """What one location concluded about one site: failing (its probes reached `confirm`)
    or not, since when, and which node said so. Written only when the conclusion changes."""

    __tablename__ = "site_verdicts"

    customer: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    location: Mapped[str] = mapped_column(String(64), primary_key=True)
    failing: Mapped[bool] = mapped_column(Boolean, default=False)
    cause: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(300))
    # The failing run's first failed probe, and the probe that confirmed it.
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    node: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProbeRequestRow(Base):
    """A location asked to probe a site now (another location's probes reached `confirm`).

    The nodes of `location` claim open requests with `FOR UPDATE SKIP LOCKED`, each taking
    the sites it owns; a `NOTIFY` wakes them. At most one open request per site and location.
    """

    __tablename__ = "probe_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(64))
    asked_by: Mapped[str] = mapped_column(String(64))  # the node
    asked_from: Mapped[str] = mapped_column(String(64))  # its location
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index(
            "uq_probe_requests_open",
            "customer",
            "site",
            "location",
            unique=True,
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
        Index("ix_probe_requests_location_done", "location", "done_at"),
    )


class DegradedSpellRow(Base):
    """A spell during which a location's own network failed (most of its sites failing while
    other locations saw them up). Open while `ended_at` is unset; at most one open per
    location. Its probes count for no incident and no uptime."""

    __tablename__ = "location_degradations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    location: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index(
            "uq_location_degradations_open",
            "location",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )
