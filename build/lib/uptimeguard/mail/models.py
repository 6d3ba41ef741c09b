"""The mail outbox table: one row per message to send, e-mail or webhook call.

Owned by migration `0004`. A row is written *before* it is sent, in the transaction of the
change that causes it, and claimed with a conditional update just before sending, so a crash
or a second worker never sends it twice (see `outbox.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from uptimeguard.storage.models import Base, BigId, UTCDateTime

# Statuses. `pending` waits for `due_at`; `sending` is claimed by one worker; the rest are
# final: `sent` (the server took it), `failed` (refused for good, or given up after retries),
# `skipped` (nothing configured to send it with, or its webhook was removed from the checks
# file), `interrupted` (the sender died mid-send: never resent, it may have gone).
PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, SKIPPED, INTERRUPTED = "failed", "skipped", "interrupted"
FINAL = (SENT, FAILED, SKIPPED, INTERRUPTED)

EMAIL, WEBHOOK = "email", "webhook"


class MailRow(Base):
    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # email or webhook
    # Planning a message twice fails here: the key names what the message is for and whom.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(2048))  # an address, or the webhook URL
    customer: Mapped[str | None] = mapped_column(String(64))  # whose webhook (its secret)
    subject: Mapped[str] = mapped_column(Text, default="")
    text_body: Mapped[str] = mapped_column(Text, default="")  # the JSON body of a webhook
    html_body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    cause: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_mail_outbox_status_due", "status", "due_at"),)
