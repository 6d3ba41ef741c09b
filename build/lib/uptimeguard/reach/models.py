"""The tables of the customer channels: phone messages, NPS surveys and who was last surveyed.

Owned by migration `0004`. A phone message is one row per Twilio `RecordingSid` (unique), so
a callback Twilio retries opens one incident. `nps_contacts` is claimed with a conditional
update, so two workers resolving two incidents at once still send one survey per period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from uptimeguard.storage.models import Base, BigId, UTCDateTime

_INCIDENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class PhoneMessageRow(Base):
    """A message left on the phone line (a Twilio recording)."""

    __tablename__ = "phone_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), default="")
    caller: Mapped[str] = mapped_column(String(32), default="")
    customer: Mapped[str | None] = mapped_column(String(64))  # None: an unknown caller
    contact: Mapped[str | None] = mapped_column(String(200))
    recording_url: Mapped[str] = mapped_column(Text, default="")
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # When the handling was (last) claimed, and when it finished (incident opened, desk
    # mailed): a claim that never finished is taken again by Twilio's next retry.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    incident_id: Mapped[int | None] = mapped_column(_INCIDENT_ID)


class NpsSurveyRow(Base):
    """One survey sent to one contact; answered once, by a click on one of eleven links."""

    __tablename__ = "nps_surveys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    customer: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(_INCIDENT_ID)
    contact: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_nps_surveys_customer_answered", "customer", "answered_at"),)


class NpsContactRow(Base):
    """When a contact was last sent a survey: the claim that keeps it to one per period."""

    __tablename__ = "nps_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("customer", "email"),)
