"""One outage, one uptime figure: the status page (HTML), its JSON, the monthly report and the
`uptimeguard_uptime_ratio` gauge on /metrics all say the same.

The outage is rechecked every 30 s while the site is probed every 5 minutes otherwise, so a
share of probes (what the gauge used to be) reads far lower than the share of time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from uptimeguard.config import load_config_text
from uptimeguard.housekeeping import Housekeeping
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.report.model import build_report
from uptimeguard.report.render import render
from uptimeguard.settings import Settings
from uptimeguard.status.templates import pct
from uptimeguard.storage.repository import Store
from uptimeguard.web.context import WebContext
from uptimeguard.web.server import build_app

CHECKS = """
defaults: {interval: 5m, timeout: 10s, recheck: 30s}
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  p:
    calendar: always
    severities: {s: {response: 1h, resolution: 4h}}
    causes: {down: s}
customers:
  - id: acme
    name: Acme
    plan: p
    status_page: {slug: acme}
    sites:
      - {id: www, url: "https://www.acme.example/"}
"""
CONFIG = load_config_text(CHECKS, path="checks.yaml")
DAY_START = datetime(2026, 11, 24, tzinfo=UTC)
OUTAGE = (DAY_START + timedelta(hours=6), DAY_START + timedelta(hours=6, minutes=40))


def probes(until: datetime) -> list[dict[str, Any]]:
    """Every 5 minutes from midnight; during the outage, a failed recheck every 30 s."""
    rows, moment = [], DAY_START
    while moment < until:
        down = OUTAGE[0] <= moment < OUTAGE[1]
        rows.append(
            {
                "customer": "acme",
                "site": "www",
                "checked_at": moment,
                "outcome": "refused" if down else "up",
                "status_code": None if down else 200,
                "total_seconds": 0.05,
                "in_maintenance": False,
            }
        )
        moment += timedelta(seconds=30 if down else 300)
    return rows


@pytest.fixture
async def world(store: Store, clock: Any, tmp_path: Any) -> AsyncIterator[tuple[TestClient, Any]]:
    clock.current = DAY_START + timedelta(hours=10)
    await store.insert_results(probes(clock.current))
    metrics = Metrics(process=False)
    incidents = IncidentService(store, CONFIG)
    keeper = Housekeeping(store, incidents, metrics, clock, retention=timedelta(days=40))
    await keeper.refresh_uptime()  # rolls up, then sets the gauges: what the daemon does

    async def ready() -> bool:
        return True

    monitor = SimpleNamespace(sites={})  # no live state: the page reads "unknown"
    context = WebContext(
        settings=Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"),
        store=store,
        incidents=incidents,
        monitor=monitor,  # type: ignore[arg-type]
        metrics=metrics,
        clock=clock,
        ready=ready,
    )
    async with TestClient(TestServer(build_app(context))) as client:
        yield client, clock


async def gauge(client: TestClient) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status == 200
    return {
        sample.labels["window"]: sample.value
        for family in text_string_to_metric_families(await response.text())
        for sample in family.samples
        if sample.name == "uptimeguard_uptime_ratio"
    }


async def test_the_page_the_report_the_api_and_the_gauge_give_one_figure(
    world: tuple[TestClient, Any], store: Store
) -> None:
    client, clock = world
    (row,) = await store.rollups("acme", DAY_START.date(), DAY_START.date())
    observed = (row.accounted_to - DAY_START).total_seconds()
    assert row.down_seconds == 40 * 60 and row.up_seconds == observed - 40 * 60
    by_time = 100 * (1 - 40 * 60 / observed)
    by_probes = 100 * row.good / row.total
    assert by_time - by_probes > 25  # the figure the gauge used to give is far off

    response = await client.get("/status/acme.json")
    assert response.status == 200
    (site,) = (await response.json())["sites"]
    api = site["uptime_90d_percent"]
    assert site["days"][-1]["uptime_percent"] == api  # today's bar: the only day observed
    assert api == int(by_time * 1000) / 1000  # rounded down to 3 places

    page = await client.get("/status/acme")
    # Ten hours of history (to a minute ago), said as such, not as "over 90 days".
    assert site["uptime_span"] == "9 h"
    assert f"{pct(api)} up over 9 h" in await page.text()

    report = await build_report(store, CONFIG, "acme", "2026-11", clock.now())
    (line,) = report.sites
    assert line.uptime_percent == api
    assert f"{pct(api, 3)}" in render(report, "text")

    ratios = await gauge(client)
    assert set(ratios) == {"1d", "30d"}
    for window, ratio in ratios.items():
        assert f"{ratio * 100:.3f}" == f"{api:.3f}", window
