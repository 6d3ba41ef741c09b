"""Issue 12 item 5: with no admin token, a reverse proxy on this machine must not open the
admin API to everyone it serves (its requests come from loopback too), and the daemon says
at start-up when it has no token or listens beyond loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from support import TargetSite, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

CHECKS = """
calendars:
  office:
    timezone: Europe/London
    hours: {{mon-fri: "08:00-18:00"}}
plans:
  standard:
    calendar: office
    severities:
      query: {{response: 8h, resolution: 10d}}
    causes: {{down: query}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {{id: www, url: "{url}"}}
"""
INCIDENT = {"customer": "acme", "severity": "query", "summary": "reported by phone"}
PROXIED = [
    {"X-Forwarded-For": "203.0.113.9"},
    {"X-Forwarded-For": "127.0.0.1"},  # a forged loopback hop is still a proxied request
    {"X-Real-IP": "203.0.113.9"},
    {"Forwarded": "for=203.0.113.9;proto=https"},
    {"x-forwarded-for": ""},  # present but empty
]


@pytest.fixture
async def tokenless(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[aiohttp.ClientSession]:
    target = TargetSite()
    await target.start()
    config = load_config_text(CHECKS.format(url=target.url), path="checks.yaml")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'proxy.db'}",
        listen=f"127.0.0.1:{free_port()}",
        admin_token=None,
    )
    caplog.set_level(logging.WARNING, logger="uptimeguard")
    async with (
        running_daemon(settings, config) as daemon,
        aiohttp.ClientSession(base_url=f"http://127.0.0.1:{daemon.port}") as http,
    ):
        yield http
    await target.stop()


@pytest.mark.parametrize("headers", PROXIED)
async def test_proxied_admin_requests_refused_without_a_token(tokenless, headers):
    for path in ("/api/v1/sites", "/api/v1/incidents", "/api/v1/nodes"):
        async with tokenless.get(path, headers=headers) as response:
            assert response.status == 403, path
            error = (await response.json())["error"]
            assert "ADMIN_TOKEN" in error and "proxied" in error
    async with tokenless.post("/api/v1/incidents", json=INCIDENT, headers=headers) as response:
        assert response.status == 403
    # Nothing was opened by the refused request; the public pages still answer through it.
    async with tokenless.get("/api/v1/incidents") as response:
        assert response.status == 200 and (await response.json())["incidents"] == []
    async with tokenless.get("/healthz", headers=headers) as response:
        assert response.status == 200
    async with tokenless.get("/api/v1/openapi.json", headers=headers) as response:
        assert response.status == 200
    # A request made on this machine, not through a proxy, is still answered.
    async with tokenless.post("/api/v1/incidents", json=INCIDENT) as response:
        assert response.status == 201


async def test_no_token_warned_once_at_start(tokenless, caplog):
    async with tokenless.get("/api/v1/sites") as response:
        assert response.status == 200
    records = caplog.get_records("setup") + caplog.get_records("call")
    warned = [r for r in records if "UPTIMEGUARD_ADMIN_TOKEN" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert not [r for r in records if "beyond loopback" in r.getMessage()]


def test_listening_beyond_loopback_warned():
    from uptimeguard.web.auth import startup_warnings

    with_token = Settings(admin_token="t0ken", listen="0.0.0.0:8080")
    assert startup_warnings(with_token, "127.0.0.1") == []
    (warning,) = startup_warnings(with_token, "0.0.0.0")
    assert "beyond loopback" in warning and "0.0.0.0" in warning
    (warning,) = startup_warnings(with_token, "::")
    assert "beyond loopback" in warning
    assert len(startup_warnings(Settings(admin_token=None), "192.0.2.1")) == 2
