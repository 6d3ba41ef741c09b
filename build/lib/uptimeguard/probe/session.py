"""The one place the probes' network clients are built: the resolver and the HTTP session.

Names are resolved by c-ares (`aiohttp.AsyncResolver` over `aiodns`), never in threads: a
lookup that never answers holds no thread, so any number of them cannot slow other probes
(aiohttp's default `ThreadedResolver` shares asyncio's few executor threads, and six hung
lookups stalled every probe). Each lookup has its own bound, `dns_timeout`, inside the probe's
timeout: a name server that never answers is reported as `dns`, not as a probe that ran out of
time.

`local_addr` binds every probe's connections to one local address (one source address per
node); None lets the system choose.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from typing import Any

from aiohttp import AsyncResolver, ClientSession, ClientTimeout, DummyCookieJar
from aiohttp.abc import AbstractResolver, ResolveResult

from uptimeguard.probe.lenient import MAX_HEADER_LINE, MAX_HEADER_LINES
from uptimeguard.probe.tracing import TimedConnector, make_trace_config

DNS_TIMEOUT = 5.0
_NO_TIMEOUT = ClientTimeout()  # all None: the probe's own asyncio.timeout() is the only clock


class BoundedResolver(AbstractResolver):
    """c-ares lookups, each given at most `timeout` seconds.

    `nameservers` are `host` or `host:port` strings; none means the system's
    (/etc/resolv.conf). Names in /etc/hosts resolve as usual. A lookup that gets no answer in
    time raises `OSError` ("no answer from the name server within 5s"), which aiohttp reports
    as a DNS failure.
    """

    def __init__(self, nameservers: Sequence[str] = (), timeout: float = DNS_TIMEOUT) -> None:
        self.timeout = timeout
        self.nameservers = tuple(nameservers)
        # c-ares tries twice (the second try waits twice as long): it gives up at about 1.3 x
        # `timeout`, just after this bound, so the bound's message wins and no query is left
        # behind for long.
        options: dict[str, Any] = {"timeout": max(timeout / 2, 0.05), "tries": 2}
        if self.nameservers:
            options["nameservers"] = list(self.nameservers)
        self._resolver = AsyncResolver(**options)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._resolver.resolve(host, port, family)
        except TimeoutError:
            # A plain OSError: aiohttp passes TimeoutError on as the whole request's timeout.
            raise OSError(
                None, f"no answer from the name server within {self.timeout:g}s"
            ) from None

    async def close(self) -> None:
        await self._resolver.close()


def make_session(
    *,
    limit: int,
    limit_per_host: int,
    ssl_context: ssl.SSLContext | None,
    resolver: AbstractResolver,
    ttl_dns_cache: int | None,
    user_agent: str,
    local_addr: tuple[str, int] | None = None,
) -> tuple[ClientSession, TimedConnector]:
    """The probes' `ClientSession` and its connector.

    Every probe opens its own connection (`force_close`), carries no cookies, and is timed by
    the caller; answers with many or long header lines are read (see `uptimeguard.probe.
    lenient`).
    """
    connector = TimedConnector(
        limit=limit,
        limit_per_host=limit_per_host,
        ssl_context=ssl_context,
        resolver=resolver,
        ttl_dns_cache=ttl_dns_cache,
        local_addr=local_addr,
    )
    session = ClientSession(
        connector=connector,
        trace_configs=[make_trace_config()],
        headers={"User-Agent": user_agent},
        timeout=_NO_TIMEOUT,
        cookie_jar=DummyCookieJar(),
        max_line_size=MAX_HEADER_LINE,
        max_field_size=MAX_HEADER_LINE,
        max_headers=MAX_HEADER_LINES,
    )
    return session, connector
