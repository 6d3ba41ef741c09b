"""The cases a monitor got wrong, each against a raw server on 127.0.0.1 that misbehaves in
exactly that way: false up (a redirect to nowhere, a body that stops short), false down (odd
but working answers a browser reads), and wrong labels."""

from __future__ import annotations

import asyncio

import pytest
from probe_helpers import read_request

from uptimeguard.config.models import Expect
from uptimeguard.probe import Prober

DEFAULT = Expect()
MIB = 1 << 20


def replies(head: bytes, body: bytes = b"", *, then_stall: bool = False):  # type: ignore[no-untyped-def]
    """A handler that reads a request, writes `head` and `body`, then closes or stalls."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(head + body)
        await writer.drain()
        if then_stall:
            await reader.read()  # until the prober hangs up
        writer.close()

    return handler


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_a_redirect_without_location_is_not_up(raw_server, prober: Prober, code) -> None:
    head = f"HTTP/1.1 {code} Moved\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    port = await raw_server(replies(head))
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=3, expect=DEFAULT)
    assert (result.outcome, result.status_code) == ("content", code)
    assert result.error == f"HTTP {code} redirect without a Location header"
    # Asked not to follow redirects, it is still a redirect to nowhere.
    unfollowed = await prober.probe(
        f"http://127.0.0.1:{port}/", timeout=3, expect=DEFAULT, follow_redirects=False
    )
    assert unfollowed.outcome == "content"


async def test_a_body_that_stalls_after_half_is_a_timeout_saying_so(raw_server, prober) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\nConnection: close\r\n\r\n"
    port = await raw_server(replies(head, b"a" * (3 * MIB // 2), then_stall=True))
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=1, expect=DEFAULT)
    assert (result.outcome, result.status_code) == ("timeout", 200)
    assert result.error == "timed out after 1s reading the body (got 1572864 of 3145728 bytes)"
    assert result.body_bytes == 3 * MIB // 2


async def test_a_body_that_closes_short_is_reset_saying_so(raw_server, prober) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\nConnection: close\r\n\r\n"
    port = await raw_server(replies(head, b"a" * (3 * MIB // 2)))
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=3, expect=DEFAULT)
    assert (result.outcome, result.status_code) == ("reset", 200)
    assert result.error == (
        "body stopped short: the connection closed before the body was complete"
        " (got 1572864 of 3145728 bytes)"
    )


async def test_a_chunked_body_that_ends_without_its_last_chunk_is_reset(raw_server, prober) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    port = await raw_server(replies(head, b"5\r\nhello\r\n"))
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=3, expect=DEFAULT)
    assert result.outcome == "reset"
    assert result.error is not None and result.error.startswith("body stopped short")
    assert result.error.endswith("(got 5 bytes)")


async def test_a_body_is_read_to_its_end_beyond_the_first_mib(raw_server, prober) -> None:
    body = b"a" * (3 * MIB) + b"</html>"
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    port = await raw_server(replies(head, body))
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=3, expect=DEFAULT)
    assert (result.outcome, result.body_bytes) == ("up", len(body))
    # Matching looks only at the first MiB.
    late = await prober.probe(
        f"http://127.0.0.1:{port}/", timeout=3, expect=Expect(body_contains="</html>")
    )
    assert late.outcome == "content"
    assert late.error == "body does not contain '</html>' (read 1048576 bytes)"


async def test_reading_stops_at_the_configured_size(raw_server) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n"
    port = await raw_server(replies(head, b"a" * (2 * MIB), then_stall=True))
    async with Prober(max_body=MIB) as small:
        result = await small.probe(f"http://127.0.0.1:{port}/", timeout=3, expect=DEFAULT)
    assert (result.outcome, result.body_bytes) == ("up", MIB)


async def test_128_and_more_header_lines_are_read(raw_server, prober: Prober) -> None:
    lines = b"".join(b"X-Header-%d: value\r\n" % i for i in range(300))
    head = b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 7\r\nConnection: close\r\n\r\n"
    port = await raw_server(replies(head, b"Welcome"))
    result = await prober.probe(
        f"http://127.0.0.1:{port}/", timeout=3, expect=Expect(body_contains="Welcome")
    )
    assert (result.outcome, result.status_code) == ("up", 200)


async def test_a_header_line_over_64_kib_is_read(raw_server, prober: Prober) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Security-Policy: " + b"a" * 70_000 + b"\r\n"
        b"Content-Length: 7\r\nConnection: close\r\n\r\n"
    )
    port = await raw_server(replies(head, b"Welcome"))
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=3, expect=DEFAULT)
    assert (result.outcome, result.status_code) == ("up", 200)


async def test_headers_without_end_are_refused_at_a_bound(raw_server, prober: Prober) -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(1000):
            writer.write(b"X-More: " + b"b" * 1000 + b"\r\n")
            await writer.drain()
        await reader.read()

    port = await raw_server(endless)
    result = await prober.probe(f"http://127.0.0.1:{port}/", timeout=5, expect=DEFAULT)
    assert result.outcome == "reset"
    assert result.error == "invalid HTTP response: response headers over 256 KiB"


async def test_chunked_with_a_content_length_is_read_as_chunked(raw_server, prober) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
    )
    port = await raw_server(replies(head, b"7\r\nWelcome\r\n6\r\n, Acme\r\n0\r\n\r\n"))
    result = await prober.probe(
        f"http://127.0.0.1:{port}/", timeout=3, expect=Expect(body_contains="Welcome, Acme")
    )
    assert (result.outcome, result.body_bytes) == ("up", 13)


@pytest.mark.parametrize(
    ("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304)], ids=["head", "204", "304"]
)
async def test_a_bodyless_reply_that_carries_a_body_is_up(
    raw_server, prober: Prober, method: str, status: int
) -> None:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: 5\r\nConnection: close\r\n\r\n".encode()
    port = await raw_server(replies(head, b"hello"))
    expect = Expect(status=((200, 399),))
    result = await prober.probe(
        f"http://127.0.0.1:{port}/", method=method, timeout=3, expect=expect
    )
    assert (result.outcome, result.status_code, result.body_bytes) == ("up", status, 0)


async def test_an_interim_100_before_the_answer(raw_server, prober: Prober) -> None:
    head = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\n"
    )
    port = await raw_server(replies(head, b"Welcome"))
    result = await prober.probe(
        f"http://127.0.0.1:{port}/", timeout=3, expect=Expect(body_contains="Welcome")
    )
    assert (result.outcome, result.status_code) == ("up", 200)


@pytest.mark.parametrize("close", [True, False], ids=["close", "keep-alive"])
async def test_bytes_past_the_content_length_are_ignored(raw_server, prober, close) -> None:  # type: ignore[no-untyped-def]
    connection = b"Connection: close\r\n" if close else b""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n" + connection + b"\r\n"
    port = await raw_server(replies(head, b"WelcomeGARBAGE AFTER THE BODY"))
    result = await prober.probe(
        f"http://127.0.0.1:{port}/", timeout=3, expect=Expect(body_contains="Welcome")
    )
    assert (result.outcome, result.body_bytes) == ("up", 7)
