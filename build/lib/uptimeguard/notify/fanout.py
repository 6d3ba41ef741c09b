"""Telling a page's subscribers and webhooks of one public update, in the caller's transaction.

`IncidentNotices` is a `Store` event hook: it runs inside the transaction that stores an
incident's timeline entries, so a public update and the messages about it are committed
together or not at all (a crash can lose neither one without the other). Each message's
dedupe key names the update and the recipient, so nothing is planned twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from uptimeguard.config.models import ChecksConfig, Customer
from uptimeguard.mail.outbox import Mail, MailOutbox, WebhookCall
from uptimeguard.notify.messages import About, update_mail, webhook_calls
from uptimeguard.notify.pages import PageInfo
from uptimeguard.notify.subscriptions import confirmed
from uptimeguard.status.updates import TOLD, PublicUpdate, incident_title, public_update
from uptimeguard.storage.models import IncidentEventRow, IncidentRow

log = logging.getLogger(__name__)


async def tell(
    session: AsyncSession,
    outbox: MailOutbox,
    page: PageInfo,
    webhooks: Sequence[str],
    about: About,
    updates: Sequence[PublicUpdate],
    sites: Sequence[str] | None,
    now: datetime,
) -> int:
    """Plan one message per confirmed subscriber who chose any of `sites` (None: the whole
    page) and one call per webhook, for each update; returns how many were new."""
    subscribers = [s for s in await confirmed(session, page.customer) if _wants(s.sites, sites)]
    messages: list[Mail | WebhookCall] = []
    try:
        for update in updates:
            messages += [
                update_mail(page, about, update, s.email, s.token, s.id) for s in subscribers
            ]
            messages += webhook_calls(page, list(webhooks), about, update)
    except Exception:  # a bug in the wording must not lose the incident change itself
        log.exception("cannot write the messages about %s", about.key)
        return 0
    return await outbox.plan(session, messages, now)


def _wants(chosen: list[str] | None, sites: Sequence[str] | None) -> bool:
    return chosen is None or sites is None or any(site in chosen for site in sites)


class IncidentNotices:
    """The store hook that tells customers of an incident's public updates."""

    def __init__(
        self, config: Callable[[], ChecksConfig], outbox: MailOutbox, public_url: str | None
    ) -> None:
        self._config = config
        self._outbox = outbox
        self._public_url = public_url or ""

    async def __call__(
        self, session: AsyncSession, incident: IncidentRow, events: Sequence[IncidentEventRow]
    ) -> None:
        if not any(event.kind in TOLD for event in events):
            return  # pages, breaches, upgrades...: the common case, and no query
        config = self._config()
        try:
            customer: Customer = config.customer(incident.customer)
        except KeyError:
            return
        page = customer.status_page
        if page is None:
            return
        info = PageInfo.of(config, customer, self._public_url)
        updates = [
            update
            for event in events
            if (update := public_update(incident, event, info.site_names)) is not None
            and update.told
        ]
        if not updates:
            return
        about = About(
            key=f"incident:{incident.id}",
            title=incident_title(incident, info.site_names),
            status="resolved" if incident.resolved_at else "investigating",
            started_at=incident.opened_at,
            ended_at=incident.resolved_at,
            incident_id=incident.id,
        )
        sites = [incident.site] if incident.site else None
        hooks = [hook.url for hook in page.webhooks]
        if await tell(session, self._outbox, info, hooks, about, updates, sites, updates[0].at):
            # Woken now; the worker finds the rows once this transaction commits (it polls
            # every second, so a wake that comes before the commit loses nothing).
            self._outbox.wake()
