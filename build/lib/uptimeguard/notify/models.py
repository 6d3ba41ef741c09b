"""Subscribers to status pages, and the maintenance announcements made. Migration `0005`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from uptimeguard.storage.models import Base, BigId, UTCDateTime

# A subscription is `pending` until its confirmation link is followed; only `confirmed`
# addresses are ever sent updates. `unsubscribed` rows are kept (a new request starts over).
PENDING, CONFIRMED, UNSUBSCRIBED = "pending", "confirmed", "unsubscribed"


class SubscriberRow(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))  # as given, compared lower-cased
    email_key: Mapped[str] = mapped_column(String(254))  # lower-cased
    sites: Mapped[list[str] | None] = mapped_column(JSON)  # None: every site
    token: Mapped[str] = mapped_column(String(64), unique=True)  # confirm and unsubscribe
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmations_sent: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("customer", "email_key"),)

    def wants(self, site: str | None) -> bool:
        """Whether this subscriber hears of an update about `site` (None: the whole page)."""
        return self.sites is None or site is None or site in self.sites


class MaintenanceNoticeRow(Base):
    """A maintenance announcement told (one row per window and phase: never told twice)."""

    __tablename__ = "maintenance_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(64))
    window_key: Mapped[str] = mapped_column(String(160))
    phase: Mapped[str] = mapped_column(String(16))  # scheduled, started, completed
    title: Mapped[str] = mapped_column(String(300))
    sites: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it was told
    message: Mapped[str] = mapped_column(String(600))  # as told, so it reads the same later

    __table_args__ = (UniqueConstraint("customer", "window_key", "phase"),)
