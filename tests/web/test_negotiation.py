"""Accept-Encoding q-values and If-None-Match, as the public pages, the feed and /metrics read
them (RFC 9110 12.5.3 and 13.1.2)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from uptimeguard.web.negotiate import accepts_gzip, not_modified


def request(**headers: str):  # type: ignore[no-untyped-def]
    names = {"accept_encoding": "Accept-Encoding", "if_none_match": "If-None-Match"}
    return make_mocked_request(
        "GET", "/", headers=CIMultiDict({names[k]: v for k, v in headers.items()})
    )


@pytest.mark.parametrize(
    ("header", "gzip"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("GZIP;Q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("deflate, gzip;q=0", False),
        ("*, gzip;q=0", False),
        ("*;q=0", False),
        ("identity", False),
        ("br", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding(header: str, gzip: bool):
    assert accepts_gzip(request(accept_encoding=header)) is gzip


def test_no_accept_encoding_is_no_gzip():
    assert accepts_gzip(make_mocked_request("GET", "/")) is False


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ("*", True),
        ('W/"abc"', True),  # If-None-Match compares weakly
        ('"x", "abc"', True),
        ('"x"', False),
        ('"abcd"', False),
        ('"ab"', False),
    ],
)
def test_if_none_match(header: str, matches: bool):
    assert not_modified(request(if_none_match=header), '"abc"') is matches
    assert not_modified(make_mocked_request("GET", "/"), '"abc"') is False


async def test_metrics_gzip_follows_q_values():
    from types import SimpleNamespace

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from uptimeguard.metrics import Metrics
    from uptimeguard.web.context import CONTEXT
    from uptimeguard.web.server import metrics

    app = web.Application()
    app[CONTEXT] = SimpleNamespace(metrics=Metrics())  # type: ignore[assignment]
    app.router.add_get("/metrics", metrics)
    async with TestClient(TestServer(app)) as client:
        for header, encoding in (("gzip", "gzip"), ("gzip;q=0", None), ("*;q=0", None)):
            async with client.get("/metrics", headers={"Accept-Encoding": header}) as response:
                assert response.status == 200
                assert response.headers.get("Content-Encoding") == encoding, header
                assert "uptimeguard_" in await response.text()
