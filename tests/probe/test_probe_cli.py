"""`uptimeguard probe`: the text and JSON it prints and its exit codes."""

from __future__ import annotations

import json
import re

from aiohttp import web
from probe_helpers import Certs, free_port

from uptimeguard.probe import Prober, run_probe_command

LINE = re.compile(
    r"^up 200 total=\d+\.\d{3}s dns=\d+\.\d{3}s connect=\d+\.\d{3}s tls=(-|\d+\.\d{3}s) "
    r"first_byte=\d+\.\d{3}s tls_expires=(-|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$"
)


def app() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text="Welcome")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="down for maintenance")

    application = web.Application()
    application.router.add_get("/", home)
    application.router.add_get("/moved", moved)
    application.router.add_get("/broken", broken)
    return application


async def test_up_prints_one_line_and_exits_0(aiohttp_server) -> None:
    server = await aiohttp_server(app())
    code, text = await run_probe_command(f"http://127.0.0.1:{server.port}/", 5, False)
    assert code == 0
    assert LINE.match(text), text
    assert " tls=- " in text and text.endswith("tls_expires=-")


async def test_redirect_and_failure_add_lines(aiohttp_server) -> None:
    server = await aiohttp_server(app())
    code, text = await run_probe_command(f"http://127.0.0.1:{server.port}/moved", 5, False)
    assert code == 0
    first, second = text.split("\n")
    assert LINE.match(first)
    assert second == f"final_url: http://127.0.0.1:{server.port}/ (1 redirects)"

    code, text = await run_probe_command(f"http://127.0.0.1:{server.port}/broken", 5, False)
    assert code == 1
    assert text.startswith("http_5xx 503 total=")
    assert text.split("\n")[1] == "error: HTTP 503 Service Unavailable (expected 200-399)"


async def test_refused_exits_1() -> None:
    code, text = await run_probe_command(f"http://127.0.0.1:{free_port()}/", 2, False)
    assert code == 1
    assert text.startswith("refused - total=")
    assert "connect=- tls=- first_byte=- tls_expires=-" in text
    assert text.endswith("\nerror: connection refused")


async def test_json(aiohttp_server) -> None:
    server = await aiohttp_server(app())
    code, text = await run_probe_command(f"http://127.0.0.1:{server.port}/", 5, True)
    assert code == 0
    data = json.loads(text)
    assert (data["outcome"], data["status_code"], data["error"]) == ("up", 200, None)
    assert data["timings"]["total"] > 0


async def test_tls_expiry_is_printed(aiohttp_server, certs: Certs) -> None:
    server = await aiohttp_server(app(), ssl=certs.server_context(certs.leaf, certs.leaf_key))
    async with Prober(ssl_context=certs.client_context()) as prober:
        code, text = await run_probe_command(
            f"https://127.0.0.1:{server.port}/", 5, False, prober=prober
        )
    assert code == 0
    assert LINE.match(text), text
    assert text.endswith(f"tls_expires={certs.leaf_not_after:%Y-%m-%dT%H:%M:%SZ}")


async def test_bad_input_exits_2() -> None:
    assert await run_probe_command("ftp://example.invalid/", 5, False) == (
        2,
        "uptimeguard probe: bad URL 'ftp://example.invalid/': use http:// or https:// and a "
        "host (e.g. https://www.example.com/), tcp://host:port or dns://name",
    )
    code, text = await run_probe_command("www.acme.example", 5, False)
    assert code == 2 and "use http:// or https:// and a host" in text
    code, text = await run_probe_command("http://127.0.0.1/", 0, False)
    assert (code, text) == (2, "uptimeguard probe: --timeout must be more than 0s, not 0s")
