"""The check kinds beyond a plain GET: redirects not followed, body and JSON expectations,
what the request sends, and `tcp://` checks, each against a server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import logging
import re

import pytest
from aiohttp import web
from probe_helpers import free_port

from uptimeguard.config.models import BasicAuth, Expect, JsonExpect, Site
from uptimeguard.probe import Prober


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/echo", self.echo)
        app.router.add_get("/moved", self.moved)
        app.router.add_get("/health", self.health)
        app.router.add_get("/page", self.page)
        return app

    async def echo(self, request: web.Request) -> web.Response:
        self.seen.append((request.method, dict(request.headers), await request.read()))
        return web.Response(text="ok")

    async def moved(self, request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/page")

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "ok", "checks": [{"name": "db", "up": True, "lag": 3}], "odd key": None}
        )

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text="<h1>Welcome to Acme</h1><p>Build 2026.12</p>")


@pytest.fixture
async def base(aiohttp_server) -> tuple[str, Recorder]:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    server = await aiohttp_server(recorder.app())
    return f"http://127.0.0.1:{server.port}", recorder


async def test_follow_redirects_false_sees_the_redirect(base, prober: Prober) -> None:
    root, _ = base
    site = Site(
        id="s", url=f"{root}/moved", follow_redirects=False, expect=Expect(status=((301, 301),))
    )
    result = await prober.check(site, timeout=3)
    assert (result.outcome, result.status_code, result.redirects) == ("up", 301, 0)
    followed = await prober.check(Site(id="s", url=f"{root}/moved"), timeout=3)
    assert (followed.outcome, followed.status_code, followed.redirects) == ("up", 200, 1)
    moved = Site(id="s", url=f"{root}/page", follow_redirects=False, expect=site.expect)
    assert (await prober.check(moved, timeout=3)).outcome == "content"  # 200, not 301


@pytest.mark.parametrize(
    ("expect", "outcome", "error"),
    [
        (Expect(body_not_contains="Error"), "up", None),
        (Expect(body_not_contains="Build"), "content", "body contains 'Build'"),
        (Expect(body_matches=re.compile(r"Build \d{4}\.\d+")), "up", None),
        (
            Expect(body_matches=re.compile(r"Build \d+-\d+")),
            "content",
            "body does not match 'Build \\\\d+-\\\\d+' (read 44 bytes)",
        ),
    ],
)
async def test_body_expectations(base, prober: Prober, expect, outcome, error) -> None:  # type: ignore[no-untyped-def]
    root, _ = base
    result = await prober.check(Site(id="s", url=f"{root}/page", expect=expect), timeout=3)
    assert (result.outcome, result.error) == (outcome, error)


def path(text: str, *steps: str | int, equals: str | None = None) -> JsonExpect:
    return JsonExpect(text, steps, equals)


@pytest.mark.parametrize(
    ("wanted", "error"),
    [
        ((path("$.status", "status", equals="ok"),), None),
        ((path("$.checks[0].up", "checks", 0, "up", equals="true"),), None),
        ((path("$.checks[0].lag", "checks", 0, "lag", equals="3"),), None),
        ((path("$['odd key']", "odd key", equals="null"),), None),
        ((path("$.checks[-1].name", "checks", -1, "name"),), None),
        ((path("$.status", "status", equals="down"),), "JSON $.status is \"ok\", expected 'down'"),
        ((path("$.checks[3]", "checks", 3),), "JSON has no $.checks[3]"),
        ((path("$.status.x", "status", "x"),), "JSON has no $.status.x"),
    ],
)
async def test_json_expectations(base, prober: Prober, wanted, error) -> None:  # type: ignore[no-untyped-def]
    root, _ = base
    result = await prober.check(
        Site(id="s", url=f"{root}/health", expect=Expect(json=wanted)), timeout=3
    )
    assert result.error == error
    assert result.outcome == ("up" if error is None else "content")


async def test_a_json_expectation_on_a_page_that_is_not_json(base, prober: Prober) -> None:
    root, _ = base
    site = Site(id="s", url=f"{root}/page", expect=Expect(json=(path("$.a", "a"),)))
    result = await prober.check(site, timeout=3)
    assert result.outcome == "content"
    assert result.error is not None and result.error.startswith("body is not JSON")


async def test_headers_body_and_basic_auth_are_sent(base, prober: Prober, caplog) -> None:
    root, recorder = base
    caplog.set_level(logging.DEBUG)
    site = Site(
        id="s",
        url=f"{root}/echo",
        method="POST",
        headers=(("X-Token", "abc"), ("Content-Type", "application/json")),
        body='{"ping": 1}',
        basic_auth=BasicAuth("monitor", "s3cret-pw"),
    )
    result = await prober.check(site, timeout=3)
    assert result.outcome == "up", result.error
    [(method, headers, body)] = recorder.seen
    assert (method, body) == ("POST", b'{"ping": 1}')
    assert headers["X-Token"] == "abc" and headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"monitor:s3cret-pw").decode()
    assert "s3cret-pw" not in repr(site) and "s3cret-pw" not in caplog.text
    assert "s3cret-pw" not in str(result.to_dict())


# -- tcp:// ----------------------------------------------------------------------------------


async def serve_tcp(handler) -> tuple[asyncio.Server, int]:  # type: ignore[no-untyped-def]
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_tcp_connect_and_a_line_exchanged(prober: Prober) -> None:
    async def pong(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(b"+PONG\r\n" if line == b"PING\r\n" else b"-ERR unknown\r\n")
        await writer.drain()
        writer.close()

    server, port = await serve_tcp(pong)
    try:
        connect = await prober.check(Site(id="t", url=f"tcp://127.0.0.1:{port}"), timeout=3)
        ping = Site(id="t", url=f"tcp://localhost:{port}", send="PING", expect=Expect(line="+PONG"))
        good = await prober.check(ping, timeout=3)
        wrong = Site(id="t", url=f"tcp://127.0.0.1:{port}", send="HELLO", expect=ping.expect)
        bad = await prober.check(wrong, timeout=3)
    finally:
        server.close()
    assert (connect.outcome, connect.status_code, connect.error) == ("up", None, None)
    assert connect.connect is not None
    assert (good.outcome, good.error) == ("up", None)
    assert good.first_byte is not None
    assert (bad.outcome, bad.error) == (
        "content",
        "first line '-ERR unknown' does not contain '+PONG'",
    )


async def test_tcp_failures(prober: Prober) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    quiet, quiet_port = await serve_tcp(silent)
    closer, closer_port = await serve_tcp(hangs_up)
    banner = Expect(line="SSH-2.0")
    try:
        refused = await prober.check(Site(id="t", url=f"tcp://127.0.0.1:{free_port()}"), timeout=3)
        waiting = await prober.check(
            Site(id="t", url=f"tcp://127.0.0.1:{quiet_port}", expect=banner), timeout=0.5
        )
        closed = await prober.check(
            Site(id="t", url=f"tcp://127.0.0.1:{closer_port}", expect=banner), timeout=3
        )
        unknown = await prober.check(Site(id="t", url="tcp://nowhere.test:22"), timeout=3)
    finally:
        quiet.close()
        closer.close()
    assert (refused.outcome, refused.error) == ("refused", "connection refused")
    assert (waiting.outcome, waiting.error) == (
        "timeout",
        "timed out after 0.5s waiting for a line",
    )
    assert (closed.outcome, closed.error) == ("reset", "connection closed before a line came")
    assert unknown.outcome == "dns"
