"""Naming failures that are hard to provoke on loopback, and the fallback timing path."""

from __future__ import annotations

import errno
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.client_reqrep import ConnectionKey
from probe_helpers import Certs

from uptimeguard.config.models import Expect
from uptimeguard.probe import LocalProbeError, Prober
from uptimeguard.probe.classify import describe_exception
from uptimeguard.probe.tracing import CONNECT, WAIT

KEY = ConnectionKey("www.acme.test", 443, True, True, None, None, None)


def connect_error(code: int, text: str) -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorError(KEY, OSError(code, text))


def test_connect_failures() -> None:
    unreachable = connect_error(errno.EHOSTUNREACH, "No route to host")
    assert describe_exception(unreachable, CONNECT, 10, 10) == (
        "refused",
        "could not connect: No route to host",
    )
    reset = connect_error(errno.ECONNRESET, "Connection reset by peer")
    assert describe_exception(reset, CONNECT, 10, 10) == ("reset", "connection reset by peer")
    slow = connect_error(errno.ETIMEDOUT, "Connection timed out")
    assert describe_exception(slow, CONNECT, 10, 10) == (
        "timeout",
        "timed out after 10s connecting",
    )


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL])
def test_local_exhaustion_is_not_the_sites_fault(code: int) -> None:
    with pytest.raises(LocalProbeError, match="local error"):
        describe_exception(connect_error(code, "Too many open files"), CONNECT, 10, 10)
    with pytest.raises(LocalProbeError):
        describe_exception(OSError(code, "Too many open files"), WAIT, 10, 10)


def test_dns_error_text() -> None:
    error = aiohttp.ClientConnectorDNSError(
        KEY, socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    )
    assert describe_exception(error, CONNECT, 10, 10) == (
        "dns",
        "DNS: www.acme.test: Name or service not known",
    )


def test_long_errors_are_shortened() -> None:
    outcome, error = describe_exception(aiohttp.ClientError("x" * 500), WAIT, 10, 10)
    assert outcome == "reset" and len(error) == 200 and error.endswith("...")


def test_programming_errors_propagate() -> None:
    with pytest.raises(KeyError):
        describe_exception(KeyError("bug"), WAIT, 10, 10)


async def test_without_the_tcp_hook_connect_includes_tls(aiohttp_server, certs: Certs) -> None:
    """If aiohttp stops calling the protocol factory we wrap, TLS is folded into connect and
    the certificate is read from the response's connection while it is open."""

    async def home(request: web.Request) -> web.Response:
        # A body big enough that the connection is still open when the headers arrive.
        return web.Response(text="Welcome" * 100_000)

    app = web.Application()
    app.router.add_get("/", home)
    server = await aiohttp_server(app, ssl=certs.server_context(certs.leaf, certs.leaf_key))
    async with Prober(ssl_context=certs.client_context()) as prober:
        connector = prober._session.connector  # type: ignore[union-attr]
        connector._factory = connector.plain_factory  # type: ignore[union-attr]
        prober._splits_tls = False
        result = await prober.probe(f"https://127.0.0.1:{server.port}/", timeout=2, expect=Expect())
    assert result.outcome == "up"
    assert result.tls is None and result.connect is not None and result.connect > 0
    assert result.tls_expires_at == certs.leaf_not_after
