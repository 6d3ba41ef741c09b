"""`GET /status/{slug}/feed.atom`: the page's public updates as Atom, newest first.

Built at most once every few seconds per slug (like the page) and answered with an `ETag`.
Entry and feed ids are absolute, from `PUBLIC_URL` (else from the address the request came to).
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from aiohttp import web

from uptimeguard.config.models import Customer
from uptimeguard.notify.maintenance import notices_since
from uptimeguard.status.feed import ATOM, Entry, atom
from uptimeguard.status.public import HISTORY_DAYS
from uptimeguard.status.updates import (
    PUBLIC_EVENT_KINDS,
    PublicUpdate,
    incident_title,
    public_updates,
)
from uptimeguard.web.context import CONTEXT, WebContext
from uptimeguard.web.negotiate import not_modified
from uptimeguard.web.status_routes import PAGES, SLUG

TTL = 5.0
_CACHE = web.AppKey("feed_cache", dict[tuple[str, str], tuple[float, bytes, str]])


async def build_feed(context: WebContext, customer: Customer, base: str) -> bytes:
    """The feed of `customer`'s page, read from the database now; `base` is the site root."""
    page = customer.status_page
    assert page is not None
    now = context.clock.now()
    since = now - timedelta(days=HISTORY_DAYS)
    names = {site.id: site.name or site.id for site in customer.sites}
    incidents = await context.store.incidents_since(customer.id, since)
    events = await context.store.events_of([i.id for i in incidents], PUBLIC_EVENT_KINDS)
    by_incident: dict[int, list] = {}
    for event in events:
        by_incident.setdefault(event.incident_id, []).append(event)
    entries = []
    for incident in incidents:
        title = incident_title(incident, names)
        for update in public_updates(incident, by_incident.get(incident.id, []), names):
            entries.append(Entry(f"update-{update.event_id}", title, update))
    for notice in await notices_since(context.store, customer.id, since):
        # As told then: the words were stored with the notice.
        told = PublicUpdate(notice.at, notice.phase, notice.message, "maintenance")
        entries.append(Entry(f"maintenance-{notice.id}", notice.title, told))
    title = page.title or f"{customer.name} status"
    return atom(f"{base}/status/{page.slug}", title, entries, now)


async def feed(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    slug = request.match_info["slug"]
    customer = request.app[PAGES].customer(slug)
    if customer is None:
        raise web.HTTPNotFound(text="no such status page\n")
    public = context.settings.public_url
    base = public.rstrip("/") if public else str(request.url.origin())
    cache = request.app[_CACHE]
    cached = cache.get((slug, base))
    if cached is None or time.monotonic() - cached[0] >= TTL:
        body = await build_feed(context, customer, base)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        cached = cache[(slug, base)] = (time.monotonic(), body, etag)
        if len(cache) > 1000:  # a flood of Host headers cannot grow it without end
            cache.clear()
    _, body, etag = cached
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={int(TTL)}"}
    if not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": ATOM})


def add_routes(app: web.Application) -> None:
    app[_CACHE] = {}
    app.router.add_get(f"/status/{SLUG}/feed.atom", feed)
