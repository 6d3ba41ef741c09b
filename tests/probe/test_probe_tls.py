"""HTTPS probes against aiohttp servers on 127.0.0.1 with certificates made by `openssl`."""

from __future__ import annotations

import asyncio
import ssl
import warnings

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from probe_helpers import Certs, MapResolver

from uptimeguard.config.models import Expect
from uptimeguard.probe import Prober

DEFAULT = Expect()


def welcome_app() -> web.Application:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text="Welcome")

    app = web.Application()
    app.router.add_get("/", home)
    return app


async def tls_server(aiohttp_server, certs: Certs, *, self_signed: bool = False) -> TestServer:  # type: ignore[no-untyped-def]
    if self_signed:
        context = certs.server_context(certs.self_signed, certs.self_signed_key)
    else:
        context = certs.server_context(certs.leaf, certs.leaf_key)
    return await aiohttp_server(welcome_app(), ssl=context)


async def test_a_self_signed_certificate_fails_tls(aiohttp_server, certs, prober) -> None:
    server = await tls_server(aiohttp_server, certs, self_signed=True)
    result = await prober.probe(f"https://127.0.0.1:{server.port}/", timeout=2, expect=DEFAULT)
    assert result.outcome == "tls"
    assert result.error is not None
    assert result.error.startswith("TLS: certificate verify failed: self")
    assert "signed certificate" in result.error
    assert result.tls_expires_at is None and result.status_code is None


async def test_an_unknown_issuer_fails_tls(aiohttp_server, certs, prober) -> None:
    server = await tls_server(aiohttp_server, certs)
    result = await prober.probe(f"https://127.0.0.1:{server.port}/", timeout=2, expect=DEFAULT)
    assert result.outcome == "tls"
    assert result.error == "TLS: certificate verify failed: unable to get local issuer certificate"


async def test_a_trusted_certificate_is_up_with_its_expiry(aiohttp_server, certs: Certs) -> None:
    server = await tls_server(aiohttp_server, certs)
    async with Prober(ssl_context=certs.client_context()) as prober:
        result = await prober.probe(
            f"https://127.0.0.1:{server.port}/", timeout=2, expect=Expect(body_contains="Welcome")
        )
    assert result.outcome == "up", result.error
    assert result.tls_expires_at == certs.leaf_not_after
    assert result.dns is not None and result.connect is not None and result.tls is not None
    assert result.first_byte is not None
    assert result.tls > 0
    assert result.dns + result.connect + result.tls <= result.first_byte <= result.total
    assert result.to_dict()["tls_expires_at"] == certs.leaf_not_after.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_name_the_certificate_does_not_cover(aiohttp_server, certs: Certs) -> None:
    server = await tls_server(aiohttp_server, certs)
    async with Prober(
        ssl_context=certs.client_context(), resolver=MapResolver({"www.acme.test"})
    ) as prober:
        result = await prober.probe(
            f"https://www.acme.test:{server.port}/", timeout=2, expect=DEFAULT
        )
    assert result.outcome == "tls"
    assert result.error is not None
    assert result.error.startswith("TLS: certificate verify failed: Hostname mismatch")


async def test_https_to_a_plain_http_port(aiohttp_server, prober: Prober) -> None:
    server = await aiohttp_server(welcome_app())
    result = await prober.probe(f"https://127.0.0.1:{server.port}/", timeout=2, expect=DEFAULT)
    assert result.outcome == "tls"
    assert result.error == "TLS: wrong version number"


async def test_a_redirect_from_http_to_https(aiohttp_server, certs: Certs) -> None:
    secure = await tls_server(aiohttp_server, certs)

    async def to_https(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(f"https://127.0.0.1:{secure.port}/")

    app = web.Application()
    app.router.add_get("/", to_https)
    plain = await aiohttp_server(app)
    async with Prober(ssl_context=certs.client_context()) as prober:
        result = await prober.probe(f"http://127.0.0.1:{plain.port}/", timeout=2, expect=DEFAULT)
    assert (result.outcome, result.redirects) == ("up", 1)
    assert result.final_url == f"https://127.0.0.1:{secure.port}/"
    assert result.tls is not None
    assert result.tls_expires_at == certs.leaf_not_after


def tls10_only_context(certs: Certs) -> ssl.SSLContext:
    """A server context that speaks TLS 1.0 and nothing newer (skips where OpenSSL cannot)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as error:
        pytest.skip(f"this OpenSSL cannot serve TLS 1.0: {error}")
    context.load_cert_chain(certs.leaf, certs.leaf_key)
    return context


async def test_a_tls_1_0_only_server_is_tls_not_reset(raw_server, certs: Certs) -> None:
    context = tls10_only_context(certs)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Prober(ssl_context=certs.client_context()) as prober:
            result = await prober.probe(f"https://127.0.0.1:{port}/", timeout=3, expect=DEFAULT)
    finally:
        server.close()
    assert result.outcome == "tls", result.error
    assert result.error is not None and result.error.startswith("TLS: ")
    assert "TLS 1.2" in result.error or "version" in result.error
