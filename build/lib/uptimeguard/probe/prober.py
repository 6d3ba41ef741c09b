"""`Prober`: one shared aiohttp session that probes URLs and classifies what it finds.

Network I/O only: no scheduling, no storage, no decision beyond naming one probe's outcome.

Choices for a monitor rather than a browser:

- `force_close=True`: every probe opens its own connection, as a visitor to a distinct site
  would, so connect and TLS are measured each time and a server that stopped accepting
  connections is noticed. No keep-alive sockets are held between probes.
- No cookie jar (`DummyCookieJar`): probes do not carry state from one probe to the next. A
  site that sets a cookie and redirects to itself until it sees it will show a redirect loop.
- Names are resolved by c-ares with their own timeout (`uptimeguard.probe.session`). DNS
  answers are cached for `ttl_dns_cache` seconds (aiohttp ignores the record's own TTL);
  pass None to resolve on every probe. A failed lookup is never cached.
- No aiohttp timeouts: one `asyncio.timeout(timeout)` covers queueing, DNS, connect, TLS,
  headers, redirects and body, so a probe never outlives its timeout.
- The body is read to its end (at most `max_body` bytes): a page that stalls or stops short
  fails, as it would for a visitor. Expectations look at its first MiB.
- Odd but working answers are read as browsers read them: many or long header lines, chunked
  with a Content-Length, a body after a HEAD reply (`uptimeguard.probe.lenient`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Sequence
from datetime import datetime
from time import perf_counter
from types import TracebackType

from aiohttp import ClientSession, TooManyRedirects
from aiohttp.abc import AbstractResolver

from uptimeguard.clock import Clock, SystemClock
from uptimeguard.config.models import BasicAuth, Expect, Site
from uptimeguard.probe.answer import Answer, judge, not_after, read_answer, ssl_object_of
from uptimeguard.probe.classify import describe_exception
from uptimeguard.probe.dns import DnsProber
from uptimeguard.probe.result import ProbeResult
from uptimeguard.probe.session import DNS_TIMEOUT, BoundedResolver, make_session
from uptimeguard.probe.tcp import probe_tcp
from uptimeguard.probe.tracing import BODY, CURRENT, ProbeState

log = logging.getLogger(__name__)

MAX_BODY = 10 << 20  # 10 MiB: read no more of any body (the `max_body` default)
MAX_REDIRECTS = 10
USER_AGENT = "uptimeguard/0.1"


class Prober:
    """Probes sites over one shared `aiohttp.ClientSession` (http, https), plain TCP
    connections (`tcp://host:port`) and DNS queries (`dns://name`).

    Use as `async with Prober() as prober:` or call `start()` and `close()`. `limit` caps the
    connections open at once (a probe holds one at a time); a probe that waits for a slot
    does not count the wait, and one that waits its whole timeout raises `LocalProbeError`.
    Keep the caller's own concurrency at or below `limit`. `ssl_context` replaces the system
    trust store (tests pass one trusting a local CA); certificates are always verified.

    Names are resolved by c-ares, asking `dns_servers` (`host` or `host:port`; none: the
    system's), each lookup bounded by `dns_timeout` seconds; `resolver` replaces that resolver
    outright (it is then not closed here). `local_addr` binds outgoing connections. `clock`
    gives `started_at` when the caller passes none.
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
        dns_servers: Sequence[str] = (),
        dns_timeout: float = DNS_TIMEOUT,
        local_addr: tuple[str, int] | None = None,
    ) -> None:
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._ssl_context = ssl_context
        self._given_resolver = resolver
        self._ttl_dns_cache = ttl_dns_cache
        self._user_agent = user_agent
        self._clock = clock if clock is not None else SystemClock()
        self._max_body = max_body
        self._max_redirects = max_redirects
        self._dns_servers = tuple(dns_servers)
        self._dns_timeout = dns_timeout
        self._local_addr = local_addr
        self._session: ClientSession | None = None
        self._resolver: AbstractResolver | None = None
        self._own_resolver: BoundedResolver | None = None
        self._dns: DnsProber | None = None
        self._splits_tls = True

    async def start(self) -> None:
        """Open the session (idempotent)."""
        if self._session is not None:
            return
        resolver = self._given_resolver
        if resolver is None:
            resolver = self._own_resolver = BoundedResolver(self._dns_servers, self._dns_timeout)
        self._resolver = resolver
        self._dns = DnsProber(self._dns_servers, self._dns_timeout)
        self._session, connector = make_session(
            limit=self._limit,
            limit_per_host=self._limit_per_host,
            ssl_context=self._ssl_context,
            resolver=resolver,
            ttl_dns_cache=self._ttl_dns_cache,
            user_agent=self._user_agent,
            local_addr=self._local_addr,
        )
        self._splits_tls = connector.splits_tls
        if not self._splits_tls:
            log.warning(
                "this aiohttp hides when TCP connects: probes report TLS time inside `connect`"
                " and read certificate expiry only from connections still open"
            )

    async def close(self) -> None:
        """Close the session, the resolvers and every connection still open (idempotent)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        own, self._own_resolver = self._own_resolver, None
        if own is not None:
            await own.close()
        dns, self._dns = self._dns, None
        if dns is not None:
            await dns.close()

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

    async def check(
        self, site: Site, *, timeout: float, started_at: datetime | None = None
    ) -> ProbeResult:
        """Probe `site` as its checks-file entry says: HTTP, TCP or DNS by its URL's scheme."""
        if self._session is None or self._resolver is None or self._dns is None:
            raise RuntimeError("Prober.start() has not been awaited")
        if started_at is None:
            started_at = self._clock.now()
        kind = site.kind
        if kind == "tcp":
            return await probe_tcp(
                site.url,
                self._resolver,
                send=site.send,
                expect=site.expect,
                timeout=timeout,
                started_at=started_at,
                local_addr=self._local_addr,
            )
        if kind == "dns":
            return await self._dns.probe(site, timeout=timeout, started_at=started_at)
        return await self.probe(
            site.url,
            method=site.method,
            timeout=timeout,
            expect=site.expect,
            started_at=started_at,
            follow_redirects=site.follow_redirects,
            headers=site.headers,
            body=site.body,
            basic_auth=site.basic_auth,
        )

    async def probe(
        self,
        url: str,
        *,
        method: str = "GET",
        timeout: float,
        expect: Expect,
        started_at: datetime | None = None,
        follow_redirects: bool = True,
        headers: Sequence[tuple[str, str]] = (),
        body: str | None = None,
        basic_auth: BasicAuth | None = None,
    ) -> ProbeResult:
        """Probe an http(s) `url` once and classify the answer; see `ProbeResult`.

        Redirects are followed (at most `max_redirects`) unless `follow_redirects` is false,
        the body is read to its end (at most `max_body` bytes) and its first MiB judged
        against `expect`, certificates are verified, and the whole probe gets `timeout`
        seconds. `headers`, `body` and `basic_auth` go with the request.
        A site's misbehaviour is an outcome, never an exception. Raises `LocalProbeError`
        when this machine could not make the probe, `ValueError` for a URL that is not
        http(s), and `RuntimeError` before `start()`.
        """
        session = self._session
        if session is None:
            raise RuntimeError("Prober.start() has not been awaited")
        if started_at is None:
            started_at = self._clock.now()
        st = ProbeState(perf_counter())
        token = CURRENT.set(st)
        failure: tuple[str, str] | None = None
        request = _request_options(headers, body, basic_auth)
        try:
            async with asyncio.timeout(timeout) as deadline:
                st.deadline = deadline
                await self._fetch(session, url, method, expect, st, follow_redirects, request)
            total = perf_counter() - st.t0
        except Exception as exc:
            total = perf_counter() - st.t0
            failure = describe_exception(exc, st.phase, timeout, self._max_redirects)
            if st.phase == BODY and st.answer is not None and failure[0] in ("reset", "timeout"):
                failure = failure[0], failure[1] + st.answer.progress()
            if isinstance(exc, TooManyRedirects) and exc.history and st.answer is None:
                # Report the last redirect: its status, where it pointed from, how many.
                st.answer = last = Answer(exc.history[-1], None, url)
                last.redirects = len(exc.history) - 1
                last.final_url = str(exc.history[-1].url)
        finally:
            CURRENT.reset(token)
            st.deadline = None

        # An answer may have come before a failure (a reset or timeout mid-body): keep it.
        answer: Answer | None = st.answer
        outcome, error = failure if failure is not None else judge(answer, expect, total)
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
            tls_expires_at=not_after(st.ssl_object, st.peercert),
            final_url=answer.final_url if answer is not None else None,
            body_bytes=answer.body_bytes if answer is not None else 0,
            redirects=answer.redirects if answer is not None else 0,
        )

    async def _fetch(
        self,
        session: ClientSession,
        url: str,
        method: str,
        expect: Expect,
        st: ProbeState,
        follow_redirects: bool,
        request: dict[str, object],
    ) -> None:
        resp = await session.request(
            method,
            url,
            allow_redirects=follow_redirects,
            max_redirects=self._max_redirects + 1,  # aiohttp stops at the Nth, not after it
            trace_request_ctx=st,
            **request,  # type: ignore[arg-type]
        )
        try:
            if not self._splits_tls and resp.connection is not None:
                st.ssl_object, st.peercert = ssl_object_of(resp), None
            await read_answer(resp, st, url, expect, self._max_body)
        finally:
            resp.close()  # with force_close this closes the connection; unread body dropped


def _request_options(
    headers: Sequence[tuple[str, str]], body: str | None, basic_auth: BasicAuth | None
) -> dict[str, object]:
    """`session.request` keyword arguments for what a site sends besides the URL."""
    options: dict[str, object] = {}
    sent = dict(headers)
    if basic_auth is not None:
        pair = f"{basic_auth.username}:{basic_auth.password}".encode()
        sent["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    if sent:
        options["headers"] = sent
    if body is not None:
        options["data"] = body.encode()
    return options
