"""Helpers for the notify tests."""

from __future__ import annotations

from datetime import datetime

from uptimeguard.mail.models import MailRow
from uptimeguard.mail.outbox import MailOutbox
from uptimeguard.notify.pages import PageInfo
from uptimeguard.notify.subscriptions import Subscriptions


async def confirmed_subscriber(
    subscriptions: Subscriptions,
    page: PageInfo,
    email: str,
    sites: list[str] | None,
    now: datetime,
) -> str:
    """Subscribe and confirm `email`; its token."""
    assert await subscriptions.request(page, email, sites, now)
    row = next(s for s in await subscriptions.subscribers(page.customer) if s.email == email)
    confirmed = await subscriptions.confirm(page.customer, row.token, now)
    assert confirmed is not None and confirmed.status == "confirmed"
    return row.token


async def messages_to(outbox: MailOutbox, address: str) -> list[MailRow]:
    return [row for row in await outbox.messages("email") if row.recipient == address]
