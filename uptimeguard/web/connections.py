"""The web server's connections: at most a fixed number, the longest idle closed first.

Idle and slow clients are timed out by aiohttp itself (`keepalive_timeout`: a connection
must finish a request's head within it of opening, or of its last response, else it is
closed, which is what stops a slowloris sending one header byte at a time). What aiohttp
does not do is cap them: every accepted socket costs a file descriptor, and with the
process's limit reached the probes and the database cannot open files either. So the
listener is served by `ConnectionGuard`: at its limit a new connection closes the one that
has gone longest without starting a request (never one with a request in flight), and only
when every connection is busy is the new one refused with a 503. A fresh client (a health
check) always gets in; a flood of idle sockets only pushes out its own oldest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 28\r\n\r\ntoo many connections, retry\n"
)


class RateLimitedLog:
    """Logs a recurring condition once per `every` seconds, with how often it recurred."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, message: str) -> bool:
        """Log `message` unless `key` was logged less than `every` seconds ago."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        again = self._suppressed.pop(key, 0)
        suffix = ""
        if again and last is not None:
            suffix = f" ({again} more times in the last {now - last:.0f} s)"
        self._last[key] = now
        log.warning("%s%s", message, suffix)
        return True


class GuardedHandler(RequestHandler):
    """aiohttp's connection handler, known to the guard: it tells the guard when it goes,
    and counts its requests in flight (set by `track_requests`)."""

    def __init__(self, guard: ConnectionGuard, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.guard = guard
        self.in_flight = 0
        self.evicted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.evicted:  # closed by the guard between accept and now: close it for real
            self.force_close()

    def evict(self) -> None:
        self.evicted = True
        self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.guard.forget(self)
        super().connection_lost(exc)


class _Refused(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(REFUSAL)
        transport.close()


class ConnectionGuard:
    """The listener's protocol factory: at most `limit` connections (see the module's text)."""

    def __init__(
        self,
        server: web.Server,
        limit: int,
        handler_args: dict[str, Any],
        notices: RateLimitedLog | None = None,
    ) -> None:
        self.limit = limit
        self.evicted = 0
        self.refused = 0
        self._server = server
        self._args = handler_args
        self._notices = notices or RateLimitedLog()
        # Live connections, the longest since its last request first.
        self._live: OrderedDict[GuardedHandler, None] = OrderedDict()

    @property
    def open(self) -> int:
        return len(self._live)

    def __call__(self) -> asyncio.Protocol:
        if len(self._live) >= self.limit and not self._evict_one():
            self.refused += 1
            self._notices.warning(
                "refused",
                f"web server at its limit of {self.limit} connections, every one busy: "
                "refusing new ones (503)",
            )
            return _Refused()
        handler = GuardedHandler(self, self._server, loop=asyncio.get_running_loop(), **self._args)
        self._live[handler] = None
        return handler

    def _evict_one(self) -> bool:
        victim = next((h for h in self._live if h.in_flight == 0), None)
        if victim is None:
            return False
        del self._live[victim]
        victim.evict()
        self.evicted += 1
        self._notices.warning(
            "evicted",
            f"web server at its limit of {self.limit} connections: closing the longest idle "
            "for each new one (idle clients, or HTTP_MAX_CONNECTIONS too low)",
        )
        return True

    def touch(self, handler: GuardedHandler) -> None:
        """A request started on `handler`: it goes to the back of the eviction queue."""
        if handler in self._live:
            self._live.move_to_end(handler)

    def forget(self, handler: GuardedHandler) -> None:
        self._live.pop(handler, None)


@web.middleware
async def track_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Marks a connection busy while its request runs, so the guard never closes it."""
    protocol = request.protocol
    if not isinstance(protocol, GuardedHandler):
        return await handler(request)
    protocol.guard.touch(protocol)
    protocol.in_flight += 1
    try:
        return await handler(request)
    finally:
        protocol.in_flight -= 1


def quiet_accept_errors(
    loop: asyncio.AbstractEventLoop, notices: RateLimitedLog
) -> Callable[[], None]:
    """Have the loop log "out of system resource" on accept (too many open files) once a
    minute, not once per attempt with a traceback; returns what puts the old handler back."""
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            error = context.get("exception")
            notices.warning(
                "accept",
                f"cannot accept connections: {getattr(error, 'strerror', None) or error} "
                "(the open-files limit); retrying each second",
            )
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
    return lambda: loop.set_exception_handler(previous)


def body_deadline(seconds: float) -> Middleware:
    """Middleware: a request's body must arrive within `seconds` of its head (a client that
    trickles it gets 408 and the connection closed). Multipart bodies are left to the route,
    which streams them."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.can_read_body and request.content_type != "multipart/form-data":
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                response = web.json_response(
                    {"error": f"request body not received within {seconds:g} s"}, status=408
                )
                response.force_close()
                return response
        return await handler(request)

    return middleware
