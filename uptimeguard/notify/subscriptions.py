"""Subscribing to a status page by e-mail: request, confirm, unsubscribe.

Double opt-in: a request stores a `pending` subscription and plans one confirmation message
in the same transaction; nothing else is ever sent to an address until its link is followed.
Asking again for the same address within `CONFIRM_AGAIN_AFTER` plans nothing (so the form
cannot be used to flood a mailbox); the answer is the same either way, so it never tells
whether an address is subscribed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from uptimeguard.mail.outbox import MailOutbox
from uptimeguard.notify.messages import confirmation
from uptimeguard.notify.models import CONFIRMED, PENDING, UNSUBSCRIBED, SubscriberRow
from uptimeguard.notify.pages import PageInfo
from uptimeguard.storage.repository import Store
from uptimeguard.web.inputs import forbidden_character

CONFIRM_AGAIN_AFTER = timedelta(hours=1)
_EMAIL = re.compile(
    r"[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def parse_email(value: object) -> str:
    """A plausible address, trimmed; ValueError naming the problem otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("'email' is required: the address to send updates to")
    address = value.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address) or forbidden_character(address):
        raise ValueError("'email' is not an e-mail address (name@example.com)")
    return address


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Subscriptions:
    def __init__(self, store: Store, outbox: MailOutbox) -> None:
        self._sessions = store.sessions
        self._outbox = outbox

    async def request(
        self, page: PageInfo, email: str, sites: Sequence[str] | None, now: datetime
    ) -> bool:
        """Ask to subscribe `email` (to `sites`, or all when None); True when a confirmation
        message was planned."""
        chosen = sorted(set(sites)) if sites else None
        key = email.lower()
        try:
            async with self._sessions.begin() as session:
                planned = await self._request(session, page, email, key, chosen, now)
        except IntegrityError:  # the same address asked at the same moment: one is enough
            return False
        if planned:
            self._outbox.wake()
        return planned

    async def _request(
        self,
        session: AsyncSession,
        page: PageInfo,
        email: str,
        key: str,
        sites: list[str] | None,
        now: datetime,
    ) -> bool:
        query = select(SubscriberRow).where(
            SubscriberRow.customer == page.customer, SubscriberRow.email_key == key
        )
        row = (await session.scalars(query)).first()
        if row is None:
            row = SubscriberRow(
                customer=page.customer,
                email=email,
                email_key=key,
                sites=sites,
                token=new_token(),
                status=PENDING,
                created_at=now,
                confirm_sent_at=now,
                confirmations_sent=1,
            )
            session.add(row)
            await session.flush()
            mail = confirmation(page, email, row.token, sites, 1)
            return await self._outbox.plan(session, [mail], now) == 1
        if row.status == CONFIRMED:
            return False
        if row.confirm_sent_at is not None and now - row.confirm_sent_at < CONFIRM_AGAIN_AFTER:
            return False
        token = new_token() if row.status == UNSUBSCRIBED else row.token
        count = row.confirmations_sent + 1
        moved = await session.execute(
            update(SubscriberRow)
            .where(
                SubscriberRow.id == row.id,
                SubscriberRow.confirmations_sent == row.confirmations_sent,
            )
            .values(
                status=PENDING,
                email=email,
                sites=sites,
                token=token,
                confirm_sent_at=now,
                confirmations_sent=count,
                unsubscribed_at=None,
            )
            .returning(SubscriberRow.id)
        )
        if moved.first() is None:  # another request moved it first
            return False
        mail = confirmation(page, email, token, sites, count)
        return await self._outbox.plan(session, [mail], now) == 1

    async def confirm(self, customer: str, token: str, now: datetime) -> SubscriberRow | None:
        """Follow a confirmation link; the subscription, or None for an unknown token."""
        return await self._move(customer, token, (PENDING,), CONFIRMED, "confirmed_at", now)

    async def unsubscribe(self, customer: str, token: str, now: datetime) -> SubscriberRow | None:
        """End a subscription (pending or confirmed); None for an unknown token."""
        states = (PENDING, CONFIRMED)
        return await self._move(customer, token, states, UNSUBSCRIBED, "unsubscribed_at", now)

    async def _move(
        self,
        customer: str,
        token: str,
        from_states: tuple[str, ...],
        to_state: str,
        stamp: str,
        now: datetime,
    ) -> SubscriberRow | None:
        where = (SubscriberRow.customer == customer, SubscriberRow.token == token)
        async with self._sessions.begin() as session:
            await session.execute(
                update(SubscriberRow)
                .where(*where, SubscriberRow.status.in_(from_states))
                .values(status=to_state, **{stamp: now})
            )
            return (await session.scalars(select(SubscriberRow).where(*where))).first()

    async def subscribers(self, customer: str) -> list[SubscriberRow]:
        query = select(SubscriberRow).where(SubscriberRow.customer == customer)
        async with self._sessions() as session:
            return list((await session.scalars(query.order_by(SubscriberRow.id))).all())


async def confirmed(session: AsyncSession, customer: str) -> list[SubscriberRow]:
    """The customer's confirmed subscribers, read in the caller's transaction."""
    query = select(SubscriberRow).where(
        SubscriberRow.customer == customer, SubscriberRow.status == CONFIRMED
    )
    return list((await session.scalars(query.order_by(SubscriberRow.id))).all())
