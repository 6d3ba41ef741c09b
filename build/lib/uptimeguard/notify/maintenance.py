"""Announced maintenance: which one-off windows are in view, and telling subscribers of them.

A one-off window with `announce: {title, before}` is shown on the status page from `before`
ahead of its start until it ends. Subscribers and webhooks are told three times: when it
comes into view (`scheduled`), when it starts and when it ends (`completed`). A periodic job
(`MaintenanceNotices.run`, one node of a cluster runs it) finds those moments; each is
recorded in `maintenance_notices` with its messages in one transaction, under a unique
(customer, window, phase) key, so a phase is told once however often the job runs. A phase
missed while the daemon was down is told late, but only the latest one: a window that came
into view and started meanwhile is told `started`, and `completed` is told only of a window
whose subscribers heard of it before. The same window on several sites is one announcement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from uptimeguard.config.models import ChecksConfig, Customer
from uptimeguard.mail.outbox import MailOutbox
from uptimeguard.notify.fanout import tell
from uptimeguard.notify.messages import About
from uptimeguard.notify.models import MaintenanceNoticeRow
from uptimeguard.notify.pages import PageInfo
from uptimeguard.status.announced import Announced, announced
from uptimeguard.status.updates import COMPLETED, SCHEDULED, maintenance_update
from uptimeguard.storage.repository import Store

log = logging.getLogger(__name__)

# Windows that ended longer ago than this are no longer looked at.
FORGET_AFTER = timedelta(days=7)


class MaintenanceNotices:
    def __init__(
        self,
        store: Store,
        config: Callable[[], ChecksConfig],
        outbox: MailOutbox,
        public_url: str | None,
    ) -> None:
        self._store = store
        self._config = config
        self._outbox = outbox
        self._public_url = public_url or ""

    async def run(self, now: datetime) -> int:
        """Tell every phase due by `now` that was not told yet; returns how many were told."""
        config = self._config()
        told = 0
        for customer in config.customers:
            if customer.status_page is None:
                continue
            windows = [w for w in announced(config, customer) if now - w.ends_at < FORGET_AFTER]
            if not windows:
                continue
            done = await self._told(customer.id)
            info = PageInfo.of(config, customer, self._public_url)
            for window in windows:
                phase = window.phase(now)
                before = done.get(window.key, set())
                if phase is None or phase in before:
                    continue
                if phase == COMPLETED and not before:
                    continue  # nobody heard of it: nothing to close
                if phase == SCHEDULED and before:
                    continue
                told += await self._tell(customer, info, window, phase, now)
        return told

    async def _told(self, customer: str) -> dict[str, set[str]]:
        n = MaintenanceNoticeRow
        query = select(n.window_key, n.phase).where(n.customer == customer)
        async with self._store.sessions() as session:
            rows = (await session.execute(query)).all()
        done: dict[str, set[str]] = {}
        for key, phase in rows:
            done.setdefault(key, set()).add(phase)
        return done

    async def _tell(
        self, customer: Customer, info: PageInfo, window: Announced, phase: str, now: datetime
    ) -> int:
        starts, ends = info.when(window.starts_at), info.when(window.ends_at)
        update = maintenance_update(phase, window.title, now, starts, ends)
        names = tuple(info.site_names[s] for s in window.sites)
        about = About(
            key=f"maintenance:{customer.id}:{window.key}",
            title=window.title,
            status=phase,
            started_at=window.starts_at,
            ended_at=window.ends_at,
            sites=names,
        )
        page = customer.status_page
        hooks = [hook.url for hook in page.webhooks] if page is not None else []
        try:
            async with self._store.sessions.begin() as session:
                session.add(
                    MaintenanceNoticeRow(
                        customer=customer.id,
                        window_key=window.key,
                        phase=phase,
                        title=window.title,
                        sites=list(window.sites),
                        starts_at=window.starts_at,
                        ends_at=window.ends_at,
                        at=now,
                        message=update.message,
                    )
                )
                await session.flush()
                await tell(session, self._outbox, info, hooks, about, [update], window.sites, now)
        except IntegrityError:  # told by another node a moment ago
            return 0
        self._outbox.wake()
        log.info("maintenance %s of %s: told %s", window.key, customer.id, phase)
        return 1


async def notices_since(store: Store, customer: str, since: datetime) -> list[MaintenanceNoticeRow]:
    """What was told of the customer's maintenance since `since`, newest first."""
    n = MaintenanceNoticeRow
    query = (
        select(n).where(n.customer == customer, n.at >= since).order_by(n.at.desc(), n.id.desc())
    )
    async with store.sessions() as session:
        return list((await session.scalars(query)).all())
