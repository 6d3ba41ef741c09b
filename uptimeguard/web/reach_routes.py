"""The customer channels' routes: the phone line's Twilio webhooks (signed like the paging
ones, refused with 403 otherwise), callback requests and NPS answers on the status page."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict

from uptimeguard.paging.service import PagingService
from uptimeguard.reach.phone import DIALLED, INBOUND, RECORDING, Mailer, PhoneLine
from uptimeguard.web.context import WebContext
from uptimeguard.web.twilio_routes import XML, signed

PHONE = web.AppKey("phone_line", PhoneLine)


def mailer_of(context: WebContext) -> Mailer | None:
    """The mail outbox, when the daemon runs one."""
    mail = getattr(context, "mail", None)
    outbox: Mailer | None = getattr(mail, "outbox", None)
    return outbox


async def inbound(
    request: web.Request, paging: PagingService, fields: MultiDict[str]
) -> web.Response:
    return web.Response(text=await request.app[PHONE].inbound(fields), content_type=XML)


async def dialled(
    request: web.Request, paging: PagingService, fields: MultiDict[str]
) -> web.Response:
    return web.Response(text=await request.app[PHONE].dialled(fields), content_type=XML)


async def recording(
    request: web.Request, paging: PagingService, fields: MultiDict[str]
) -> web.Response:
    caller = request.query.get("caller", "")
    text = await request.app[PHONE].recorded(fields, caller)
    return web.Response(text=text, content_type=XML)


def add_routes(app: web.Application, context: WebContext) -> None:
    app[PHONE] = PhoneLine(
        context.store,
        context.incidents,
        context.clock,
        context.settings.public_url,
        mailer_of(context),
    )
    app.router.add_post(INBOUND, signed(inbound))
    app.router.add_post(DIALLED, signed(dialled))
    app.router.add_post(RECORDING, signed(recording))
