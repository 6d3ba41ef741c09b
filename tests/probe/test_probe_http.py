"""Probes against a well-formed aiohttp server on 127.0.0.1: status, content, speed, redirects,
body limits."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestServer

from uptimeguard.config.models import OUTCOMES, Expect
from uptimeguard.probe import MAX_BODY, USER_AGENT, Prober

DEFAULT = Expect()
BIG = 50 * 1024 * 1024
CHUNK = 64 * 1024


class Site:
    """A test site; its handlers record what they saw."""

    def __init__(self) -> None:
        self.user_agents: list[str] = []
        self.big_sent = 0
        self.big_done = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.home)
        app.router.add_get("/status/{code}", self.status)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/latin1", self.latin1)
        app.router.add_get("/hop/{n}", self.hop)
        app.router.add_get("/loop", self.loop)
        app.router.add_get("/big", self.big)
        app.router.add_get("/bad-gzip", self.bad_gzip)
        app.router.add_get("/big-header", self.big_header)
        return app

    async def home(self, request: web.Request) -> web.Response:
        self.user_agents.append(request.headers.get("User-Agent", ""))
        return web.Response(text="<h1>Welcome to Acme</h1>")

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status page")

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.Response(text="Welcome, eventually")

    async def latin1(self, request: web.Request) -> web.Response:
        body = "<p>Bienvenue à Acme</p>".encode("latin-1")
        return web.Response(body=body, content_type="text/html", charset="iso-8859-1")

    async def hop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return web.Response(text="Welcome after hops")
        raise web.HTTPFound(f"/hop/{n - 1}")

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def big(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(BIG)})
        await response.prepare(request)
        chunk = b"x" * CHUNK
        try:
            while self.big_sent < BIG:
                await response.write(chunk)
                self.big_sent += CHUNK
        except (ConnectionError, RuntimeError):
            pass  # the prober hung up, as it should
        finally:
            self.big_done.set()
        return response

    async def bad_gzip(self, request: web.Request) -> web.Response:
        return web.Response(body=b"this is not gzip", headers={"Content-Encoding": "gzip"})

    async def big_header(self, request: web.Request) -> web.Response:
        return web.Response(text="Welcome", headers={"Content-Security-Policy": "a" * 20_000})


async def serve(aiohttp_server, site: Site) -> TestServer:  # type: ignore[no-untyped-def]
    return await aiohttp_server(site.app())


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def url(server: TestServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


async def test_200_is_up_with_timings_and_a_dict(aiohttp_server, prober: Prober) -> None:
    site = Site()
    server = await serve(aiohttp_server, site)
    result = await prober.probe(url(server, "/"), timeout=5, expect=DEFAULT)

    assert result.outcome == "up"
    assert result.status_code == 200
    assert result.error is None
    assert result.redirects == 0
    assert result.final_url == url(server, "/")
    assert result.body_bytes == len("<h1>Welcome to Acme</h1>")
    assert result.tls is None and result.tls_expires_at is None
    assert result.dns is not None and result.connect is not None
    assert result.first_byte is not None
    assert 0 <= result.dns + result.connect <= result.first_byte <= result.total < 5
    assert site.user_agents == [USER_AGENT]
    assert result.started_at.tzinfo is not None

    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["outcome"] == "up" and data["status_code"] == 200
    assert data["started_at"].endswith("Z")
    assert set(data["timings"]) == {"dns", "connect", "tls", "first_byte", "total"}


async def test_started_at_is_passed_in_or_read_from_the_clock(aiohttp_server) -> None:
    server = await serve(aiohttp_server, Site())
    fixed = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    passed = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    async with Prober(clock=FixedClock(fixed)) as prober:
        from_clock = await prober.probe(url(server, "/"), timeout=5, expect=DEFAULT)
        given = await prober.probe(url(server, "/"), timeout=5, expect=DEFAULT, started_at=passed)
    assert from_clock.started_at == fixed
    assert given.started_at == passed
    assert from_clock.to_dict()["started_at"] == "2026-03-01T12:00:00Z"


async def test_status_outcomes(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())

    async def outcome(code: int, expect: Expect = DEFAULT) -> tuple[str, int | None, str | None]:
        r = await prober.probe(url(server, f"/status/{code}"), timeout=5, expect=expect)
        return r.outcome, r.status_code, r.error

    assert await outcome(404) == ("http_4xx", 404, "HTTP 404 Not Found (expected 200-399)")
    assert await outcome(500) == (
        "http_5xx",
        500,
        "HTTP 500 Internal Server Error (expected 200-399)",
    )
    only_200 = Expect(status=((200, 200),))
    assert await outcome(204, only_200) == ("content", 204, "HTTP 204 No Content (expected 200)")
    assert (await outcome(204))[0] == "up"  # the default 200-399 accepts it
    expect_500 = Expect(status=((500, 500),))
    assert (await outcome(500, expect_500))[0] == "up"
    assert await outcome(200, expect_500) == ("content", 200, "HTTP 200 OK (expected 500)")
    two_ranges = Expect(status=((200, 299), (404, 404)))
    assert (await outcome(404, two_ranges))[0] == "up"
    assert (await outcome(403, two_ranges))[2] == "HTTP 403 Forbidden (expected 200-299,404)"


async def test_body_contains(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    found = await prober.probe(url(server, "/"), timeout=5, expect=Expect(body_contains="Acme"))
    assert found.outcome == "up"

    missing = await prober.probe(
        url(server, "/"), timeout=5, expect=Expect(body_contains="Goodbye")
    )
    assert missing.outcome == "content"
    assert missing.status_code == 200
    assert missing.error == "body does not contain 'Goodbye' (read 24 bytes)"

    # Searched in the charset the page declares as well as in UTF-8.
    latin = await prober.probe(
        url(server, "/latin1"), timeout=5, expect=Expect(body_contains="Bienvenue à")
    )
    assert latin.outcome == "up"


async def test_slow(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    limit = Expect(max_response=timedelta(milliseconds=100))
    result = await prober.probe(url(server, "/slow"), timeout=5, expect=limit)
    assert result.outcome == "slow"
    assert result.status_code == 200
    assert result.total >= 0.3
    assert result.error is not None and "over max_response 0.1s" in result.error

    generous = Expect(max_response=timedelta(seconds=3))
    assert (await prober.probe(url(server, "/slow"), timeout=5, expect=generous)).outcome == "up"


async def test_redirects_are_followed_up_to_ten(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    three = await prober.probe(url(server, "/hop/3"), timeout=5, expect=DEFAULT)
    assert (three.outcome, three.status_code, three.redirects) == ("up", 200, 3)
    assert three.final_url == url(server, "/hop/0")

    ten = await prober.probe(url(server, "/hop/10"), timeout=5, expect=DEFAULT)
    assert (ten.outcome, ten.redirects) == ("up", 10)

    eleven = await prober.probe(url(server, "/hop/11"), timeout=5, expect=DEFAULT)
    assert eleven.outcome == "content"
    assert eleven.error == "too many redirects: more than 10 redirects"
    assert eleven.status_code == 302


async def test_redirect_loop_is_content(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    result = await prober.probe(url(server, "/loop"), timeout=5, expect=DEFAULT)
    assert result.outcome == "content"
    assert result.error == "redirect loop: more than 10 redirects"
    assert result.status_code == 302
    assert result.redirects == 10


async def test_a_50mb_body_is_not_downloaded(aiohttp_server, prober: Prober) -> None:
    site = Site()
    server = await serve(aiohttp_server, site)
    loop = asyncio.get_running_loop()
    began = loop.time()
    result = await prober.probe(
        url(server, "/big"), timeout=10, expect=Expect(body_contains="needle")
    )
    assert loop.time() - began < 2
    assert result.status_code == 200
    assert result.body_bytes == MAX_BODY
    assert result.outcome == "content"  # searched only in the first MiB
    assert "read 1048576 bytes" in (result.error or "")

    await asyncio.wait_for(site.big_done.wait(), 5)
    # Socket buffers on loopback hold a few MB; the rest of the 50 MB was never sent.
    assert site.big_sent < 16 * 1024 * 1024

    quick = await prober.probe(url(server, "/big"), timeout=10, expect=DEFAULT)
    assert quick.outcome == "up" and quick.body_bytes == MAX_BODY


async def test_head_and_other_methods(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    result = await prober.probe(url(server, "/"), method="HEAD", timeout=5, expect=DEFAULT)
    assert (result.outcome, result.status_code, result.body_bytes) == ("up", 200, 0)
    posted = await prober.probe(url(server, "/"), method="POST", timeout=5, expect=DEFAULT)
    assert (posted.outcome, posted.status_code) == ("http_4xx", 405)


async def test_undecodable_body_is_content(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    result = await prober.probe(url(server, "/bad-gzip"), timeout=5, expect=DEFAULT)
    assert result.outcome == "content"
    assert result.error == "body could not be decoded (bad Content-Encoding)"


async def test_large_headers_are_accepted(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    result = await prober.probe(url(server, "/big-header"), timeout=5, expect=DEFAULT)
    assert result.outcome == "up"


async def test_many_probes_at_once(aiohttp_server, prober: Prober) -> None:
    server = await serve(aiohttp_server, Site())
    paths = ["/", "/status/404", "/status/503", "/hop/2"] * 25
    results = await asyncio.gather(
        *(prober.probe(url(server, p), timeout=5, expect=DEFAULT) for p in paths)
    )
    assert [r.outcome for r in results[:4]] == ["up", "http_4xx", "http_5xx", "up"]
    assert [r.outcome for r in results] == [r.outcome for r in results[:4]] * 25
    assert all(r.outcome in OUTCOMES for r in results)
