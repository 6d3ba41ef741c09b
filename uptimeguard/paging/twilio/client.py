"""The one place that calls Twilio: an SMS through `messages.create`, a call through
`calls.create`. Everything else in paging sees only `Sender` and `TransportError`."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any, Protocol

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from uptimeguard.paging.twilio.errors import TransportError, from_network, from_twilio

REQUEST_SECONDS = 15.0
# The library logs every request and its headers at INFO; outcomes are logged by paging.
_HTTP_LOG = logging.getLogger("uptimeguard.paging.twilio.http")
_HTTP_LOG.setLevel(logging.WARNING)
RING_SECONDS = 30
MACHINE_DETECTION = "Enable"  # the answer as soon as known; we leave no voicemail
# Set by `_call` for the request under way: did its headers reach the socket? After that a
# timeout is ambiguous (Twilio may have taken the request), before it is not.
_WRITTEN: ContextVar[list[bool] | None] = ContextVar("twilio_request_written", default=None)


async def _on_headers_sent(
    _session: aiohttp.ClientSession, _context: SimpleNamespace, _params: Any
) -> None:
    written = _WRITTEN.get()
    if written is not None:
        written[0] = True


def _trace_config() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(_on_headers_sent)
    return trace


class Sender(Protocol):
    """Hands pages to a carrier. Each call returns the carrier's id for the message or call,
    or raises `TransportError`."""

    async def send_sms(self, to: str, body: str, status_callback: str | None) -> str: ...

    async def place_call(
        self, to: str, *, url: str | None, twiml: str | None, status_callback: str | None
    ) -> str: ...

    async def close(self) -> None: ...


class TwilioSender:
    """`Sender` on the twilio library's async client. Build it inside the running loop."""

    def __init__(self, account_sid: str, auth_token: str, from_: str, api_base: str) -> None:
        self._http = AsyncTwilioHttpClient(logger=_HTTP_LOG, trace_configs=[_trace_config()])
        self._client = Client(account_sid, auth_token, http_client=self._http)
        # Messages and Calls live on the `api` domain; an egress proxy or a test double keeps
        # Twilio's paths under another base (the TWILIO_API_BASE setting).
        self._client.api.base_url = api_base.rstrip("/")
        self._from = from_

    async def send_sms(self, to: str, body: str, status_callback: str | None) -> str:
        extra: dict[str, Any] = {"status_callback": status_callback} if status_callback else {}
        message = await self._call(
            self._client.messages.create_async(to=to, from_=self._from, body=body, **extra)
        )
        return str(message.sid)

    async def place_call(
        self, to: str, *, url: str | None, twiml: str | None, status_callback: str | None
    ) -> str:
        extra: dict[str, Any] = {"twiml": twiml}
        if url:
            # Answering-machine detection: Twilio says who answered (`AnsweredBy`) when it
            # fetches `url` and in the status callback, so voicemail never counts as reached.
            extra = {"url": url, "method": "POST", "machine_detection": MACHINE_DETECTION}
        if status_callback:
            extra["status_callback"] = status_callback
            extra["status_callback_method"] = "POST"
        call = await self._call(
            self._client.calls.create_async(to=to, from_=self._from, timeout=RING_SECONDS, **extra)
        )
        return str(call.sid)

    async def _call(self, request: Any) -> Any:
        written = [False]
        token = _WRITTEN.set(written)
        try:
            async with asyncio.timeout(REQUEST_SECONDS):
                return await request
        except TwilioException as error:
            raise from_twilio(error) from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise from_network(error, written=written[0]) from error
        except ValueError as error:  # a 2xx answer that is not the JSON Twilio sends
            # Twilio said yes (2xx): the page went, so it must not be sent again.
            raise TransportError(
                f"Twilio answered with something unreadable: {error}", maybe_taken=True
            ) from error
        finally:
            _WRITTEN.reset(token)

    async def close(self) -> None:
        await self._http.close()


def is_twilio_configured(sid: str | None, token: str | None, from_: str | None) -> bool:
    return bool(sid and token and from_)
