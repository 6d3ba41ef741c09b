"""GET /status/{slug} and /status/{slug}.json: what customers see, and nothing internal."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from html_validator import html_errors, vnu_missing
from status_support import SECRETS

from uptimeguard.web.context import CONTEXT
from uptimeguard.web.status_routes import PAGES

Client = tuple[TestClient, dict[str, int]]

# Every key the public JSON may contain. A new key must be added here on purpose.
PUBLIC_KEYS = {
    "page", "slug", "title", "customer", "generated_at", "status", "indicator", "description",
    "sites", "id", "name", "url", "state", "state_text", "last_checked_at",
    "uptime_90d_percent", "uptime_span", "days", "date", "uptime_percent", "down_seconds",
    "maintenance_seconds", "incidents", "open", "resolved_recently", "site", "site_name",
    "started_at", "resolved_at", "duration_seconds", "updates", "at", "message", "history",
    "first_day", "time_zone",
    # Telling customers: the maintenance section, the subscription form, the feed.
    "maintenance", "scheduled", "recurring", "text", "ends_at", "starts_at", "starts", "ends",
    "subscribe", "available", "feed", "time_zone_name",
}  # fmt: skip


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


class _Text(HTMLParser):
    """The page's text, as a screen reader or a browser without CSS would read it."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


async def test_the_page_and_its_json_leak_nothing_internal(status_client: Client):
    client, ids = status_client
    async with client.get("/status/acme.json") as response:
        assert response.status == 200
        raw = await response.text()
    async with client.get("/status/acme") as response:
        html = await response.text()
    for secret in SECRETS:
        assert secret not in raw, f"{secret!r} in the JSON"
        assert secret not in html, f"{secret!r} in the HTML"
    body = json.loads(raw)
    assert keys_of(body) <= PUBLIC_KEYS, keys_of(body) - PUBLIC_KEYS
    urls = {site["id"]: site["url"] for site in body["sites"]}
    assert urls == {
        "www": "https://www.acme.example/shop",
        "backoffice": "https://admin.acme.example:8443/",  # private: host only
        "api": "https://api.acme.example/v1/health",
    }
    # Another customer's incident is not on this page.
    listed = [i["id"] for part in body["incidents"].values() for i in part]
    assert ids["other"] not in listed


async def test_what_a_customer_sees_in_json(status_client: Client, clock: Any):
    client, ids = status_client
    async with client.get("/status/acme.json") as response:
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        body = await response.json()
    assert body["page"] == {
        "slug": "acme", "title": "Acme service status", "customer": "Acme Ltd",
        "time_zone": "Europe/London", "time_zone_name": "UK time",  # the plan calendar's
    }  # fmt: skip
    assert body["status"] == {"indicator": "down", "description": "Acme website is down"}
    states = {site["id"]: site["state"] for site in body["sites"]}
    assert states == {"www": "down", "backoffice": "operational", "api": "operational"}

    (incident,) = body["incidents"]["open"]
    assert incident["id"] == ids["www"]
    assert incident["title"] == "Acme website is not responding"
    assert incident["status"] == "investigating"
    assert incident["duration_seconds"] == 3 * 3600 - 5 * 60
    assert [(u["status"], u["message"]) for u in incident["updates"]] == [
        ("update", "We found the cause and are fixing it."),
        ("investigating", "An engineer is working on it."),
        ("investigating", "We are investigating: Acme website is not responding."),
    ]
    resolved = body["incidents"]["resolved_recently"]
    assert [i["id"] for i in resolved] == [ids["backoffice"]]  # the 20-day-old one is too old
    assert resolved[0]["title"] == "Reported problem with Acme back office"
    assert resolved[0]["updates"][0] == {
        "at": resolved[0]["resolved_at"],
        "status": "resolved",
        "message": "This incident has been resolved.",
    }

    www = body["sites"][0]
    assert len(www["days"]) == 90 and www["days"][-1]["date"] == "2026-11-24"
    assert www["days"][0]["uptime_percent"] is None  # before any data
    # Today (10:00 less the rollup's minute): results from 00:00, down since 07:00.
    today = www["days"][-1]
    assert today["down_seconds"] == 2 * 3600 + 59 * 60
    assert today["incidents"] == [{"id": ids["www"], "title": "Acme website is not responding"}]
    assert body["sites"][2]["days"][-20 - 1]["incidents"][0]["id"] == ids["old"]


async def test_what_a_customer_sees_in_html(status_client: Client):
    client, ids = status_client
    async with client.get("/status/acme") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        html = await response.text()
    assert "<script" not in html  # readable without JavaScript: there is none
    text = text_of(html)
    assert "Acme service status" in text
    assert "Acme website is down" in text
    assert f"Incident #{ids['www']}: open for 2 h 55 min" in text
    assert "We found the cause and are fixing it." in text
    assert "Acme back office Operational" in text
    assert "https://admin.acme.example:8443/" in text
    # 3 sites x 90 days, each a focusable list item whose text says the day's figures.
    assert html.count('<li tabindex="0"') == 270
    # 00:00-09:59 observed, 07:00-09:59 down: 7 h / 9 h 59 min = 70.1168...%.
    assert "Tue 24 Nov 2026: 70.11% up, down 2 h 59 min; incident #" in text
    assert 'aria-label="Acme website: uptime each day for 90 days, oldest first"' in html
    assert '<html lang="en">' in html and 'name="viewport"' in html


async def test_unknown_slugs_404(status_client: Client):
    client, _ = status_client
    for path in ("/status/nope", "/status/nope.json", "/status/nopage", "/status/ACME",
                 "/status/acme.xml", "/status/acme/extra"):  # fmt: skip
        async with client.get(path) as response:
            assert response.status == 404, path


async def test_caching_headers_gzip_and_304(status_client: Client):
    client, _ = status_client
    async with client.get("/status/acme", headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Cache-Control"] == "public, max-age=5"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        etag = response.headers["ETag"]
        html = await response.text()  # aiohttp decompresses
    raw_size = len(html.encode())
    gz_size = len(gzip.compress(html.encode()))
    assert gz_size < raw_size / 5  # the bars compress well: light on the wire
    async with client.get("/status/acme", headers={"If-None-Match": etag}) as response:
        assert response.status == 304
        assert await response.read() == b""
    # The inline stylesheet is the one the policy allows.
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None


async def test_gzip_only_when_accepted_and_any_etag_is_not_modified(status_client: Client):
    client, _ = status_client
    for path in ("/status/acme", "/status/acme.json"):
        for refused in ("gzip;q=0", "identity", "*;q=0", "br, gzip;q=0"):
            async with client.get(path, headers={"Accept-Encoding": refused}) as response:
                assert response.status == 200
                assert "Content-Encoding" not in response.headers, refused
                assert response.headers["Vary"] == "Accept-Encoding"
                etag = response.headers["ETag"]
        async with client.get(path, headers={"Accept-Encoding": "gzip;q=0.5"}) as response:
            assert response.headers["Content-Encoding"] == "gzip"
        for match in ("*", etag, f"W/{etag}", f'"other", {etag}'):
            async with client.get(path, headers={"If-None-Match": match}) as response:
                assert response.status == 304, match
                assert response.headers["ETag"] == etag
        async with client.get(path, headers={"If-None-Match": '"other"'}) as response:
            assert response.status == 200
    async with client.get("/status/nope", headers={"If-None-Match": "*"}) as response:
        assert response.status == 404  # `*` matches only what exists


async def test_a_crowd_builds_the_page_once(status_client: Client, clock: Any):
    client, _ = status_client
    pages = client.server.app[PAGES]
    before = pages.builds

    async def fetch(path: str) -> int:
        async with client.get(path) as response:
            await response.read()
            return response.status

    statuses = await asyncio.gather(*(fetch("/status/acme") for _ in range(40)))
    statuses += await asyncio.gather(*(fetch("/status/acme.json") for _ in range(40)))
    assert set(statuses) == {200}
    assert pages.builds - before == 1
    pages.ttl = 0  # expired: the next request builds again
    await fetch("/status/acme")
    assert pages.builds - before == 2


async def test_maintenance_now_is_said_in_words(status_client: Client, clock: Any):
    client, _ = status_client
    pages = client.server.app[PAGES]
    pages.ttl = 0
    clock.current = clock.current.replace(day=29, hour=2, minute=30)  # Sunday, in the window
    async with client.get("/status/acme.json") as response:
        body = await response.json()
    states = {site["id"]: site["state"] for site in body["sites"]}
    assert states["api"] == "maintenance"
    assert body["sites"][2]["state_text"] == "Under maintenance"
    clock.current += timedelta(hours=2)
    async with client.get("/status/acme.json") as response:
        assert {s["id"]: s["state"] for s in (await response.json())["sites"]}["api"] == (
            "operational"
        )


@pytest.mark.skipif(vnu_missing() is not None, reason=vnu_missing() or "")
async def test_the_page_passes_the_w3c_html_checker(status_client: Client):
    """The Nu HTML Checker finds nothing wrong: among others, every `datetime` attribute has
    at most 3 fractional digits although the instants behind them have microseconds."""
    client, ids = status_client
    context = client.app[CONTEXT]
    odd = context.clock.now() - timedelta(minutes=7, microseconds=123_456)
    await context.incidents.add_note(ids["www"], "carol", "Still on it.", odd, public=True)
    async with client.get("/status/acme") as response:
        html = await response.text()
    assert 'datetime="' in html and not re.search(r"\.\d{4}", html)
    assert html_errors(html) == []
