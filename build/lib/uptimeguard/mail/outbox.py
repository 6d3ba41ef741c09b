"""The mail outbox: e-mails and webhook calls are rows written before they are sent.

How to send mail from anywhere in uptimeguard::

    await outbox.enqueue(
        to="desk@example.com",
        subject="Voicemail from Acme Ltd",
        text="Listen: https://...",
        html="<p>Listen: <a href=...>...</a></p>",   # optional; escape what you put in it
        headers={"Reply-To": "..."},                   # optional extra headers
        dedupe_key="voicemail:1234",                   # what the message is for, and whom
    )

`enqueue` writes the row in its own transaction and returns False when a message with that
`dedupe_key` was planned before (nothing is written): the key makes planning idempotent, so a
retried decision, a restart or a second node never plans the same message twice. Pick keys
that name the cause and the recipient (`nps:{incident}:{contact}`), at most 255 characters.

To plan messages in the same transaction as the change that causes them (so the change and
its messages are stored together or not at all), build `Mail` (or `WebhookCall`) values and
call `plan(session, messages, now)` inside your `sessions.begin()` block, then `wake()` after
it commits. `MailWorker` (`worker.py`) sends due rows one at a time, each claimed with a
conditional update (`pending` -> `sending`) just before it is sent, retries with backoff
while the server is away, and marks a row a killed process left `sending` as `interrupted`:
never sent again, as it may have gone. The text and HTML are sent as given (multipart/
alternative); From, To, Date and Message-ID are added by the sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from uptimeguard.clock import Clock
from uptimeguard.mail.models import EMAIL, INTERRUPTED, PENDING, SENDING, SENT, WEBHOOK, MailRow
from uptimeguard.storage.repository import Store

MAX_KEY = 255


@dataclass(frozen=True, slots=True)
class Mail:
    """An e-mail to plan. `text` is required; `html`, when given, is the alternative part."""

    to: str
    subject: str
    text: str
    dedupe_key: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    due_at: datetime | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        return _row(EMAIL, self.dedupe_key, now, self.due_at) | {
            "recipient": self.to,
            "subject": self.subject,
            "text_body": self.text,
            "html_body": self.html,
            "headers": dict(self.headers) or None,
        }


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """A JSON POST to a webhook the checks file configures for `customer`; signed when sent,
    with the secret configured then (the secret is never stored)."""

    url: str
    customer: str
    body: str
    dedupe_key: str

    def row(self, now: datetime) -> dict[str, Any]:
        return _row(WEBHOOK, self.dedupe_key, now, None) | {
            "recipient": self.url,
            "customer": self.customer,
            "text_body": self.body,
        }


def _row(kind: str, key: str, now: datetime, due_at: datetime | None) -> dict[str, Any]:
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"dedupe_key must be 1 to {MAX_KEY} characters, got {len(key)}")
    return {
        "kind": kind,
        "dedupe_key": key,
        "status": PENDING,
        "attempts": 0,
        "due_at": due_at or now,
        "created_at": now,
    }


class MailOutbox:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._sessions = store.sessions
        self._clock = clock
        self.woken = asyncio.Event()  # set when something was planned; the worker waits on it

    def wake(self) -> None:
        self.woken.set()

    # -- planning ----------------------------------------------------------------------------

    async def enqueue(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        headers: dict[str, str] | None = None,
        dedupe_key: str = "",
    ) -> bool:
        """Plan one e-mail now, in its own transaction; False when `dedupe_key` was planned
        before (then nothing is written)."""
        mail = Mail(to, subject, text, dedupe_key, html, dict(headers or {}))
        async with self._sessions.begin() as session:
            planned = await self.plan(session, [mail], self._clock.now())
        self.wake()
        return planned == 1

    async def plan(
        self, session: AsyncSession, messages: Sequence[Mail | WebhookCall], now: datetime
    ) -> int:
        """Insert `messages` in the caller's transaction, skipping any whose `dedupe_key` was
        planned before; returns how many were new. Call `wake()` after the commit."""
        if not messages:
            return 0
        dialect = self._store.engine.dialect.name
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(MailRow).on_conflict_do_nothing(index_elements=["dedupe_key"])
        rows = [m.row(now) for m in messages]
        result = await session.execute(statement.returning(MailRow.id), rows)
        return len(result.all())

    # -- sending (MailWorker) ----------------------------------------------------------------

    async def claim_next(self, now: datetime) -> MailRow | None:
        """Claim the oldest message due by `now`; each row goes to exactly one claimer."""
        due = (
            select(MailRow.id)
            .where(MailRow.status == PENDING, MailRow.due_at <= now)
            .order_by(MailRow.due_at, MailRow.id)
            .limit(5)
        )
        async with self._sessions() as session:
            ids = list((await session.scalars(due)).all())
        for message_id in ids:  # another worker may win the first; try the next
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(MailRow)
                    .where(MailRow.id == message_id, MailRow.status == PENDING)
                    .values(
                        status=SENDING,
                        claimed_at=now,
                        updated_at=now,
                        attempts=MailRow.attempts + 1,
                    )
                )
                if result.rowcount == 1:
                    return await session.get(MailRow, message_id, populate_existing=True)
        return None

    async def mark_sent(self, message_id: int, now: datetime) -> None:
        await self._move(message_id, {"status": SENT, "sent_at": now, "cause": None}, now)

    async def retry_later(
        self, message_id: int, due_at: datetime, cause: str, now: datetime
    ) -> None:
        await self._move(message_id, {"status": PENDING, "due_at": due_at, "cause": cause}, now)

    async def finish(self, message_id: int, status: str, cause: str | None, now: datetime) -> None:
        await self._move(message_id, {"status": status, "cause": cause}, now)

    async def interrupted(self, claimed_before: datetime, now: datetime) -> list[MailRow]:
        """Rows a dead sender left `sending` since before `claimed_before`: marked
        `interrupted`, never sent again (the server may have taken them)."""
        statement = (
            update(MailRow)
            .where(MailRow.status == SENDING, MailRow.claimed_at < claimed_before)
            .values(
                status=INTERRUPTED,
                updated_at=now,
                cause="the sender stopped while sending; not resent, it may have gone",
            )
            .returning(MailRow.id)
        )
        async with self._sessions.begin() as session:
            ids = list((await session.scalars(statement)).all())
            if not ids:
                return []
            return list((await session.scalars(select(MailRow).where(MailRow.id.in_(ids)))).all())

    async def _move(self, message_id: int, values: dict[str, Any], now: datetime) -> None:
        # Only the claimer moves a row on from `sending`.
        statement = (
            update(MailRow)
            .where(MailRow.id == message_id, MailRow.status == SENDING)
            .values(updated_at=now, **values)
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)

    # -- reading -----------------------------------------------------------------------------

    async def messages(self, kind: str | None = None) -> list[MailRow]:
        query = select(MailRow).order_by(MailRow.id)
        if kind is not None:
            query = query.where(MailRow.kind == kind)
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())
