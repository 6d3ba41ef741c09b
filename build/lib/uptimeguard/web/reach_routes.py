"""The customer channels' routes: the phone line's Twilio webhooks (signed like the paging
ones, refused with 403 otherwise), callback requests and NPS answers on the status page."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict

from uptimeguard.mail.outbox import MailOutbox
from uptimeguard.paging.service import PagingService
from uptimeguard.reach import nps
from uptimeguard.reach.callbacks import CallbackError, Callbacks, Limits, parse_request
from uptimeguard.reach.phone import DIALLED, INBOUND, RECORDING, PhoneLine
from uptimeguard.reach.surveys import ALREADY, ANSWERED, NOT_YET, Outcome, Surveys
from uptimeguard.status.templates import environment, stylesheet, when
from uptimeguard.web.context import CONTEXT, WebContext
from uptimeguard.web.status_routes import HEADERS, PAGES, SLUG
from uptimeguard.web.twilio_routes import XML, signed

PHONE = web.AppKey("phone_line", PhoneLine)
CALLBACKS = web.AppKey("callbacks", Callbacks)
SURVEYS = web.AppKey("surveys", Surveys)
TOO_MANY = "Too many requests. Please try again later."


def mailer_of(context: WebContext) -> MailOutbox | None:
    """The mail outbox, when the daemon runs one."""
    mail = getattr(context, "mail", None)
    outbox: MailOutbox | None = getattr(mail, "outbox", None)
    return outbox


# -- the phone line -------------------------------------------------------------------------


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


# -- public pages ---------------------------------------------------------------------------


def public_page(
    request: web.Request,
    status: int,
    heading: str,
    lines: list[str],
    headers: dict[str, str] | None = None,
    **extra: object,
) -> web.Response:
    """A small page in the status page's style (and under its security headers)."""
    slug = request.match_info["slug"]
    customer = request.app[PAGES].customer(slug)
    title = "Status"
    if customer is not None and customer.status_page is not None:
        title = customer.status_page.title or f"{customer.name} status"
    html = (
        environment()
        .get_template("notice.html")
        .render(
            page_title=title,
            page_path=f"/status/{slug}",
            heading=heading,
            lines=lines,
            css=stylesheet(),
            **extra,
        )
    )
    security: dict[str, str] = request.app[HEADERS]
    return web.Response(
        status=status,
        text=html,
        content_type="text/html",
        headers={**security, "Cache-Control": "no-store", **(headers or {})},
    )


def client_address(request: web.Request) -> str:
    """The client, as the rate limits count it: the connection's address, or the last hop a
    trusted proxy (TRUSTED_PROXIES) says it forwarded for."""
    remote = request.remote or ""
    if remote in request.app[CONTEXT].settings.trusted_proxy_addresses:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
        hops = [h for h in hops if h]
        if hops:
            return hops[-1]
    return remote


async def callback(request: web.Request) -> web.Response:
    """`POST /status/{slug}/callback`: a callback request from the status page form."""
    customer = request.app[PAGES].customer(request.match_info["slug"])
    if customer is None:
        raise web.HTTPNotFound(text="no such status page\n")
    callbacks = request.app[CALLBACKS]
    now = request.app[CONTEXT].clock.now()
    address = client_address(request)
    if not callbacks.limits.address.allow(address, now):
        wait = str(callbacks.limits.address.retry_after(address, now))
        return public_page(request, 429, "Not sent", [TOO_MANY], {"Retry-After": wait})
    try:
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        wanted = parse_request(fields)
    except (ValueError, UnicodeDecodeError) as error:
        text = str(error) if isinstance(error, CallbackError) else "the form could not be read"
        return public_page(request, 400, "Not sent", [f"Please check the form: {text}."])
    phone_key = wanted.phone.removeprefix("+")
    if not callbacks.limits.phone.allow(phone_key, now):
        wait = str(callbacks.limits.phone.retry_after(phone_key, now))
        return public_page(request, 429, "Not sent", [TOO_MANY], {"Retry-After": wait})
    await callbacks.request(customer, wanted, now)
    return public_page(request, 200, "Thank you", ["We will call you back."])


# -- NPS answers -----------------------------------------------------------------------------


def _customer_id(request: web.Request) -> str:
    customer = request.app[PAGES].customer(request.match_info["slug"])
    if customer is None:
        raise web.HTTPNotFound(text="no such status page\n")
    return customer.id


def _no_survey(request: web.Request) -> web.Response:
    lines = ["This survey link is not known. It may have been mistyped."]
    return public_page(request, 404, "Survey not found", lines)


def _answer_page(request: web.Request, outcome: Outcome, status: int = 200) -> web.Response:
    survey = outcome.survey
    assert survey is not None and survey.score is not None and survey.answered_at is not None
    if outcome.kind == ANSWERED:
        heading, lines = "Thank you", [f"Your answer: {survey.score} out of 10."]
    else:
        heading = "You have already answered"
        lines = [
            f"Your answer, {survey.score} out of 10 on {when(survey.answered_at)}, is kept: "
            "this click changed nothing."
        ]
    action = None
    if survey.comment is None:
        action = f"/status/{request.match_info['slug']}/nps/{survey.token}"
    else:
        lines.append("We have your comment too. Thank you.")
    return public_page(
        request, status, heading, lines, comment_action=action, max_comment=nps.MAX_COMMENT
    )


async def nps_answer(request: web.Request) -> web.Response:
    """`GET /status/{slug}/nps/{token}/{score}`: one click, one answer per survey."""
    customer = _customer_id(request)
    score = int(request.match_info["score"])
    if score not in nps.SCORES:
        return _no_survey(request)
    surveys = request.app[SURVEYS]
    now = request.app[CONTEXT].clock.now()
    outcome = await surveys.answer(customer, request.match_info["token"], score, now)
    if outcome.survey is None:
        return _no_survey(request)
    return _answer_page(request, outcome)


async def nps_head(request: web.Request) -> web.Response:
    """Mail scanners fetch links with HEAD: answer without answering the survey."""
    _customer_id(request)
    return web.Response(status=200, content_type="text/html")


async def nps_comment(request: web.Request) -> web.Response:
    """`POST /status/{slug}/nps/{token}`: the optional comment, once."""
    customer = _customer_id(request)
    surveys = request.app[SURVEYS]
    if not await surveys.known(customer, request.match_info["token"]):
        return _no_survey(request)
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError):
        return public_page(request, 400, "Not sent", ["The form could not be read."])
    text = form.get("comment", "")
    text = text.strip() if isinstance(text, str) else ""
    if (
        not text
        or len(text) > nps.MAX_COMMENT
        or any(ord(c) < 32 and c not in "\n\r\t" for c in text)
    ):
        why = f"write a comment of at most {nps.MAX_COMMENT} characters"
        return public_page(request, 400, "Not sent", [f"Please check the form: {why}."])
    outcome = await surveys.comment(customer, request.match_info["token"], text)
    if outcome.survey is None:
        return _no_survey(request)
    if outcome.kind == NOT_YET:
        return public_page(request, 400, "Not sent", ["Please choose a score first."])
    if outcome.kind == ALREADY:
        lines = ["We already have your comment; it is kept as it was."]
        return public_page(request, 200, "Already sent", lines)
    return public_page(request, 200, "Thank you", ["Thank you for your comment."])


def add_routes(app: web.Application, context: WebContext) -> None:
    """The phone line's routes; `add_public_routes` adds the status-page ones."""
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


def add_public_routes(app: web.Application, context: WebContext) -> None:
    """Callback requests and NPS answers under /status/{slug}/: after the status routes,
    whose page cache and security headers they share. The surveys' sender listens to
    incident changes from here on."""
    settings = context.settings
    limits = Limits(settings.callback_limit_per_address, settings.callback_limit_per_phone)
    app[CALLBACKS] = Callbacks(context.incidents, mailer_of(context), limits)
    mail = getattr(context, "mail", None)
    surveys = Surveys(
        context.store,
        lambda: context.incidents.config,
        getattr(mail, "outbox", None),
        settings.public_url,
        context.metrics,
    )
    app[SURVEYS] = surveys
    context.incidents.subscribe(surveys.on_incident)
    app.router.add_post(f"/status/{SLUG}/callback", callback)
    survey = f"/status/{SLUG}/nps/{{token:[A-Za-z0-9_-]{{1,64}}}}"
    app.router.add_get(f"{survey}/{{score:[0-9]{{1,2}}}}", nps_answer, allow_head=False)
    app.router.add_route("HEAD", f"{survey}/{{score:[0-9]{{1,2}}}}", nps_head)
    app.router.add_post(survey, nps_comment)
