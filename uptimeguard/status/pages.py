"""Public status pages, built from rollups and incidents and held for a few seconds.

In an outage a crowd of customers reloads the page; each slug is built at most once per `ttl`
seconds however many requests arrive (the first builds, the rest wait for it), and each body is
compressed once, so the monitor's database sees one page's queries per slug per `ttl`.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from uptimeguard.clock import Clock
from uptimeguard.config.models import ChecksConfig, Customer
from uptimeguard.status.maintenance_view import maintenance_view
from uptimeguard.status.public import (
    HISTORY_DAYS,
    RECENT,
    ROLLUP_COLUMNS,
    SiteNow,
    build_status,
    display_name,
)
from uptimeguard.status.rollups import day_of
from uptimeguard.status.templates import environment, stylesheet
from uptimeguard.status.updates import PUBLIC_EVENT_KINDS
from uptimeguard.status.zones import page_timezone, zone_words
from uptimeguard.storage.repository import Store

DEFAULT_TTL = 5.0
HTML = "text/html; charset=utf-8"
JSON = "application/json"

LiveSource = Callable[[Customer], Mapping[str, SiteNow]]


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    gzipped: bytes
    etag: str
    content_type: str


@dataclass(slots=True)
class _Entry:
    built_at: float
    view: dict[str, Any]
    bodies: dict[str, Body] = field(default_factory=dict)


def _body(data: bytes, content_type: str) -> Body:
    etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
    return Body(data, gzip.compress(data, compresslevel=6, mtime=0), etag, content_type)


class StatusPages:
    def __init__(
        self,
        store: Store,
        config: Callable[[], ChecksConfig],
        live: LiveSource,
        clock: Clock,
        ttl: float = DEFAULT_TTL,
        subscribing: bool = False,
    ) -> None:
        self._store = store
        self._config = config
        self._live = live
        self._clock = clock
        self.ttl = ttl
        self.subscribing = subscribing  # the page offers the subscription form
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.builds = 0  # how many times a page was built (tests, bench)

    def customer(self, slug: str) -> Customer | None:
        for customer in self._config().customers:
            if customer.status_page is not None and customer.status_page.slug == slug:
                return customer
        return None

    async def body(self, slug: str, kind: str) -> Body | None:
        """The page (`kind` "html" or "json") for `slug`, or None for an unknown slug."""
        entry = await self._entry(slug)
        if entry is None:
            return None
        body = entry.bodies.get(kind)
        if body is None:
            body = entry.bodies[kind] = self._render(entry.view, kind)
        return body

    async def view(self, slug: str) -> dict[str, Any] | None:
        entry = await self._entry(slug)
        return None if entry is None else entry.view

    async def _entry(self, slug: str) -> _Entry | None:
        customer = self.customer(slug)
        if customer is None:
            self._entries.pop(slug, None)
            return None
        entry = self._entries.get(slug)
        if entry is not None and time.monotonic() - entry.built_at < self.ttl:
            return entry
        lock = self._locks.setdefault(slug, asyncio.Lock())
        async with lock:
            entry = self._entries.get(slug)  # built while this request waited?
            if entry is not None and time.monotonic() - entry.built_at < self.ttl:
                return entry
            view = await self.build(customer)
            entry = self._entries[slug] = _Entry(time.monotonic(), view)
            return entry

    async def build(self, customer: Customer) -> dict[str, Any]:
        """The public view of `customer` now, straight from the database (no cache)."""
        now = self._clock.now()
        zone = page_timezone(self._config(), customer)
        today = day_of(now, zone)  # the page's days are the customer's
        first = today - timedelta(days=HISTORY_DAYS - 1)
        site_ids = [site.id for site in customer.sites]
        rows = await self._store.rollups(customer.id, first, today, site_ids, ROLLUP_COLUMNS)
        incidents = await self._store.incidents_since(
            customer.id, now - timedelta(days=HISTORY_DAYS)
        )
        shown = [i.id for i in incidents if i.resolved_at is None or i.resolved_at >= now - RECENT]
        events = await self._store.events_of(shown, PUBLIC_EVENT_KINDS)
        self.builds += 1
        view = build_status(
            customer,
            self._live(customer),
            rows,
            incidents,
            events,
            now,
            zone,
        )
        page = {**view["page"], "time_zone": zone, "time_zone_name": zone_words(zone)}
        return view | {"page": page} | self._telling(customer, now, zone)

    def _telling(self, customer: Customer, now: datetime, zone: str) -> dict[str, Any]:
        """What the page says about being told: maintenance ahead, subscribing, the feed."""
        assert customer.status_page is not None
        slug = customer.status_page.slug
        sites = [{"id": site.id, "name": display_name(site)} for site in customer.sites]
        return {
            "maintenance": maintenance_view(self._config(), customer, now, zone),
            "subscribe": {
                "available": self.subscribing,
                "url": f"/status/{slug}/subscribe",
                "sites": sites,
            },
            "feed": f"/status/{slug}/feed.atom",
        }

    def _render(self, view: dict[str, Any], kind: str) -> Body:
        if kind == "json":
            return _body(json.dumps(view, separators=(",", ":")).encode(), JSON)
        template = environment().get_template("status.html")
        return _body(template.render(**view, css=stylesheet()).encode(), HTML)
