"""A real Prometheus (Debian's, as the dashboard test starts it) scrapes a daemon with 20,000
sites within a 10 s `scrape_timeout`, again and again, and holds every site's series.

The daemon runs with the 20,000 sites in its checks file, probed once an hour (so the test
does not spend two cores on probes), and with its per-site series filled as three probes of
every site fill them (a failing and a TLS site among each hundred, both uptime windows): the
/metrics it serves is the one of an instance that has probed all 20,000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from prometheus_support import Prometheus, running_prometheus
from support import TargetSite, eventually, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.metrics import Metrics
from uptimeguard.settings import Settings

SITES = 20_000
PER_CUSTOMER = 100
SCRAPE_TIMEOUT = 10.0

HEAD = """
defaults: {interval: 1h, timeout: 5s}
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  p:
    calendar: always
    severities: {s: {response: 1h, resolution: 4h}}
    causes: {down: s, http_5xx: s}
customers:
"""


def checks(url: str) -> str:
    lines = [HEAD.strip("\n")]
    for c in range(SITES // PER_CUSTOMER):
        lines += [f"  - id: c{c:05d}", f"    name: Customer {c}", "    plan: p", "    sites:"]
        for i in range(c * PER_CUSTOMER, (c + 1) * PER_CUSTOMER):
            lines.append(f"      - {{id: s{i}, url: '{url}site/{i}'}}")
    return "\n".join(lines) + "\n"


def filled(metrics: Metrics) -> Metrics:
    for i in range(SITES):
        series = metrics.sites.series(f"c{i // PER_CUSTOMER:05d}", f"s{i}")
        tls = 1.8e9 + i if i % PER_CUSTOMER == 1 else None
        for k in range(3):
            if i % PER_CUSTOMER == 0:
                series.record("http_5xx", 0.02 + k / 1000, 500, None)
            else:
                series.record("up", 0.001 * (i % 97) + k / 1000, 200, tls)
        for window in ("1d", "30d"):
            metrics.sites.set_uptime(series.customer, series.site, window, 0.99987)
    return metrics


async def target_of(prometheus: Prometheus) -> dict[str, Any]:
    (target,) = (await prometheus.get("targets"))["activeTargets"]
    return target


async def test_prometheus_scrapes_20000_sites_within_its_timeout(
    prometheus_binary: str, tmp_path: Path
) -> None:
    site = TargetSite()
    await site.start()
    try:
        config = load_config_text(checks(site.url), path="checks.yaml")
        assert len(config.site_refs()) == SITES
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'scale.db'}",
            listen=f"127.0.0.1:{free_port()}",
        )
        metrics = filled(Metrics())
        async with (
            running_daemon(settings, config, metrics=metrics) as daemon,
            aiohttp.ClientSession() as http,
            running_prometheus(
                prometheus_binary,
                f"127.0.0.1:{daemon.port}",
                tmp_path,
                http,
                interval="10s",
                timeout=f"{SCRAPE_TIMEOUT:g}s",
            ) as prometheus,
        ):

            async def scrapes() -> float:
                return await prometheus.value('count_over_time(up{job="uptimeguard"}[5m])')

            await eventually(scrapes, lambda n: n >= 3, timeout=120, every=1.0)
            target = await target_of(prometheus)
            assert target["health"] == "up", target["lastError"]
            # `up` is 0 for a scrape that failed (its timeout): every one of them succeeded.
            assert await prometheus.value('min_over_time(up{job="uptimeguard"}[5m])') == 1
            slowest = await prometheus.value(
                'max_over_time(scrape_duration_seconds{job="uptimeguard"}[5m])'
            )
            assert slowest < SCRAPE_TIMEOUT
            assert await prometheus.value("count(uptimeguard_site_up)") == SITES
            assert await prometheus.value('count(uptimeguard_uptime_ratio{window="30d"})') == SITES
            assert await prometheus.value("count(uptimeguard_site_probe_duration_seconds)") == SITES
            samples = await prometheus.value(
                'max_over_time(scrape_samples_scraped{job="uptimeguard"}[5m])'
            )
            assert samples > 6 * SITES  # six or more series a site
            found = await prometheus.get(
                "query", [("query", 'scrape_duration_seconds{job="uptimeguard"}[5m]')]
            )
            each = ", ".join(f"{float(v):.2f}" for _, v in found["result"][0]["values"])
            print(
                f"{SITES:,} sites: every scrape within {slowest:.2f} s (timeout "
                f"{SCRAPE_TIMEOUT:g} s; each: {each} s), {samples:,.0f} samples a scrape"
            )
    finally:
        await site.stop()
