"""The paging tables: one row per page (the outbox) and one per incident paging has handled.

Owned by migration `0002`. A page row is written *before* it is sent and claimed with a
conditional update, so a crash or a second worker never sends it twice (see `outbox.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from uptimeguard.storage.models import Base, BigId, UTCDateTime

# Page statuses. `pending` waits for `due_at`; `sending` is claimed by a worker; `sent` was
# accepted by Twilio; the rest are final.
PENDING, SENDING, SENT = "pending", "sending", "sent"
DELIVERED, FAILED, NO_ANSWER = "delivered", "failed", "no_answer"
CANCELLED, SKIPPED, INTERRUPTED = "cancelled", "skipped", "interrupted"
# Handed to Twilio (or possibly so): these count against the hourly cap and get the
# resolution message.
ATTEMPTED = (SENDING, SENT, DELIVERED, NO_ANSWER, INTERRUPTED)
NOT_REACHED = (FAILED, NO_ANSWER, SKIPPED)

# Why a page exists.
LADDER, DESK, HELD_OVER, SLA, RESOLVED = "ladder", "desk", "held_over", "sla", "resolved"
DESK_PERSON = "desk"  # the `person` of pages to the desk phone


class PageRow(Base):
    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("incidents.id", ondelete="CASCADE"),
    )
    purpose: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int] = mapped_column(Integer, default=0)
    person: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), default="")
    phone: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    cause: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sid: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The node that claimed it: only that node (restarted) or the leader, once that node is
    # dead, may mark it interrupted.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        # One page per step, person and channel: planning a step twice fails here.
        UniqueConstraint("incident_id", "purpose", "round", "step", "person", "channel"),
        Index("ix_pages_status_due", "status", "due_at"),
        Index("ix_pages_phone_sent", "phone", "sent_at"),
    )


class PagingStateRow(Base):
    """What paging decided for an incident and where its ladder stands."""

    __tablename__ = "paging_states"

    incident_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    )
    decision: Mapped[str] = mapped_column(String(8))  # desk, page, hold
    severity: Mapped[str] = mapped_column(String(64))  # as last handled, to notice upgrades
    # none, running, done (every rung planned), stopped (acknowledged or resolved)
    ladder: Mapped[str] = mapped_column(String(8), default="none")
    next_position: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed: Mapped[bool] = mapped_column(Boolean, default=False)  # resolution handled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_paging_states_closed", "closed"),)


class InboundSmsRow(Base):
    """An SMS reply taken, by Twilio's `MessageSid` (owned by migration `0009`): a request
    posted again with the same sid (a replay, or Twilio retrying) is answered and does
    nothing. Rows are kept: a replay is refused however late it comes."""

    __tablename__ = "inbound_sms"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
