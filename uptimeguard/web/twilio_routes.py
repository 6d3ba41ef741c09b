"""Twilio's webhooks: inbound SMS, a call's TwiML, its keypress, delivery status.

Every route refuses with 403, before reading anything else, a request whose
`X-Twilio-Signature` does not verify against TWILIO_AUTH_TOKEN and PUBLIC_URL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import MultiDict

from uptimeguard.paging.inbound import Malformed
from uptimeguard.paging.service import PagingService
from uptimeguard.paging.twilio.webhooks import SIGNATURE_HEADER, verified, webhook_url
from uptimeguard.web.context import CONTEXT
from uptimeguard.web.errors import json_error
from uptimeguard.web.inputs import ascii_int, clean_fields

log = logging.getLogger(__name__)

XML = "application/xml"
FORM = "application/x-www-form-urlencoded"
Handler = Callable[[web.Request, PagingService, MultiDict[str]], Awaitable[web.Response]]


def _signed(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def route(request: web.Request) -> web.Response:
        context = request.app[CONTEXT]
        paging: PagingService | None = context.paging
        settings = context.settings
        token = settings.twilio_auth_token
        # Twilio posts form fields, URL-encoded, in UTF-8; anything else is not Twilio's.
        # (`body_exists`, not `can_read_body`: a middleware may have read the body already.)
        if request.body_exists and request.content_type != FORM:
            return json_error(400, f"Twilio posts {FORM}, not {request.content_type}")
        try:
            params = await request.post()
        except (UnicodeDecodeError, ValueError):
            return json_error(400, f"the body is not {FORM} in UTF-8")
        fields: MultiDict[str] = MultiDict((k, v) for k, v in params.items() if isinstance(v, str))
        ok = verified(
            token.get_secret_value() if token else None,
            settings.public_url,
            request.path_qs,
            fields,
            request.headers.get(SIGNATURE_HEADER),
        )
        if not ok:
            log.warning(
                "refused %s: X-Twilio-Signature missing or not valid for %s (check PUBLIC_URL "
                "and TWILIO_AUTH_TOKEN)",
                request.path,
                webhook_url(settings.public_url or "<PUBLIC_URL unset>", request.path_qs),
            )
            return json_error(403, "the Twilio signature is missing or does not verify")
        if paging is None:
            return json_error(503, "paging is not running")
        # Verified as sent; what is read from here on carries no control characters (a NUL
        # would fail PostgreSQL's insert; anything else would reach a page or an SMS).
        return await handler(request, paging, clean_fields(fields))

    return route


# For the other Twilio webhooks (the phone line, `web/reach_routes.py`).
signed = _signed


def _page_id(request: web.Request) -> int:
    text = request.match_info["page_id"]
    number = ascii_int(text)
    if number is None:
        raise web.HTTPNotFound(reason=f"no page {text!r}")
    return number


async def sms(request: web.Request, paging: PagingService, fields: MultiDict[str]) -> web.Response:
    try:
        text = await paging.inbound.sms(fields)
    except Malformed as error:
        return json_error(400, str(error))
    return web.Response(text=text, content_type=XML)


async def voice(
    request: web.Request, paging: PagingService, fields: MultiDict[str]
) -> web.Response:
    number = ascii_int(request.query.get("play", "1"), digits=2) or 1
    answered_by = fields.get("AnsweredBy", "")
    text = await paging.inbound.call(_page_id(request), number, answered_by)
    return web.Response(text=text, content_type=XML)


async def gather(
    request: web.Request, paging: PagingService, fields: MultiDict[str]
) -> web.Response:
    digits, call_sid = fields.get("Digits", ""), fields.get("CallSid", "")
    text = await paging.inbound.keypress(_page_id(request), digits, call_sid)
    return web.Response(text=text, content_type=XML)


async def status(
    request: web.Request, paging: PagingService, fields: MultiDict[str]
) -> web.Response:
    if not await paging.delivery(_page_id(request), fields):
        raise web.HTTPNotFound(reason="no such page")
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/twilio/sms", _signed(sms))
    app.router.add_post("/twilio/voice/{page_id}", _signed(voice))
    app.router.add_post("/twilio/voice/{page_id}/gather", _signed(gather))
    app.router.add_post("/twilio/status/{page_id}", _signed(status))
