"""Subscribing to a status page by e-mail (public, rate-limited).

- `POST /status/{slug}/subscribe` (a form or JSON: `email`, optional `sites`): 202, and one
  confirmation message; the same answer whether or not the address is known.
- `GET /status/{slug}/confirm/{token}`: the link in that message.
- `GET|POST /status/{slug}/unsubscribe/{token}`: the link in every message, and the RFC 8058
  one-click POST a mail program sends.

Bad input gets 400 naming the field; more than `LIMIT` requests from one client address in
`PER` get 429 with `Retry-After`.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from uptimeguard.config.models import Customer
from uptimeguard.notify import Notify
from uptimeguard.notify.pages import PageInfo
from uptimeguard.notify.subscriptions import parse_email
from uptimeguard.status.templates import environment, stylesheet
from uptimeguard.web.context import CONTEXT
from uptimeguard.web.errors import BadRequest
from uptimeguard.web.inputs import read_json
from uptimeguard.web.ratelimit import RateLimiter
from uptimeguard.web.status_routes import PAGES, SLUG, security_headers

LIMIT, PER = 5, timedelta(minutes=10)  # subscribe requests per client address
TOKEN = "{token:[A-Za-z0-9_-]{16,64}}"
LIMITER = web.AppKey("subscribe_limit", RateLimiter)
MAX_SITES = 100


def _target(request: web.Request) -> tuple[Customer, Notify, PageInfo, datetime]:
    """The page's customer, the notify service, the page as messages name it, and now."""
    context = request.app[CONTEXT]
    customer = request.app[PAGES].customer(request.match_info["slug"])
    if customer is None:
        raise web.HTTPNotFound(text="no such status page\n")
    notify = context.notify
    if notify is None:
        raise web.HTTPServiceUnavailable(text="subscriptions are not available here\n")
    assert isinstance(notify, Notify)
    info = PageInfo.of(context.incidents.config, customer, notify.public_url or "")
    return customer, notify, info, context.clock.now()


def client_key(remote: str | None) -> str:
    """What the rate limit counts by: the IPv4 address, or the IPv6 /64 (one host usually
    holds a whole /64, so counting single IPv6 addresses would not limit it)."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return remote or "unknown"
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def _wants_html(request: web.Request) -> bool:
    return request.content_type != "application/json"


def _page(
    request: web.Request, info: PageInfo, status: int, heading: str, message: str
) -> web.Response:
    if not _wants_html(request):
        return web.json_response({"status": heading, "message": message}, status=status)
    html = (
        environment()
        .get_template("notice.html")
        .render(
            page_title=info.title,
            heading=heading,
            message=message,
            page_path=f"/status/{info.slug}",
            css=stylesheet(),
        )
    )
    headers = {**security_headers(), "Cache-Control": "no-store"}
    return web.Response(status=status, text=html, content_type="text/html", headers=headers)


async def _fields(request: web.Request) -> tuple[Any, list[Any] | None]:
    if request.content_type == "application/json":
        body = await read_json(request)
        if not isinstance(body, dict):
            raise BadRequest('body must be a JSON object: {"email": ..., "sites": [...]}')
        sites = body.get("sites")
        if sites is not None and not isinstance(sites, list):
            raise BadRequest("'sites' must be a list of site ids")
        return body.get("email"), sites
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest('send a form (email=...) or JSON ({"email": ...})')
    try:
        form = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form is not valid UTF-8 form data") from None
    sites = [str(value) for value in form.getall("sites", [])]
    return form.get("email"), sites or None


def _sites(customer: Customer, sites: list[Any] | None) -> list[str] | None:
    if not sites:
        return None
    known = [site.id for site in customer.sites]
    if len(sites) > MAX_SITES:
        raise BadRequest(f"'sites' lists at most {MAX_SITES} site ids")
    for site in sites:
        if not isinstance(site, str) or site not in known:
            raise BadRequest(f"unknown site {site!r} in 'sites'; this page has: {', '.join(known)}")
    return list(sites)


async def subscribe(request: web.Request) -> web.Response:
    customer, notify, info, now = _target(request)
    if not notify.subscribing:
        return _page(request, info, 503, "Not available", "Subscriptions are not available.")
    limiter = request.app[LIMITER]
    client = client_key(request.remote)
    if not limiter.allow(client, now):
        response = _page(
            request, info, 429, "Too many requests", "Too many requests: try again later."
        )
        response.headers["Retry-After"] = str(limiter.retry_after(client, now))
        return response
    try:
        email_value, site_values = await _fields(request)
        try:
            email = parse_email(email_value)
        except ValueError as error:
            raise BadRequest(str(error)) from None
        sites = _sites(customer, site_values)
    except BadRequest as error:
        if not _wants_html(request):
            raise
        return _page(request, info, 400, "Not subscribed", f"Not subscribed: {error}.")
    await notify.subscriptions.request(info, email, sites, now)
    return _page(
        request, info, 202, "Check your inbox",
        "If the address can receive mail, a message with a link to confirm your "
        "subscription is on its way. Nothing else is sent until you follow it.",
    )  # fmt: skip


async def confirm(request: web.Request) -> web.Response:
    customer, notify, info, now = _target(request)
    row = await notify.subscriptions.confirm(customer.id, request.match_info["token"], now)
    if row is None or row.status != "confirmed":
        return _page(
            request, info, 404, "Link not valid",
            "This link is not valid (it may have been used to unsubscribe). "
            "Subscribe again on the status page.",
        )  # fmt: skip
    return _page(
        request, info, 200, "Subscribed",
        f"You will get an e-mail for each update on {info.title}. Every message has a "
        "link to unsubscribe.",
    )  # fmt: skip


async def unsubscribe(request: web.Request) -> web.Response:
    customer, notify, info, now = _target(request)
    row = await notify.subscriptions.unsubscribe(customer.id, request.match_info["token"], now)
    if row is None:
        return _page(request, info, 404, "Link not valid", "This link is not valid.")
    return _page(
        request, info, 200, "Unsubscribed",
        f"This address will get no more messages about {info.title}.",
    )  # fmt: skip


def add_routes(app: web.Application) -> None:
    app[LIMITER] = RateLimiter(LIMIT, PER)
    app.router.add_post(f"/status/{SLUG}/subscribe", subscribe)
    app.router.add_get(f"/status/{SLUG}/confirm/{TOKEN}", confirm)
    app.router.add_get(f"/status/{SLUG}/unsubscribe/{TOKEN}", unsubscribe)
    app.router.add_post(f"/status/{SLUG}/unsubscribe/{TOKEN}", unsubscribe)
