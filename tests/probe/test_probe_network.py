"""Probes against misbehaving servers on 127.0.0.1: silence, resets, garbage, refused ports,
names that do not resolve, and the prober's own connection limit."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from aiohttp import web
from probe_helpers import MapResolver, free_port, read_request

from uptimeguard.config.models import Expect
from uptimeguard.probe import LocalProbeError, Prober

DEFAULT = Expect()


async def test_a_server_that_never_answers_times_out(raw_server, prober: Prober) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the prober hangs up

    port = await raw_server(silent)
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=0.5, expect=DEFAULT)
    assert result.outcome == "timeout"
    assert result.error == "timed out after 0.5s waiting for first byte"
    assert result.status_code is None
    assert 0.5 <= result.total < 1.0
    assert result.connect is not None and result.first_byte is None


async def test_a_body_that_stalls_times_out_and_keeps_the_status(raw_server, prober) -> None:
    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
        await writer.drain()
        await reader.read()

    port = await raw_server(stalls)
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=0.5, expect=DEFAULT)
    assert result.outcome == "timeout"
    assert result.error == "timed out after 0.5s reading the body (got 10 of 1000 bytes)"
    assert (result.status_code, result.body_bytes) == (200, 10)
    assert result.first_byte is not None


async def test_a_reset_connection(raw_server, prober: Prober) -> None:
    async def resets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST, not FIN

    port = await raw_server(resets)
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=2, expect=DEFAULT)
    assert result.outcome == "reset"
    assert result.error in (
        "connection reset by peer",
        "server closed the connection without answering",
    )


async def test_a_server_that_closes_without_answering(raw_server, prober: Prober) -> None:
    async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    port = await raw_server(hangs_up)
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=2, expect=DEFAULT)
    assert result.outcome == "reset"
    assert result.error == "server closed the connection without answering"


async def test_a_truncated_body_is_reset(raw_server, prober: Prober) -> None:
    async def truncates(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this much")
        await writer.drain()
        writer.close()

    port = await raw_server(truncates)
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=2, expect=DEFAULT)
    assert result.outcome == "reset"
    assert result.error == (
        "body stopped short: the connection closed before the body was complete"
        " (got 14 of 1000 bytes)"
    )
    assert result.status_code == 200


async def test_an_answer_that_is_not_http(raw_server, prober: Prober) -> None:
    async def babbles(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        await reader.read()

    port = await raw_server(babbles)
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=2, expect=DEFAULT)
    assert result.outcome == "reset"
    assert result.error is not None and result.error.startswith("invalid HTTP response")
    assert "\n" not in result.error and "SSH-2.0" in result.error


async def test_a_closed_port_is_refused(prober: Prober) -> None:
    result = await prober.probe(f"http://127.0.0.1:{free_port()}/", timeout=2, expect=DEFAULT)
    assert (result.outcome, result.error) == ("refused", "connection refused")
    assert result.connect is None and result.total < 1


async def test_an_unknown_host_fails_dns_fast(prober: Prober) -> None:
    # The prober asks a fake name server on 127.0.0.1, which answers NXDOMAIN.
    result = await prober.probe("http://nonexistent.invalid/", timeout=3, expect=DEFAULT)
    assert result.outcome == "dns"
    assert result.error is not None and result.error.startswith("DNS: nonexistent.invalid: ")
    assert result.total < 2


async def test_an_injected_resolver(aiohttp_server) -> None:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", home)
    server = await aiohttp_server(app)
    resolver = MapResolver({"www.acme.test"})
    www, gone = f"http://www.acme.test:{server.port}/", f"http://gone.acme.test:{server.port}/"
    async with Prober(resolver=resolver) as prober:
        up = await prober.probe(www, timeout=2, expect=DEFAULT)
        missing = await prober.probe(gone, timeout=2, expect=DEFAULT)
        again = await prober.probe(www, timeout=2, expect=DEFAULT)
    assert up.outcome == "up" and up.dns is not None and up.dns > 0
    assert missing.outcome == "dns"
    assert missing.error == "DNS: gone.acme.test: Name or service not known"
    assert again.outcome == "up"
    assert resolver.calls == ["www.acme.test", "gone.acme.test"]  # the second came from cache


async def test_waiting_for_a_connection_slot_is_not_the_sites_time(aiohttp_server) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", slow)
    server = await aiohttp_server(app)
    target = f"http://127.0.0.1:{server.port}/"
    async with Prober(limit=1) as prober:
        first, second = await asyncio.gather(
            prober.probe(target, timeout=0.5, expect=DEFAULT),
            prober.probe(target, timeout=0.5, expect=DEFAULT),
        )
    # The second waited ~0.3 s for the only slot, then got its full 0.5 s.
    assert (first.outcome, second.outcome) == ("up", "up")
    assert second.total < 0.45


async def test_no_slot_within_the_timeout_is_a_local_error(raw_server) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    port = await raw_server(silent)
    target = f"http://127.0.0.1:{port}/"
    async with Prober(limit=1) as prober:
        holder = asyncio.create_task(prober.probe(target, timeout=1.0, expect=DEFAULT))
        await asyncio.sleep(0.05)
        with pytest.raises(LocalProbeError, match=r"no free connection slot within 0\.2s"):
            await prober.probe(target, timeout=0.2, expect=DEFAULT)
        assert (await holder).outcome == "timeout"


async def test_misuse_raises(prober: Prober) -> None:
    with pytest.raises(ValueError, match="not an http"):
        await prober.probe("ftp://127.0.0.1/", timeout=1, expect=DEFAULT)
    with pytest.raises(RuntimeError, match="start"):
        await Prober().probe("http://127.0.0.1/", timeout=1, expect=DEFAULT)
