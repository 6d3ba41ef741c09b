"""Keeps `daily_rollups` current: completed days once, today up to a minute ago.

Run by housekeeping every few minutes. Each run reads only the results stored since the last
run (one day at a time, so a first run over weeks of history stays small in memory), folds
them into each configured site's rollup and writes the changed days back. Results are written
in batches within a second or two of their probe, so results newer than `GRACE` are left for
the next run rather than risk reading a site's results out of order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from uptimeguard.config.models import ChecksConfig, SiteRef
from uptimeguard.status.live_rollups import max_span
from uptimeguard.status.rollups import DAY, DayRollup, day_of, day_start, kind_of, utc_day
from uptimeguard.status.zones import page_timezone
from uptimeguard.storage.models import DEFAULT_LOCATION
from uptimeguard.storage.repository import Store

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=1)
YIELD_EVERY = 2000  # results folded between yields to the event loop (about 30 ms)

T = TypeVar("T")


async def paced(items: Iterable[T], every: int = YIELD_EVERY) -> AsyncIterator[T]:
    """`items`, letting the event loop run after every `every` of them: a pass over 100,000
    sites, or a first run over weeks of results, must not hold up the probes."""
    for index, item in enumerate(items):
        if index and index % every == 0:
            await asyncio.sleep(0)
        yield item


@dataclass(frozen=True, slots=True)
class RollupRun:
    days_written: int  # distinct (site, day) rows written
    results_read: int
    frontier: datetime  # every configured site is rolled up to at least this instant


async def roll_up(
    store: Store,
    config: ChecksConfig,
    now: datetime,
    grace: timedelta = GRACE,
    location: str = DEFAULT_LOCATION,
) -> RollupRun:
    """Bring every configured site's rollups of `location`'s results up to `now - grace`."""
    refs = {ref.key: ref for ref in config.site_refs()}

    async def write(pending: list[DayRollup]) -> None:
        # In batches, each its own statement: one of 100,000 rows held the loop for seconds.
        for start in range(0, len(pending), YIELD_EVERY):
            await store.upsert_rollups([s.as_row() for s in pending[start : start + YIELD_EVERY]])

    return await _fold(store, refs, zones_of(config, refs), now - grace, write, location)


async def current_rollups(
    store: Store, config: ChecksConfig, customer: str, now: datetime, grace: timedelta = GRACE
) -> list[DayRollup]:
    """The customer's sites' rollups for the days the daemon has not finished rolling up,
    brought up to `now - grace` in memory from the results stored since (nothing is
    written), as the daemon's next run would: what a report reads so that an outage of the
    last few minutes is in it, with the same figures the rollups will hold."""
    refs = {ref.key: ref for ref in config.site_refs() if ref.customer.id == customer}
    days: dict[tuple[str, str, object, str], DayRollup] = {}

    async def keep(pending: list[DayRollup]) -> None:
        for state in pending:
            days[(state.customer, state.site, state.day, state.location)] = replace(state)

    zones = zones_of(config, refs)
    for location in await store.rollup_locations(customer) or [DEFAULT_LOCATION]:
        await _fold(store, refs, zones, now - grace, keep, location)
    return list(days.values())


async def resume(
    store: Store,
    config: ChecksConfig,
    keys: Iterable[tuple[str, str]],
    location: str,
    upto: datetime,
) -> list[DayRollup]:
    """Where `location`'s folds of these sites stand: each one's newest stored day brought up
    to `upto` from the results stored since (what a node continues from when it starts, or
    takes sites over), with every day that catching up changed, oldest first per site."""
    wanted = set(keys)
    refs = {ref.key: ref for ref in config.site_refs() if ref.key in wanted}
    days: dict[tuple[str, str, object], DayRollup] = {}

    async def keep(pending: list[DayRollup]) -> None:
        for state in pending:
            days[(state.customer, state.site, state.day)] = state

    await _fold(store, refs, zones_of(config, refs), upto, keep, location, only_stored=True)
    return sorted(days.values(), key=lambda d: (d.customer, d.site, d.day))


def zones_of(
    config: ChecksConfig, refs: dict[tuple[str, str], SiteRef]
) -> dict[tuple[str, str], str]:
    """Each site's page zone: whose calendar days its rollups are."""
    by_customer: dict[str, str] = {}
    zones = {}
    for key, ref in refs.items():
        zone = by_customer.get(ref.customer.id)
        if zone is None:
            zone = by_customer[ref.customer.id] = page_timezone(config, ref.customer)
        zones[key] = zone
    return zones


async def _fold(
    store: Store,
    refs: dict[tuple[str, str], SiteRef],
    zones: dict[tuple[str, str], str],
    upto: datetime,
    changed_days: Callable[[list[DayRollup]], Awaitable[None]],
    location: str = DEFAULT_LOCATION,
    only_stored: bool = False,
) -> RollupRun:
    """Fold `location`'s results stored since each site's last rollup, up to `upto`, into
    days of each site's zone (`zones`), reading one UTC day at a time and handing each
    read's changed rollups to `changed_days`; with `only_stored`, sites of which nothing
    is stored are left out."""
    if not refs:
        return RollupRun(0, 0, upto)
    states: dict[tuple[str, str], DayRollup] = {}
    async for key, row in paced((await store.latest_rollups(location)).items()):
        if key in refs:
            states[key] = DayRollup.from_row(row, zones[key])
    missing = [key for key in refs if key not in states]
    if missing:  # a new site, or a database from before rollups: start at its first result
        first = await store.first_result_times()
        for key in missing:
            if only_stored and key not in first:
                continue  # nothing stored of it: its first result here begins its fold
            day = day_of(min(first.get(key, upto), upto), zones[key])
            states[key] = DayRollup.begin(*key, day, location=location, zone=zones[key])

    if not states:
        return RollupRun(0, 0, upto)
    read = 0
    touched: set[tuple[str, str, object]] = set()
    since = min(state.accounted_to for state in states.values())
    while since < upto:
        until = min(upto, day_start(utc_day(since)) + DAY)
        changed: dict[tuple[str, str, object], DayRollup] = {}
        results = await store.result_stream(since, until, location)
        read += len(results)
        async for customer, site, at, outcome, maintenance in paced(results):
            key = (customer, site)
            state = states.get(key)
            if state is None or (state.last_at is not None and at <= state.last_at):
                continue
            span = max_span(refs[key])
            while day_of(at, state.zone) > state.day:
                changed[(*key, state.day)] = state
                state = states[key] = state.next_day(span)
            state.add(at, kind_of(outcome, maintenance), span)
            changed[(*key, state.day)] = state
        async for key, state in paced(list(states.items())):
            if state.accounted_to >= until:
                continue
            span = max_span(refs[key])
            while state.end <= until:
                changed[(*key, state.day)] = state
                state = states[key] = state.next_day(span)
            state.advance(until, span)
            changed[(*key, state.day)] = state
        await changed_days(list(changed.values()))
        touched |= set(changed)
        since = until
    frontier = min(state.accounted_to for state in states.values())
    if touched:
        log.debug("rolled up %d site-days from %d results", len(touched), read)
    return RollupRun(len(touched), read, frontier)
