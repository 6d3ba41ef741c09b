"""`Prober`: one shared aiohttp session that probes URLs and classifies what it finds.

Network I/O only: no scheduling, no storage, no decision beyond naming one probe's outcome.

Choices for a monitor rather than a browser:

- `force_close=True`: every probe opens its own connection, as a visitor to a distinct site
  would, so connect and TLS are measured each time and a server that stopped accepting
  connections is noticed. No keep-alive sockets are held between probes.
- No cookie jar (`DummyCookieJar`): probes do not carry state from one probe to the next. A
  site that sets a cookie and redirects to itself until it sees it will show a redirect loop.
- DNS answers are cached for `ttl_dns_cache` seconds (aiohttp ignores the record's own TTL);
  pass None to resolve on every probe. A failed lookup is never cached.
- No aiohttp timeouts: one `asyncio.timeout(timeout)` covers queueing, DNS, connect, TLS,
  headers, redirects and body, so a probe never outlives its timeout.
- Headers of up to 64 KiB per line are accepted (aiohttp's 8 KiB limit would call big but
  valid CSP or cookie headers broken).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from datetime import UTC, datetime
from time import perf_counter
from types import TracebackType
from typing import Any

from aiohttp import ClientResponse, ClientSession, ClientTimeout, DummyCookieJar, TooManyRedirects
from aiohttp.abc import AbstractResolver

from uptimeguard.clock import Clock, SystemClock
from uptimeguard.config.models import Expect
from uptimeguard.probe.classify import describe_exception, describe_status
from uptimeguard.probe.result import ProbeResult
from uptimeguard.probe.tracing import BODY, CURRENT, ProbeState, TimedConnector, make_trace_config

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # 1 MiB: read no more of any body
MAX_REDIRECTS = 10
USER_AGENT = "uptimeguard/0.1"
MAX_HEADER = 1 << 16
_NO_TIMEOUT = ClientTimeout()  # all None: asyncio.timeout() in probe() is the only clock


class Prober:
    """Probes URLs over one shared `aiohttp.ClientSession`.

    Use as `async with Prober() as prober:` or call `start()` and `close()`. `limit` caps the
    connections open at once (a probe holds one at a time); a probe that waits for a slot
    does not count the wait, and one that waits its whole timeout raises `LocalProbeError`.
    Keep the caller's own concurrency at or below `limit`. `ssl_context` replaces the system
    trust store (tests pass one trusting a local CA); certificates are always verified.
    `resolver` replaces aiohttp's default resolver (the threaded `getaddrinfo` one unless
    `aiodns` is installed). `clock` gives `started_at` when the caller passes none.
    `local_addr` binds every probe's connections to that local (address, port), so they
    leave from a chosen vantage point (`PROBE_SOURCE_ADDRESS`; port 0 picks any).
    """

    def __init__(
        self,
        *,
        limit: int = 1000,
        limit_per_host: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        resolver: AbstractResolver | None = None,
        ttl_dns_cache: int | None = 300,
        user_agent: str = USER_AGENT,
        clock: Clock | None = None,
        max_body: int = MAX_BODY,
        max_redirects: int = MAX_REDIRECTS,
        local_addr: tuple[str, int] | None = None,
    ) -> None:
        self._local_addr = local_addr
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._ssl_context = ssl_context
        self._resolver = resolver
        self._ttl_dns_cache = ttl_dns_cache
        self._user_agent = user_agent
        self._clock = clock if clock is not None else SystemClock()
        self._max_body = max_body
        self._max_redirects = max_redirects
        self._session: ClientSession | None = None
        self._splits_tls = True

    async def start(self) -> None:
        """Open the session (idempotent)."""
        if self._session is not None:
            return
        connector = TimedConnector(
            limit=self._limit,
            limit_per_host=self._limit_per_host,
            ssl_context=self._ssl_context,
            resolver=self._resolver,
            ttl_dns_cache=self._ttl_dns_cache,
            local_addr=self._local_addr,
        )
        self._splits_tls = connector.splits_tls
        if not self._splits_tls:
            log.warning(
                "this aiohttp hides when TCP connects: probes report TLS time inside `connect`"
                " and read certificate expiry only from connections still open"
            )
        self._session = ClientSession(
            connector=connector,
            trace_configs=[make_trace_config()],
            headers={"User-Agent": self._user_agent},
            timeout=_NO_TIMEOUT,
            cookie_jar=DummyCookieJar(),
            max_line_size=MAX_HEADER,
            max_field_size=MAX_HEADER,
        )

    async def close(self) -> None:
        """Close the session and every connection still open (idempotent)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> Prober:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def probe(
        self,
        url: str,
        *,
        method: str = "GET",
        timeout: float,
        expect: Expect,
        started_at: datetime | None = None,
    ) -> ProbeResult:
        """Probe `url` once and classify the answer; see `ProbeResult` for the fields.

        Redirects are followed (at most `max_redirects`), at most `max_body` bytes of the
        body are read and searched for `expect.body_contains`, certificates are verified, and
        the whole probe gets `timeout` seconds. A site's misbehaviour is an outcome, never an
        exception. Raises `LocalProbeError` when this machine could not make the probe,
        `ValueError` for a URL that is not http(s), and `RuntimeError` before `start()`.
        """
        session = self._session
        if session is None:
            raise RuntimeError("Prober.start() has not been awaited")
        if started_at is None:
            started_at = self._clock.now()
        st = ProbeState(perf_counter())
        token = CURRENT.set(st)
        failure: tuple[str, str] | None = None
        try:
            async with asyncio.timeout(timeout) as deadline:
                st.deadline = deadline
                await self._fetch(session, url, method, expect, st)
            total = perf_counter() - st.t0
        except Exception as exc:
            total = perf_counter() - st.t0
            failure = describe_exception(exc, st.phase, timeout, self._max_redirects)
            if isinstance(exc, TooManyRedirects) and exc.history and st.answer is None:
                # Report the last redirect: its status, where it pointed from, how many.
                st.answer = last = _Answer(exc.history[-1], None, url)
                last.redirects = len(exc.history) - 1
                last.final_url = str(exc.history[-1].url)
        finally:
            CURRENT.reset(token)
            st.deadline = None

        # An answer may have come before a failure (a reset or timeout mid-body): keep it.
        answer: _Answer | None = st.answer
        outcome, error = failure if failure is not None else _judge(answer, expect, total)
        return ProbeResult(
            url=url,
            outcome=outcome,
            status_code=answer.status if answer is not None else None,
            error=error,
            started_at=started_at,
            dns=st.dns,
            connect=st.connect,
            tls=st.tls,
            first_byte=answer.first_byte if answer is not None else None,
            total=total,
            tls_expires_at=_not_after(st.ssl_object, st.peercert),
            final_url=answer.final_url if answer is not None else None,
            body_bytes=answer.body_bytes if answer is not None else 0,
            redirects=answer.redirects if answer is not None else 0,
        )

    async def _fetch(
        self, session: ClientSession, url: str, method: str, expect: Expect, st: ProbeState
    ) -> None:
        resp = await session.request(
            method,
            url,
            max_redirects=self._max_redirects + 1,  # aiohttp stops at the Nth, not after it
            trace_request_ctx=st,
        )
        try:
            st.answer = answer = _Answer(resp, perf_counter() - st.t0, url)
            if not self._splits_tls and resp.connection is not None:
                st.ssl_object, st.peercert = _ssl_object_of(resp), None
            if not expect.status_ok(resp.status):
                return  # the status decides; the body does not matter
            st.phase = BODY
            needle = expect.body_contains
            buffer = bytearray() if needle else None
            content = resp.content
            limit = self._max_body
            while answer.body_bytes < limit:
                chunk = await content.read(limit - answer.body_bytes)
                if not chunk:
                    break
                answer.body_bytes += len(chunk)
                if buffer is not None:
                    buffer += chunk
            if needle and buffer is not None:
                answer.found = _contains(buffer, needle, resp.charset)
        finally:
            resp.close()  # with force_close this closes the connection; unread body dropped


class _Answer:
    """What the final response said (before classification)."""

    __slots__ = (
        "body_bytes",
        "final_url",
        "first_byte",
        "found",
        "reason",
        "redirects",
        "status",
    )

    def __init__(self, resp: ClientResponse, first_byte: float | None, url: str) -> None:
        self.status = resp.status
        self.reason = resp.reason
        self.first_byte = first_byte
        self.redirects = len(resp.history)
        self.final_url = str(resp.url) if self.redirects else url
        self.body_bytes = 0
        self.found: bool | None = None


def _judge(answer: _Answer | None, expect: Expect, total: float) -> tuple[str, str | None]:
    """The outcome of a probe that got an answer: status, then content, then speed."""
    assert answer is not None  # no failure means _fetch got a response
    if not expect.status_ok(answer.status):
        return describe_status(answer.status, answer.reason, expect)
    if answer.found is False:
        read = answer.body_bytes
        return "content", f"body does not contain {expect.body_contains!r} (read {read} bytes)"
    limit = expect.max_response.total_seconds() if expect.max_response is not None else None
    if limit is not None and total > limit:
        return "slow", f"took {total:.3f}s, over max_response {limit:g}s"
    return "up", None


def _contains(body: bytearray, needle: str, charset: str | None) -> bool:
    """Whether `needle` is in the body: as UTF-8 bytes, or in the declared charset."""
    if needle.encode() in body:
        return True
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii", "ascii"):
        try:
            return needle in body.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            return False
    return False


def _ssl_object_of(resp: ClientResponse) -> ssl.SSLObject | None:
    connection = resp.connection
    transport = connection.transport if connection is not None else None
    return transport.get_extra_info("ssl_object") if transport is not None else None


def _not_after(
    ssl_object: ssl.SSLObject | None, peercert: dict[str, Any] | None = None
) -> datetime | None:
    """The peer certificate's notAfter, aware UTC; None without a verified certificate.

    `peercert` is the certificate asyncio already decoded when the handshake completed (the
    transport's `peercert`); decoding it again costs as much as a tenth of a TLS probe.
    """
    if ssl_object is None:
        return None
    cert = peercert
    if cert is None:
        try:
            cert = ssl_object.getpeercert()
        except (ValueError, ssl.SSLError):  # handshake not complete, or connection gone
            return None
    not_after = cert.get("notAfter") if cert else None
    if not isinstance(not_after, str):
        return None
    return _parse_cert_time(not_after)


@functools.lru_cache(maxsize=4096)
def _parse_cert_time(not_after: str) -> datetime:
    """A certificate's time text as aware UTC (sites share few distinct expiry times)."""
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
