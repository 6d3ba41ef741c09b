"""`tcp://host:port` checks: the port accepts a connection; optionally a line is sent and the
first line the server sends back must contain `expect.line`.

A line sent gets `\\r\\n` appended. The reply is read up to its first `\\n`, at most
`MAX_LINE` bytes. Outcomes: `dns` (the name does not resolve), `refused`, `timeout`, `reset`
(the connection broke, or closed before a line came), `content` (the line lacks the text, or
is too long), `slow` and `up`, as for HTTP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from datetime import datetime
from time import perf_counter
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver

from uptimeguard.config.models import Expect
from uptimeguard.probe.classify import LOCAL_ERRNOS, connect_failure, short
from uptimeguard.probe.result import LocalProbeError, ProbeResult
from uptimeguard.probe.tracing import CONNECT, DNS

MAX_LINE = 1 << 16
WAIT_LINE = "waiting for a line"


class _Timing:
    __slots__ = ("connect", "dns", "first_byte", "phase", "t0")

    def __init__(self) -> None:
        self.t0 = perf_counter()
        self.phase = DNS
        self.dns: float | None = None
        self.connect: float | None = None
        self.first_byte: float | None = None

    def since(self) -> float:
        return perf_counter() - self.t0


async def probe_tcp(
    url: str,
    resolver: AbstractResolver,
    *,
    send: str | None,
    expect: Expect,
    timeout: float,
    started_at: datetime,
    local_addr: tuple[str, int] | None = None,
) -> ProbeResult:
    """Probe a `tcp://host:port` URL once; a site's misbehaviour is an outcome."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 0
    t = _Timing()
    line: str | None = None
    try:
        async with asyncio.timeout(timeout):
            line = await _talk(resolver, host, port, send, expect, t, local_addr)
        outcome, error = _judge(line, expect, t.since())
    except TimeoutError:
        outcome, error = "timeout", f"timed out after {timeout:g}s {t.phase}"
    except _Failed as failed:
        outcome, error = failed.outcome, failed.error
    except OSError as exc:
        if exc.errno in LOCAL_ERRNOS:
            raise LocalProbeError(f"local error: {exc.strerror or exc}") from exc
        outcome, error = connect_failure(exc, t.phase, timeout)
    return ProbeResult(
        url=url,
        outcome=outcome,
        status_code=None,
        error=error,
        started_at=started_at,
        dns=t.dns,
        connect=t.connect,
        first_byte=t.first_byte,
        total=t.since(),
    )


class _Failed(Exception):
    def __init__(self, outcome: str, error: str) -> None:
        super().__init__(error)
        self.outcome = outcome
        self.error = error


async def _talk(
    resolver: AbstractResolver,
    host: str,
    port: int,
    send: str | None,
    expect: Expect,
    t: _Timing,
    local_addr: tuple[str, int] | None,
) -> str | None:
    addresses = await _addresses(resolver, host, port)
    t.dns = t.since()
    t.phase = CONNECT
    reader, writer = await _connect(addresses, port, local_addr)
    t.connect = t.since() - t.dns
    try:
        if send is not None:
            writer.write(send.encode() + b"\r\n")
            await writer.drain()
        if expect.line is None:
            return None
        t.phase = WAIT_LINE
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as partial:
            if not partial.partial:
                raise _Failed("reset", "connection closed before a line came") from None
            raw = partial.partial  # the last line, without its newline
        except asyncio.LimitOverrunError:
            raise _Failed("content", f"first line longer than {MAX_LINE} bytes") from None
        t.first_byte = t.since()
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")
    finally:
        writer.transport.abort()


async def _addresses(resolver: AbstractResolver, host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        found = await resolver.resolve(host, port, socket.AF_UNSPEC)
    except OSError as error:
        raise _Failed("dns", short(f"DNS: {host}: {error.strerror or error}")) from None
    if not found:
        raise _Failed("dns", f"DNS: {host}: no address")
    return [entry["host"] for entry in found]


async def _connect(
    addresses: list[str], port: int, local_addr: tuple[str, int] | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the first address that accepts; the last error if none does."""
    last: OSError | None = None
    for address in addresses:
        try:
            return await asyncio.open_connection(
                address, port, limit=MAX_LINE, local_addr=local_addr
            )
        except OSError as error:
            if error.errno in LOCAL_ERRNOS:
                raise
            last = error
    assert last is not None
    raise last


def _judge(line: str | None, expect: Expect, total: float) -> tuple[str, str | None]:
    if expect.line is not None and (line is None or expect.line not in line):
        shown = line if line is None or len(line) <= 60 else line[:57] + "..."
        return "content", f"first line {shown!r} does not contain {expect.line!r}"
    limit = expect.max_response.total_seconds() if expect.max_response is not None else None
    if limit is not None and total > limit:
        return "slow", f"took {total:.3f}s, over max_response {limit:g}s"
    return "up", None
