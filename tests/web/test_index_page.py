"""GET /: a small page linking the status pages and the OpenAPI document, nothing internal."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from html_validator import html_errors, vnu_missing
from support import free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

CHECKS = """
calendars:
  office: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}}
plans:
  standard:
    calendar: office
    severities:
      query: {response: 8h, resolution: 10d}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    status_page: {slug: acme}
    sites:
      - {id: www, url: "http://127.0.0.1:1/acme-secret-path"}
  - id: globex
    name: Globex
    plan: standard
    status_page: {slug: globex-status, title: "Globex <service> status"}
    sites:
      - {id: api, url: "http://127.0.0.1:1/globex-internal"}
  - id: initech
    name: Initech Hidden
    plan: standard
    sites:
      - {id: intranet, url: "http://127.0.0.1:1/initech"}
"""


@pytest.fixture
async def http(tmp_path: Path):
    config = load_config_text(CHECKS, path="checks.yaml")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'index.db'}",
        listen=f"127.0.0.1:{free_port()}",
        admin_token="an-admin-token",
    )
    async with (
        running_daemon(settings, config) as daemon,
        aiohttp.ClientSession(base_url=f"http://127.0.0.1:{daemon.port}") as session,
    ):
        yield session


async def test_the_root_page_links_the_status_pages_and_the_api(http: aiohttp.ClientSession):
    async with http.get("/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        html = await response.text()
    links = re.findall(r'<a href="([^"]+)">([^<]*)</a>', html)
    assert links == [
        ("/status/acme", "Acme Ltd status"),
        ("/status/globex-status", "Globex &lt;service&gt; status"),
        ("/api/v1/openapi.json", "The API, as an OpenAPI 3 document"),
    ]
    # What the status pages show, nothing more: no customer without a page, no site, no URL.
    for internal in ("Initech", "initech", "www", "secret", "globex-internal", "127.0.0.1"):
        assert internal not in html
    for path, _ in links:
        async with http.get(path) as linked:
            assert linked.status == 200, path
    async with http.head("/") as response:
        assert response.status == 200


@pytest.mark.skipif(vnu_missing() is not None, reason=vnu_missing() or "")
async def test_the_root_page_passes_the_w3c_html_checker(http: aiohttp.ClientSession):
    async with http.get("/") as response:
        assert html_errors(await response.text()) == []
