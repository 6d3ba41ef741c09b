"""Public status pages: `GET /status/{slug}` (HTML) and `/status/{slug}.json`.

No authentication and nothing internal (see `uptimeguard.status.public`). Responses carry a
short `Cache-Control` and an `ETag`, answer `If-None-Match` (the tag, or `*`) with 304, and
are sent gzipped to clients that accept it (`gzip;q=0` is a refusal: `web.negotiate`); the
bodies themselves come from `StatusPages`' few-second cache.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from aiohttp import web

from uptimeguard.config.models import Customer
from uptimeguard.monitor.maintenance import in_maintenance
from uptimeguard.status.pages import LiveSource, StatusPages
from uptimeguard.status.public import SiteNow
from uptimeguard.status.templates import stylesheet
from uptimeguard.web.context import WebContext
from uptimeguard.web.negotiate import accepts_gzip, not_modified

PAGES = web.AppKey("status_pages", StatusPages)
_HEADERS = web.AppKey("status_headers", dict[str, str])
# The same security headers, for the other public pages under /status/ (`reach_routes`).
HEADERS = _HEADERS
SLUG = "{slug:[a-z0-9][a-z0-9_-]*}"


@cache
def security_headers() -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode()).digest()).decode()
    return {
        # The page needs nothing but its own inline stylesheet: no scripts, no fetches; its
        # forms (call me back, NPS comments) post to this server only.
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def live_source(context: WebContext) -> LiveSource:
    """Each site's state now, read from the monitor, for `StatusPages`."""

    def live(customer: Customer) -> dict[str, SiteNow]:
        now = context.clock.now()
        sites = {}
        for site in customer.sites:
            known = context.monitor.sites.get((customer.id, site.id))
            if known is None:
                sites[site.id] = SiteNow("unknown", None)
                continue
            sites[site.id] = SiteNow(
                known.tracker.state,
                known.last_checked_at,
                in_maintenance(site.maintenance, known.timezone, now),
            )
        return sites

    return live


async def _respond(request: web.Request, kind: str) -> web.StreamResponse:
    pages = request.app[PAGES]
    body = await pages.body(request.match_info["slug"], kind)
    if body is None:
        raise web.HTTPNotFound(text="no such status page\n")
    headers = {
        "Cache-Control": f"public, max-age={int(pages.ttl)}",
        "ETag": body.etag,
        "Vary": "Accept-Encoding",
        **request.app[_HEADERS],
    }
    if kind == "json":  # public data: a customer's own site may fetch it from a browser
        headers["Access-Control-Allow-Origin"] = "*"
    if not_modified(request, body.etag):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = body.content_type
    if accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=body.gzipped, headers=headers)
    return web.Response(body=body.data, headers=headers)


async def status_html(request: web.Request) -> web.StreamResponse:
    return await _respond(request, "html")


async def status_json(request: web.Request) -> web.StreamResponse:
    return await _respond(request, "json")


def add_routes(app: web.Application, context: WebContext) -> None:
    notify = context.notify
    app[PAGES] = StatusPages(
        context.store,
        lambda: context.incidents.config,
        live_source(context),
        context.clock,
        subscribing=bool(notify is not None and notify.subscribing),
    )
    app[_HEADERS] = security_headers()
    app.router.add_get(f"/status/{SLUG}.json", status_json)
    app.router.add_get(f"/status/{SLUG}", status_html)
