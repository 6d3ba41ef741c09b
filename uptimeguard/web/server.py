"""The aiohttp application: health, readiness, metrics, the admin API, public pages."""

from __future__ import annotations

import asyncio

from aiohttp import hdrs, web
from prometheus_client.exposition import choose_encoder

from uptimeguard.web import api, status_routes, twilio_routes
from uptimeguard.web.auth import admin_auth
from uptimeguard.web.context import CONTEXT, WebContext
from uptimeguard.web.errors import error_middleware
from uptimeguard.web.openapi import openapi_document

# Bodies we accept are small JSON objects and Twilio form posts; the largest legitimate one (a
# 10,000-character note, every character JSON-escaped) stays well under this.
MAX_BODY_BYTES = 256 * 1024


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = await request.app[CONTEXT].ready()
    return web.json_response({"ready": ready}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text (or OpenMetrics, as the scraper asks), written in a worker thread: for
    thousands of sites it is seconds of pure Python, and on the event loop it would hold
    every probe due meanwhile (5,000 sites: 10 MB, about 1.1 s)."""
    registry = request.app[CONTEXT].metrics.registry
    encoder, content_type = choose_encoder(",".join(request.headers.getall(hdrs.ACCEPT, [])))
    names = request.query.getall("name[]", [])
    if names:
        registry = registry.restricted_registry(names)
    output = await asyncio.to_thread(encoder, registry)
    response = web.Response(body=output, headers={hdrs.CONTENT_TYPE: content_type})
    response.enable_compression()
    return response


def build_app(context: WebContext) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, admin_auth], client_max_size=MAX_BODY_BYTES
    )
    app[CONTEXT] = context
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi_document)
    api.add_routes(app)
    twilio_routes.add_routes(app)
    status_routes.add_routes(app, context)
    return app
