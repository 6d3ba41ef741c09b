"""The rollup job on SQLite and PostgreSQL: backfill, incremental runs, pruning after it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from uptimeguard.config import load_config_text
from uptimeguard.housekeeping import Housekeeping
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.status.public import shown_ratio
from uptimeguard.status.rollup_job import roll_up
from uptimeguard.status.rollups import uptime_of
from uptimeguard.storage.models import DailyRollupRow, ProbeResultRow
from uptimeguard.storage.repository import Store

CHECKS = """
defaults: {interval: 5m, timeout: 10s}
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
    sites:
      - {id: www, url: "https://www.acme.example/"}
      - {id: api, url: "https://api.acme.example/"}
"""
CONFIG = load_config_text(CHECKS, path="checks.yaml")
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def results(start: datetime, end: datetime) -> list[dict]:
    """www is down 23:00-01:00 every night; api is always up."""
    rows = []
    moment = start
    while moment < end:
        for site in ("www", "api"):
            down = site == "www" and moment.hour in (23, 0)
            rows.append(
                {
                    "customer": "acme",
                    "site": site,
                    "checked_at": moment,
                    "outcome": "timeout" if down else "up",
                    "in_maintenance": False,
                }
            )
        moment += timedelta(minutes=5)
    return rows


async def rollup_rows(store: Store) -> dict[tuple[str, date], DailyRollupRow]:
    async with store.sessions() as session:
        rows = (await session.scalars(select(DailyRollupRow))).all()
    return {(row.site, row.day): row for row in rows}


async def test_backfill_then_incremental_equals_one_run(store: Store):
    end = START + timedelta(days=3, hours=12)
    await store.insert_results(results(START, end))
    first = await roll_up(store, CONFIG, START + timedelta(days=2, hours=6))
    assert first.results_read > 0 and first.days_written == 2 * 3
    for hours in range(6, 37, 5):  # then every few hours, as housekeeping does
        await roll_up(store, CONFIG, START + timedelta(days=2, hours=hours))
    await roll_up(store, CONFIG, end + timedelta(minutes=1))
    stepped = await rollup_rows(store)

    other = Store(store.engine)
    async with store.sessions.begin() as session:
        await session.execute(DailyRollupRow.__table__.delete())
    once = await roll_up(other, CONFIG, end + timedelta(minutes=1))
    assert once.frontier == end
    whole = await rollup_rows(other)
    assert set(stepped) == set(whole)
    for key, row in whole.items():
        got = stepped[key]
        for column in ("good", "total", "up_seconds", "down_seconds", "longest_down_seconds",
                       "down_at_start_seconds", "complete"):  # fmt: skip
            assert getattr(got, column) == getattr(row, column), (key, column)

    www_day2 = whole[("www", date(2026, 11, 21))]
    assert www_day2.complete
    # Down 00:00-02:00 (hours 23 and 0: 00:00-01:00 of this day) and 23:00-24:00.
    assert www_day2.down_seconds == 2 * 3600 and www_day2.down_at_start_seconds == 3600
    assert www_day2.run_started_at == datetime(2026, 11, 21, 23, tzinfo=UTC)
    assert whole[("api", date(2026, 11, 23))].complete is False  # today


async def test_a_quiet_run_reads_nothing_and_sites_without_results_get_empty_days(store: Store):
    await store.insert_results(results(START, START + timedelta(hours=1)))
    await roll_up(store, CONFIG, START + timedelta(hours=2))
    again = await roll_up(store, CONFIG, START + timedelta(hours=2, minutes=5))
    assert again.results_read == 0 and again.days_written == 2
    rows = await rollup_rows(store)
    assert (
        rows[("api", START.date())].up_seconds == 55 * 60 + 10 * 60 + 10
    )  # last result: the span cap
    assert rows[("api", START.date())].total == 12


async def test_prune_keeps_what_is_not_rolled_up(store: Store, clock):  # type: ignore[no-untyped-def]
    clock.current = START + timedelta(days=3)
    await store.insert_results(results(START, clock.current))
    keeper = Housekeeping(
        store, IncidentService(store, CONFIG), Metrics(), clock, retention=timedelta(days=1)
    )
    await keeper.prune()  # no rollup yet: nothing may go
    assert await count_results(store) == 2 * 3 * 288
    await keeper.roll_up()
    assert keeper.rollup_frontier == clock.current - timedelta(minutes=1)
    await keeper.prune()
    async with store.sessions() as session:
        oldest = await session.scalar(select(func.min(ProbeResultRow.checked_at)))
    assert oldest == clock.current - timedelta(days=1)
    assert len(await rollup_rows(store)) == 2 * 3  # the rollups stay


async def count_results(store: Store) -> int:
    async with store.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ProbeResultRow)) or 0)


async def test_uptime_gauges_come_from_the_rollups(store: Store, clock):  # type: ignore[no-untyped-def]
    clock.current = START + timedelta(days=3, hours=6)  # 06:00 on the fourth day
    await store.insert_results(results(START, clock.current))
    metrics = Metrics(process=False)
    keeper = Housekeeping(
        store, IncidentService(store, CONFIG), metrics, clock, retention=timedelta(days=40)
    )
    await keeper.refresh_uptime()  # rolls up first, then reads one row per site and day
    www = metrics.sites.series("acme", "www").uptime
    rows = await rollup_rows(store)
    today, yesterday = rows[("www", date(2026, 11, 23))], rows[("www", date(2026, 11, 22))]
    # Time, not probes: today's row so far (down 00:00-01:00) and three quarters of
    # yesterday's (the last 18 hours of it are in the last 24 hours).
    up = today.up_seconds + yesterday.up_seconds * 0.75
    down = today.down_seconds + yesterday.down_seconds * 0.75
    assert today.down_seconds == 3600 and yesterday.down_seconds == 2 * 3600
    assert www["1d"] == shown_ratio(up / (up + down))
    month = [row for (site, _), row in rows.items() if site == "www"]
    assert www["30d"] == shown_ratio(uptime_of(month) or 0.0)
    assert www["30d"] == int(100_000 * (1 - sum(r.down_seconds for r in month) / sum(
        r.up_seconds + r.down_seconds for r in month))) / 100_000  # fmt: skip
    assert metrics.sites.series("acme", "api").uptime == {"1d": 1.0, "30d": 1.0}
