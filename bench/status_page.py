"""How fast is a status page with 50 sites and 90 days of history?

Builds a SQLite database with one customer of 50 sites: 90 days of daily rollups each (as the
rollup job keeps them), 60 incidents over those days (a few open) with public and internal
timeline entries, and a day of raw results at 5-minute intervals. Prints:

- the page built from the database (the queries and the view), then rendered as HTML and JSON,
  with the bodies' sizes raw and gzipped: what one cache miss costs;
- cached requests per second through the real aiohttp app (what a crowd costs);
- the rollup job over one day of 50 sites' raw results, and a 5-minute incremental run.

    .venv/bin/python bench/status_page.py [REPEATS]
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer

from uptimeguard.config import load_config_text
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.settings import Settings
from uptimeguard.status.pages import StatusPages
from uptimeguard.status.public import SiteNow
from uptimeguard.status.rollup_job import roll_up
from uptimeguard.status.rollups import DOWN, UP, DayRollup, utc_day
from uptimeguard.storage.database import make_engine, upgrade_schema
from uptimeguard.storage.repository import Store
from uptimeguard.web.context import WebContext
from uptimeguard.web.server import build_app

SITES = 50
DAYS = 90
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SPAN = timedelta(minutes=10, seconds=10)
HEAD = """
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  p:
    calendar: always
    severities: {critical: {response: 15m, resolution: 4h, clock: 24x7}}
    causes: {down: critical, http_5xx: critical}
customers:
  - id: acme
    name: Acme Ltd
    plan: p
    status_page: {slug: acme, title: Acme service status}
    sites:
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def config_text() -> str:
    lines = [
        f'      - {{id: s{i:02d}, name: "Service {i:02d}", url: "https://s{i}.acme.example/"}}'
        for i in range(SITES)
    ]
    return HEAD + "\n".join(lines) + "\n"


def history(rng: random.Random) -> list[dict]:
    """Daily rows folded from 5-minute probes, with a random outage on about 1 day in 10."""
    rows = []
    for i in range(SITES):
        first = (NOW - timedelta(days=DAYS - 1)).date()
        state = DayRollup.begin("acme", f"s{i:02d}", first)
        moment = datetime(first.year, first.month, first.day, tzinfo=UTC)
        outage_until = moment
        while moment < NOW - timedelta(minutes=2):
            if utc_day(moment) > state.day:
                rows.append(state.as_row())
                state = state.next_day(SPAN)
            if moment.minute == 0 and moment.hour == 3 and rng.random() < 0.1:
                outage_until = moment + timedelta(minutes=rng.choice([5, 30, 120]))
            state.add(moment, DOWN if moment < outage_until else UP, SPAN)
            moment += timedelta(minutes=5)
        state.advance(NOW - timedelta(minutes=1), SPAN)
        rows.append(state.as_row())
    return rows


async def seed(store: Store, config, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    await store.upsert_rollups(history(rng))
    service = IncidentService(store, config)
    for n in range(60):
        site = f"s{rng.randrange(SITES):02d}"
        opened = NOW - timedelta(days=rng.uniform(0.1, DAYS - 1))
        if await store.open_incident_for_site("acme", site):
            continue
        incident = await service.site_failing("acme", site, "down", opened)
        assert incident is not None
        await service.acknowledge(incident.id, "alice", opened + timedelta(minutes=7))
        await service.add_note(incident.id, "alice", "internal: restarted the pool", opened)
        await service.add_note(
            incident.id, "alice", "We are restoring service.", opened, public=True
        )
        if n % 12:  # a few stay open
            await service.site_recovered("acme", site, opened + timedelta(hours=1))


def timed(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.1f} ms, best {min(samples) * 1000:.1f} ms"


async def main(repeats: int) -> None:
    rng = random.Random(6)
    config = load_config_text(config_text(), path="bench.yaml")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        await upgrade_schema(engine)
        store = Store(engine)
        await seed(store, config, rng)
        clock = Clock(NOW)
        live = {f"s{i:02d}": SiteNow("up", NOW - timedelta(seconds=30)) for i in range(SITES)}
        pages = StatusPages(store, lambda: config, lambda customer: live, clock, ttl=0)
        customer = config.customers[0]

        builds, htmls, jsons = [], [], []
        for _ in range(repeats):
            start = time.perf_counter()
            view = await pages.build(customer)
            builds.append(time.perf_counter() - start)
            start = time.perf_counter()
            html = pages._render(view, "html")
            htmls.append(time.perf_counter() - start)
            start = time.perf_counter()
            body = pages._render(view, "json")
            jsons.append(time.perf_counter() - start)
        print(f"status page, {SITES} sites x {DAYS} days, {repeats} runs (SQLite)")
        print(f"  build from database: {timed(builds)}")
        print(f"  render HTML:         {timed(htmls)}")
        print(f"  render JSON:         {timed(jsons)} (serialise, gzip and hash included)")
        print(
            f"  HTML {len(html.data) / 1024:.0f} KiB, gzipped {len(html.gzipped) / 1024:.1f} KiB;"
            f" JSON {len(body.data) / 1024:.0f} KiB, gzipped {len(body.gzipped) / 1024:.1f} KiB"
        )

        context = WebContext(
            settings=Settings(database_url=url),
            store=store,
            incidents=IncidentService(store, config),
            monitor=SimpleNamespace(sites={}),  # type: ignore[arg-type]
            metrics=Metrics(),
            clock=clock,
            ready=lambda: asyncio.sleep(0, True),  # type: ignore[arg-type,return-value]
        )
        async with TestClient(TestServer(build_app(context))) as client:
            headers = {"Accept-Encoding": "gzip"}

            async def fetch() -> None:
                async with client.get("/status/acme", headers=headers) as response:
                    await response.read()

            await fetch()
            count = 2000
            start = time.perf_counter()
            for _ in range(count // 50):
                await asyncio.gather(*(fetch() for _ in range(50)))
            elapsed = time.perf_counter() - start
        print(f"  cached, over HTTP (50 at a time, gzip): {count / elapsed:.0f} requests/s")

        async with store.sessions.begin() as session:
            from uptimeguard.storage.models import DailyRollupRow

            await session.execute(DailyRollupRow.__table__.delete())
        day = NOW - timedelta(days=1)
        rows = [
            {"customer": "acme", "site": f"s{i:02d}", "checked_at": day + timedelta(minutes=m),
             "outcome": "up", "in_maintenance": False}
            for m in range(0, 24 * 60 + 5, 5) for i in range(SITES)
        ]  # fmt: skip
        await store.insert_results(rows)
        start = time.perf_counter()
        first = await roll_up(store, config, day + timedelta(days=1, minutes=6))
        full = time.perf_counter() - start
        clock_next = day + timedelta(days=1, minutes=11)
        start = time.perf_counter()
        await roll_up(store, config, clock_next)
        step = time.perf_counter() - start
        print(
            f"rollup job: {first.results_read} results of one day -> {first.days_written}"
            f" site-days in {full * 1000:.0f} ms; next 5-minute run {step * 1000:.0f} ms"
        )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
