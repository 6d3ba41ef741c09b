"""Rollups folded in memory as results arrive (`LiveRollups`, through the result writer) against
the rollup job folding every stored result, on the same probes: the same rows, so the same
report and page; and healthy probes leave no raw row behind. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from test_rollup_job import CHECKS, CONFIG, rollup_rows

from uptimeguard.config import load_config_text
from uptimeguard.report import build_report
from uptimeguard.status.live_rollups import LiveRollups, max_span
from uptimeguard.status.rollup_job import resume, roll_up
from uptimeguard.status.rollups import UP, DayRollup, kind_of
from uptimeguard.storage.models import DailyRollupRow, ProbeResultRow
from uptimeguard.storage.repository import Store
from uptimeguard.storage.writer import ResultWriter

START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
END = START + timedelta(days=3)
SPAN = max_span(CONFIG.site_refs()[0])
FOLDED = [c.name for c in DailyRollupRow.__table__.columns]


def probes(start: datetime, end: datetime) -> list[dict]:
    """www: an outage 23:10-01:20 each night (rechecked every 30 s while down), a maintenance
    hour at 12:00 on the second day and an hour unobserved (the daemon stopped) at 06:00 on
    the third; api: always up but for one failed probe at 08:00 each day."""
    rows = []
    moment = start
    while moment < end:
        for site in ("www", "api"):
            minutes = moment.hour * 60 + moment.minute
            down = site == "www" and (minutes >= 23 * 60 + 10 or minutes < 80)
            if site == "api" and minutes == 8 * 60:
                down = True
            maintenance = site == "www" and moment.day == 21 and moment.hour == 12
            stopped = moment.day == 22 and moment.hour == 6
            if stopped:
                continue
            outcome = "http_5xx" if down else ("slow" if minutes % 35 == 0 else "up")
            rows.append(result(site, moment, outcome, maintenance))
            if down and site == "www":  # the rechecks of a failing site
                for extra in range(30, 300, 30):
                    at = moment + timedelta(seconds=extra)
                    rows.append(result(site, at, "timeout", maintenance))
        moment += timedelta(minutes=5)
    rows.sort(key=lambda r: r["checked_at"])
    return rows


def result(site: str, at: datetime, outcome: str, maintenance: bool = False) -> dict:
    return {
        "customer": "acme",
        "site": site,
        "checked_at": at,
        "outcome": outcome,
        "status_code": 500 if outcome == "http_5xx" else 200,
        "total_seconds": 0.1,
        "error": None,
        "in_maintenance": maintenance,
        "location": "default",
    }


def writer_for(store: Store, clock: Any) -> ResultWriter:
    return ResultWriter(
        store,
        batch_size=500,
        rollups=LiveRollups(),
        rollup_clock=clock.now,
        rollup_grace=timedelta(minutes=1),
    )


async def feed(writer: ResultWriter, clock: Any, rows: list[dict], zone: str = "UTC") -> None:
    """Results as the monitor hands them over, with a flush and a rollup write every five
    minutes of their time."""
    last_write = rows[0]["checked_at"]
    for row in rows:
        clock.current = row["checked_at"]
        writer.add(dict(row), None, SPAN, zone)
        if row["checked_at"] - last_write >= timedelta(minutes=5):
            assert await writer.flush()
            assert await writer.write_rollups()
            last_write = row["checked_at"]


def as_dicts(rows: dict) -> dict:
    return {key: {n: getattr(r, n) for n in FOLDED} for key, r in rows.items()}


async def live_then_job(
    store: Store, clock: Any, rows: list[dict], config: Any, zone: str
) -> tuple[dict, list[dict], dict]:
    """The rows the live fold writes from `rows` (and the raw rows it kept), then, in the same
    database emptied, the rows the job folds from every one of them stored."""
    upto = rows[-1]["checked_at"] + timedelta(minutes=1)
    clock.current = rows[0]["checked_at"]
    writer = writer_for(store, clock)
    await feed(writer, clock, rows, zone)
    clock.current = upto + writer_grace(writer)
    assert await writer.flush()
    assert await writer.write_rollups()
    live = as_dicts(await rollup_rows(store))
    kept = await raw_rows(store)
    return live, kept, await job_fold(store, rows, config, upto)


async def job_fold(store: Store, rows: list[dict], config: Any, upto: datetime) -> dict:
    """The rollups the job folds from `rows` alone, in the database emptied first."""
    async with store.sessions.begin() as session:
        await session.execute(DailyRollupRow.__table__.delete())
        await session.execute(ProbeResultRow.__table__.delete())
    await store.insert_results(rows)
    await roll_up(store, config, upto, grace=timedelta(0))
    return as_dicts(await rollup_rows(store))


async def test_the_live_fold_writes_the_rows_the_job_folds_from_every_result(
    store: Store, clock: Any
) -> None:
    rows = probes(START, END)
    live, kept, folded = await live_then_job(store, clock, rows, CONFIG, "UTC")

    assert live == folded
    assert len(folded) == 8  # two sites, four days (the last one begun at midnight)
    # What was kept raw: the first result of each site, each change of kind (failures begin,
    # recoveries, maintenance) and of outcome, and while failing one result every half span;
    # not the healthy probes, nor most of a failing site's rechecks. Those alone, folded by
    # the job, give the same down and maintenance time (what a restart continues from them).
    failures = sum(1 for r in rows if r["outcome"] not in ("up", "slow") or r["in_maintenance"])
    assert failures > 700 and len(kept) < failures / 3
    sparse = await job_fold(store, kept, CONFIG, rows[-1]["checked_at"] + timedelta(minutes=1))
    assert {k: timed(r) for k, r in sparse.items()} == {k: timed(r) for k, r in folded.items()}
    kept_at = {(r["site"], r["checked_at"]) for r in kept}
    for site in ("www", "api"):  # every change of kind, and of a failure's outcome
        mine = [r for r in rows if r["site"] == site]
        for before, after in itertools.pairwise(mine):
            kinds = (
                kind_of(before["outcome"], before["in_maintenance"]),
                kind_of(after["outcome"], after["in_maintenance"]),
            )
            failing_anew = kinds[1] != UP and before["outcome"] != after["outcome"]
            if kinds[0] != kinds[1] or failing_anew:
                assert (site, after["checked_at"]) in kept_at


TIMED = (
    "down_seconds",
    "maintenance_seconds",
    "longest_down_seconds",
    "longest_started_at",
    "down_at_start_seconds",
)


def timed(row: dict) -> dict:
    """What a rollup says of down and maintenance time (not of up time, nor of probe
    counts), to the microsecond."""
    return {n: round(v, 6) if isinstance(v, float) else v for n, v in row.items() if n in TIMED}


async def test_a_london_page_folds_london_days_live_as_the_job_does(
    store: Store, clock: Any
) -> None:
    """Days of the page's zone, the 23-hour Sunday of March 2026 among them, folded live from
    the results as they come equal those the job folds from every stored result."""
    config = load_config_text(CHECKS.replace("timezone: UTC", "timezone: Europe/London"))
    start, end = datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    live, _, folded = await live_then_job(store, clock, probes(start, end), config, "Europe/London")

    assert live == folded
    days = sorted({key[1] for key in folded})
    assert days == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30), date(2026, 3, 31)]
    sunday = folded[("api", date(2026, 3, 29))]
    assert sunday["up_seconds"] + sunday["down_seconds"] == 23 * 3600


def writer_grace(writer: ResultWriter) -> timedelta:
    return writer._rollup_grace


async def raw_count(store: Store) -> int:
    async with store.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ProbeResultRow)) or 0)


async def raw_rows(store: Store) -> list[dict]:
    """Every stored result, as `insert_results` takes them, oldest first."""
    table = ProbeResultRow.__table__
    columns = [c for c in table.columns if c.name != "id"]
    async with store.engine.connect() as connection:
        query = select(*columns).order_by(table.c.checked_at, table.c.id)
        return [dict(r._mapping) for r in (await connection.execute(query)).all()]


async def test_the_report_is_the_same_from_live_rollups(store: Store, clock: Any):
    """The month's report from rollups folded live (with a sparse raw table) equals the one
    from every result stored and folded by the job."""
    rows = probes(START, END)
    now = END + timedelta(minutes=2)
    clock.current = START
    writer = writer_for(store, clock)
    await feed(writer, clock, rows)
    clock.current = now
    assert await writer.flush()
    assert await writer.write_rollups()
    live = await build_report(store, CONFIG, "acme", "2026-11", now=now, rollup_grace=timedelta(0))

    async with store.sessions.begin() as session:
        await session.execute(DailyRollupRow.__table__.delete())
        await session.execute(ProbeResultRow.__table__.delete())
    await store.insert_results(rows)
    await roll_up(store, CONFIG, now - timedelta(minutes=1), grace=timedelta(0))
    full = await build_report(store, CONFIG, "acme", "2026-11", now=now, rollup_grace=timedelta(0))

    assert [s.uptime_percent for s in live.sites] == [s.uptime_percent for s in full.sites]
    assert live.sites == full.sites
    www = next(s for s in live.sites if s.site == "www")
    assert www.down_seconds > 3 * 2 * 3600  # three nights of 2h10m, less the unobserved
    assert www.longest_outage_seconds >= 2 * 3600  # joined across midnight


async def test_a_site_handed_over_continues_from_the_stored_rollup(store: Store, clock: Any):
    """Node A folds the first day and a half, writes, drops the sites; node B (same location)
    resumes them from the database and folds the rest: the rows equal one node's fold."""
    rows = probes(START, END)
    half = START + timedelta(days=1, hours=12)
    clock.current = START
    first = writer_for(store, clock)
    await feed(first, clock, [r for r in rows if r["checked_at"] < half])
    keys = [("acme", "www"), ("acme", "api")]
    assert first.rollups is not None
    first.rollups.drop(keys)
    assert await first.flush()
    assert await first.write_rollups()

    second = writer_for(store, clock)
    assert second.rollups is not None
    clock.current = half
    days = await resume(store, CONFIG, keys, "default", half - timedelta(seconds=1))
    second.rollups.adopt(days, {key: SPAN for key in keys})
    await feed(second, clock, [r for r in rows if r["checked_at"] >= half])
    clock.current = END + timedelta(minutes=2)
    assert await second.flush()
    assert await second.write_rollups()
    handed = as_dicts(await rollup_rows(store))

    one = writer_for(store, clock)
    async with store.sessions.begin() as session:
        await session.execute(DailyRollupRow.__table__.delete())
        await session.execute(ProbeResultRow.__table__.delete())
    clock.current = START
    await feed(one, clock, rows)
    clock.current = END + timedelta(minutes=2)
    assert await one.flush()
    assert await one.write_rollups()
    assert handed == as_dicts(await rollup_rows(store))


async def test_an_older_fold_never_sets_a_row_back(store: Store):
    newer = DayRollup.begin("acme", "www", START.date())
    newer.add(START + timedelta(hours=2), "up", SPAN)
    newer.advance(START + timedelta(hours=3), SPAN)
    older = DayRollup.begin("acme", "www", START.date())
    older.add(START + timedelta(hours=1), "down", SPAN)
    await store.upsert_rollups([newer.as_row()])
    await store.upsert_rollups([older.as_row()])
    (row,) = (await rollup_rows(store)).values()
    assert row.accounted_to == START + timedelta(hours=3)
    assert row.down_seconds == 0


async def test_locations_are_added_up_on_the_page_and_report(store: Store):
    """Two locations' rows of one site and day: seconds and probes added, so the uptime is the
    share of all the time observed that was up."""
    day = START.date()
    here = DayRollup.begin("acme", "www", day, location="london")
    there = DayRollup.begin("acme", "www", day, location="paris")
    here.add(START, "up", SPAN)
    here.advance(START + timedelta(minutes=10), SPAN)
    there.add(START, "down", SPAN)
    there.advance(START + timedelta(minutes=5), SPAN)
    await store.upsert_rollups([here.as_row(), there.as_row()])
    (row,) = await store.rollups("acme", day, day)
    assert (row.up_seconds, row.down_seconds, row.total, row.good) == (600.0, 300.0, 2, 1)
    assert await store.rollup_seconds(day) == {("acme", "www"): (600.0, 300.0)}
