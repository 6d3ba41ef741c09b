"""Every panel query of every dashboard, sent to a real Prometheus that scraped a real run.

Debian's `prometheus` package is installed when it is missing and we may (root, apt-get);
otherwise the test is skipped with the reason. `.ci/run` installs it, so CI never skips.
Prometheus listens on 127.0.0.1 and scrapes only the daemon there: no alerting, no remote
write, nothing but loopback.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import (
    BUILTINS,
    dashboard_files,
    interpolate,
    load,
    query_panels,
    regex_value,
    variable_query,
)
from metrics_scenario import World, run_outage, running_world
from prometheus_support import Prometheus, running_prometheus
from support import eventually

LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")


@pytest.fixture
async def world(tmp_path: Path, certs, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    async with running_world(tmp_path, certs, monkeypatch) as running:
        yield running


@pytest.fixture
async def prometheus(
    prometheus_binary: str, world: World, tmp_path: Path
) -> AsyncIterator[Prometheus]:
    """Prometheus on 127.0.0.1 scraping the daemon every second."""
    target = f"127.0.0.1:{world.daemon.port}"
    async with running_prometheus(prometheus_binary, target, tmp_path, world.http) as server:
        yield server


async def resolve_variables(
    prometheus: Prometheus, dashboard: dict[str, Any], window: dict[str, str]
) -> dict[str, str]:
    """Fill each template variable as Grafana would: query variables through Prometheus's
    label values API, a multi-value "All" as a regex of every value."""
    values = dict(window)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "datasource":
            continue
        assert variable["type"] == "query", variable["name"]
        match = LABEL_VALUES.match(interpolate(variable_query(variable), values))
        assert match, variable_query(variable)
        found = await prometheus.get(
            f"label/{match['label']}/values",
            [("match[]", match["selector"]), ("start", window["__from_s"]),
             ("end", window["__to_s"])],
        )  # fmt: skip
        assert found, f"variable {variable['name']} has no values"
        if variable["name"] == "customer":
            assert found == ["acme", "globex"]
            values["customer"] = "acme"  # the one with the outage
        elif variable.get("includeAll"):
            values[variable["name"]] = regex_value(sorted(found))
        else:
            values[variable["name"]] = sorted(found)[0]
    return values


def has_data(data: dict[str, Any]) -> bool:
    """At least one series with a finite value."""
    if data["resultType"] == "matrix":
        points = [float(v) for series in data["result"] for _, v in series["values"]]
    elif data["resultType"] == "vector":
        points = [float(series["value"][1]) for series in data["result"]]
    else:  # scalar
        points = [float(data["result"][1])]
    return any(math.isfinite(p) for p in points)


async def test_every_panel_query_is_valid_and_returns_data(
    world: World, prometheus: Prometheus
) -> None:
    await eventually(
        lambda: prometheus.value('up{job="uptimeguard"}'), lambda v: v == 1, timeout=15
    )
    await run_outage(world)
    # Wait until Prometheus has scraped the end of the run.
    for query in (
        "uptimeguard_page_ack_seconds_count == 1",
        'uptimeguard_site_up{customer="acme", site="www"} == 1',
        "sum(uptimeguard_incidents_open) == 0",
        'uptimeguard_uptime_ratio{customer="acme", site="www", window="30d"} < 1',
    ):
        await eventually(lambda q=query: prometheus.value(q), math.isfinite, timeout=15)

    end = time.time()
    start = prometheus.started
    span = math.ceil(end - start)
    # What Grafana sends with a 1 s scrape interval over this run's span.
    window = {name: "1s" for name in BUILTINS} | {
        "__interval": "1s",
        "__rate_interval": "4s",  # max(interval + scrape interval, 4 x scrape interval)
        "__range": f"{span}s",
        "__range_s": str(span),
        "__range_ms": str(span * 1000),
        "__from_s": f"{start:.3f}",
        "__to_s": f"{end:.3f}",
    }
    checked = 0
    for path in dashboard_files():
        dashboard = load(path)
        values = await resolve_variables(prometheus, dashboard, window)
        for panel in query_panels(dashboard):
            for target in panel["targets"]:
                expr = interpolate(target["expr"], values)
                where = f"{path.name}: {panel['title']!r} {target['refId']}: {expr}"
                if target.get("instant"):
                    body = await prometheus.api("query", query=expr, time=f"{end:.3f}")
                else:
                    body = await prometheus.api(
                        "query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}",
                        step="1",
                    )  # fmt: skip
                assert body["status"] == "success", f"{where}: {body.get('error')}"
                assert not body.get("warnings"), f"{where}: {body['warnings']}"
                assert has_data(body["data"]), f"{where}: no data"
                checked += 1
    assert checked >= 50

    # Prometheus scraped only the daemon on loopback and talks to no Alertmanager.
    targets = (await prometheus.get("targets"))["activeTargets"]
    assert [t["scrapeUrl"] for t in targets] == [f"http://127.0.0.1:{world.daemon.port}/metrics"]
    assert (await prometheus.get("alertmanagers"))["activeAlertmanagers"] == []
