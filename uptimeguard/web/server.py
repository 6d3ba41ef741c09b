"""The aiohttp application: health, readiness, metrics, the admin API, public pages."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from aiohttp import hdrs, web

from uptimeguard.web import (
    api,
    feed_routes,
    index_routes,
    reach_routes,
    status_routes,
    subscribe_routes,
    twilio_routes,
)
from uptimeguard.web.auth import admin_auth
from uptimeguard.web.connections import body_deadline, track_requests
from uptimeguard.web.context import CONTEXT, WebContext
from uptimeguard.web.errors import error_middleware
from uptimeguard.web.negotiate import accepts_gzip
from uptimeguard.web.openapi import openapi_document

# Bodies we accept are small JSON objects and Twilio form posts; the largest legitimate one (a
# 10,000-character note, every character JSON-escaped) stays well under this.
MAX_BODY_BYTES = 256 * 1024


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = await request.app[CONTEXT].ready()
    return web.json_response({"ready": ready}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.StreamResponse:
    """Prometheus text (or OpenMetrics, as the scraper asks), streamed in chunks (at 100,000
    sites it is tens of MB, and written at once it would hold every probe due meanwhile), and
    gzipped when the scraper accepts it, as Prometheus always does: at level 1, which costs a
    quarter of the default level's CPU for nearly the same size on this repetitive text."""
    accept = ",".join(request.headers.getall(hdrs.ACCEPT, []))
    names = request.query.getall("name[]", [])
    content_type, chunks = request.app[CONTEXT].metrics.exposition(accept, names)
    headers = {hdrs.CONTENT_TYPE: content_type}
    gzip = accepts_gzip(request)
    if gzip:
        headers[hdrs.CONTENT_ENCODING] = "gzip"
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    try:
        for chunk in gzipped(chunks) if gzip else chunks:
            if chunk:
                await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the scraper gave up (its timeout); nothing to answer
    return response


def gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """One gzip stream over `chunks`, a piece per chunk (some pieces may be empty)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


def build_app(context: WebContext) -> web.Application:
    app = web.Application(
        middlewares=[
            track_requests,
            error_middleware,
            body_deadline(context.settings.http_body_timeout_seconds),
            admin_auth,
        ],
        client_max_size=MAX_BODY_BYTES,
    )
    app[CONTEXT] = context
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi_document)
    api.add_routes(app)
    # Before the paging webhooks: /twilio/voice/inbound is not a /twilio/voice/{page_id}.
    reach_routes.add_routes(app, context)
    twilio_routes.add_routes(app)
    status_routes.add_routes(app, context)
    index_routes.add_routes(app)
    feed_routes.add_routes(app)
    subscribe_routes.add_routes(app)
    reach_routes.add_public_routes(app, context)
    return app
