"""Bearer-token auth for the admin API.

With `ADMIN_TOKEN` set, `/api/` requires `Authorization: Bearer <token>`, compared in constant
time. With none set, the admin API answers only to requests from loopback that no proxy
forwarded: a reverse proxy on this machine connects from loopback too, so without the headers
check everyone it serves would be let in.
"""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web
from aiohttp.typedefs import Handler

from uptimeguard.settings import Settings
from uptimeguard.web.context import CONTEXT
from uptimeguard.web.errors import json_error

# Headers a reverse proxy adds (RFC 7239, and the two common de facto ones).
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
PROXIED_REFUSAL = (
    "the admin API refuses proxied requests (a {header} header) until ADMIN_TOKEN is set: "
    "set UPTIMEGUARD_ADMIN_TOKEN and send Authorization: Bearer <token>"
)


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def startup_warnings(settings: Settings, bound_host: str) -> list[str]:
    """What the log should warn about once at start-up: an admin API with no token, and a
    listener reachable from beyond this machine (`bound_host` is the address bound)."""
    warnings = []
    if not _is_loopback(bound_host):
        warnings.append(
            f"listening on {bound_host}, beyond loopback: every page and webhook here is "
            "reachable from the network; put a firewall or a reverse proxy in front"
        )
    if settings.admin_token is None:
        warnings.append(
            "no UPTIMEGUARD_ADMIN_TOKEN: the admin API answers unauthenticated requests from "
            "loopback (proxied ones refused); set a token before exposing this server"
        )
    return warnings


@web.middleware
async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/") or request.path == "/api/v1/openapi.json":
        return await handler(request)
    token = request.app[CONTEXT].settings.admin_token
    if token is None:
        proxied = next((h for h in PROXY_HEADERS if h in request.headers), None)
        if proxied is not None:
            return json_error(403, PROXIED_REFUSAL.format(header=proxied))
        if _is_loopback(request.remote):
            return await handler(request)
        return json_error(401, "the admin API answers only on loopback until ADMIN_TOKEN is set")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    expected = token.get_secret_value().encode()
    # Header bytes that are not UTF-8 come as lone surrogates (surrogateescape): compared as
    # the bytes that were sent, never a 500.
    sent = given.strip().encode("utf-8", "surrogateescape")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent, expected):
        return json_error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
    return await handler(request)
