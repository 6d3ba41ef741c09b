"""A short run of the real daemon with an outage in it, for the metrics and dashboard tests.

Three local sites on 127.0.0.1 (acme/www over HTTP, acme/secure over HTTPS with a certificate
from a test CA, globex/www over HTTP) and a fake Twilio. `run_outage` turns acme/www to 500
(a `bug_fix` incident opens and the desk is paged, since the calendar is always open), then
refuses connections (upgraded to `mission_critical`, whose 3 s response target is then
missed: a breach), acknowledges it through the API (time to acknowledge is observed) and
lets the site recover (resolved by the monitor).
"""

from __future__ import annotations

import contextlib
import functools
import math
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from paging.fake_twilio import FROM, SID, TOKEN, FakeTwilio
from prometheus_client.parser import text_string_to_metric_families
from support import TargetSite, eventually, free_port

import uptimeguard.app
from uptimeguard.app import Daemon, running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.probe import Prober
from uptimeguard.settings import Settings

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  standard:
    calendar: always
    severities:
      mission_critical: {{response: 3s, resolution: 4h, clock: 24x7, out_of_hours: true}}
      bug_fix: {{response: 2h, resolution: 1d}}
    causes: {{down: mission_critical, http_5xx: bug_fix, content: bug_fix}}
people:
  alice: {{name: Alice Smith, phone: "+447700900001"}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  desk: {{phone: "+447700900099"}}
  escalation:
    - {{notify: oncall, via: sms}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {{id: www, url: "{www}", expect: {{status: 200, body_contains: Welcome}}}}
      - {{id: secure, url: "{secure}", expect: {{status: 200, body_contains: Welcome}}}}
  - id: globex
    name: Globex
    plan: standard
    sites:
      - {{id: www, url: "{globex}", expect: {{status: 200, body_contains: Welcome}}}}
"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class TlsSite(TargetSite):
    """A `TargetSite` served over HTTPS."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self._context = context

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self._context)
        await site.start()


@dataclass
class World:
    daemon: Daemon
    http: aiohttp.ClientSession
    www: TargetSite
    twilio: FakeTwilio

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.daemon.port}"

    async def samples(self) -> Samples:
        """Every sample on /metrics, keyed by (name, labels)."""
        async with self.http.get(f"{self.base}/metrics") as response:
            assert response.status == 200
            text = await response.text()
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    async def value(self, name: str, **labels: str) -> float:
        """One sample's value, NaN when it is absent."""
        return (await self.samples()).get((name, frozenset(labels.items())), math.nan)

    async def wait_for(self, name: str, at_least: float, **labels: str) -> None:
        await eventually(lambda: self.value(name, **labels), lambda v: v >= at_least)


@contextlib.asynccontextmanager
async def running_world(
    tmp_path: Path, certs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """Sites, a fake Twilio and the daemon, all on 127.0.0.1."""
    ca, leaf, key = certs
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(leaf, key)
    # The daemon's prober trusts the test CA instead of the system's.
    monkeypatch.setattr(
        uptimeguard.app,
        "Prober",
        functools.partial(Prober, ssl_context=ssl.create_default_context(cafile=str(ca))),
    )
    www, secure, globex = TargetSite(), TlsSite(server_context), TargetSite()
    twilio = await FakeTwilio().start()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(twilio.stop)
        for site in (www, secure, globex):
            await site.start()
            stack.push_async_callback(site.stop)
        config = load_config_text(
            CHECKS.format(www=www.url, secure=secure.url, globex=globex.url), path="checks.yaml"
        )
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}",
            listen=f"127.0.0.1:{free_port()}",
            write_interval_seconds=0.2,
            # Each node writes the rollups it folds every ROLLUP_INTERVAL_SECONDS, and they
            # leave the last ROLLUP_GRACE_SECONDS for the next write: a short run needs them
            # sooner than every 5 minutes.
            rollup_interval_seconds=1,
            rollup_grace_seconds=1,
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            twilio_from=FROM,
            twilio_api_base=twilio.url,
        )
        daemon = await stack.enter_async_context(running_daemon(settings, config))
        # Uptime ratios are refreshed from the rollups every 5 minutes: every second here.
        daemon.housekeeping.scheduler.reschedule_job("uptime", trigger="interval", seconds=1)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        yield World(daemon=daemon, http=http, www=www, twilio=twilio)


async def run_outage(world: World) -> None:
    """Outage, upgrade, breach, acknowledgement, recovery; about 15 seconds."""
    site = {"customer": "acme", "site": "www"}
    for customer, name in (("acme", "www"), ("acme", "secure"), ("globex", "www")):
        await world.wait_for("uptimeguard_site_up", 1, customer=customer, site=name)

    world.www.mode = "500"
    opened = {"customer": "acme", "severity": "bug_fix", "cause": "http_5xx"}
    await world.wait_for("uptimeguard_incidents_opened_total", 1, **opened)
    await world.wait_for("uptimeguard_pages_total", 1, channel="sms", result="sent")

    await world.www.stop()  # refused: the `down` cause upgrades it to mission_critical
    breach = {"customer": "acme", "severity": "mission_critical", "target": "response"}
    await world.wait_for("uptimeguard_sla_breaches_total", 1, **breach)

    async with world.http.get(f"{world.base}/api/v1/incidents?status=open") as response:
        (incident,) = (await response.json())["incidents"]
    url = f"{world.base}/api/v1/incidents/{incident['id']}/ack"
    async with world.http.post(url, json={"by": "alice"}) as response:
        assert response.status == 200, await response.text()
    await world.wait_for("uptimeguard_page_ack_seconds_count", 1)

    world.www.mode = "ok"
    await world.www.start()
    await world.wait_for("uptimeguard_site_up", 1, **site)
    still_open = {"customer": "acme", "severity": "mission_critical"}
    await eventually(
        lambda: world.value("uptimeguard_incidents_open", **still_open), lambda v: v == 0
    )
