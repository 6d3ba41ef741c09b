"""Bearer-token auth for the admin API.

With `ADMIN_TOKEN` set, `/api/` requires `Authorization: Bearer <token>`, compared in constant
time. With none set, the admin API answers only to requests from loopback.
"""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web
from aiohttp.typedefs import Handler

from uptimeguard.web.context import CONTEXT
from uptimeguard.web.errors import json_error


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


@web.middleware
async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/") or request.path == "/api/v1/openapi.json":
        return await handler(request)
    token = request.app[CONTEXT].settings.admin_token
    if token is None:
        if _is_loopback(request.remote):
            return await handler(request)
        return json_error(401, "the admin API answers only on loopback until ADMIN_TOKEN is set")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return json_error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
    return await handler(request)
