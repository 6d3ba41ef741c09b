"""The daily rollup fold: time-weighted uptime, maintenance, gaps, outages across midnight."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uptimeguard.status.rollups import (
    DOWN,
    MAINTENANCE,
    UP,
    DayRollup,
    kind_of,
    longest_outage,
    uptime_of,
    utc_day,
)

SPAN = timedelta(minutes=10)
DAY1 = date(2026, 11, 10)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def fold(results: list[tuple[datetime, str]], upto: datetime) -> list[DayRollup]:
    """Fold results (in time order) into day rows, from the first result's day to `upto`."""
    state = DayRollup.begin("acme", "www", utc_day(results[0][0]))
    days = [state]
    for moment, kind in results:
        while utc_day(moment) > state.day:
            state = state.next_day(SPAN)
            days.append(state)
        state.add(moment, kind, SPAN)
    while utc_day(upto) > state.day:
        state = state.next_day(SPAN)
        days.append(state)
    state.advance(upto, SPAN)
    return days


def every(start: datetime, end: datetime, step: timedelta, kind: str) -> list:
    out = []
    while start < end:
        out.append((start, kind))
        start += step
    return out


def test_kinds():
    assert kind_of("up", False) == UP and kind_of("slow", False) == UP
    assert kind_of("http_5xx", False) == DOWN and kind_of("timeout", False) == DOWN
    assert kind_of("refused", True) == MAINTENANCE and kind_of("up", True) == MAINTENANCE


def test_a_day_with_an_outage_and_maintenance():
    step = timedelta(minutes=5)
    results = (
        every(at(DAY1, 0), at(DAY1, 2), step, UP)
        + every(at(DAY1, 2), at(DAY1, 4), step, MAINTENANCE)  # down or not: not counted
        + every(at(DAY1, 4), at(DAY1, 5, 30), step, DOWN)
        + every(at(DAY1, 5, 30), at(DAY1 + timedelta(days=1), 0), step, UP)
    )
    (day, _next) = fold(results, at(DAY1 + timedelta(days=1), 0, 1))
    assert day.complete
    assert day.maintenance_seconds == 2 * 3600
    assert day.down_seconds == 90 * 60
    assert day.up_seconds == 86400 - 2 * 3600 - 90 * 60
    # 90 min down of 22 h counted: 1 - 1.5/22
    assert day.uptime == pytest.approx(1 - 1.5 / 22)
    assert day.longest_down_seconds == 90 * 60 and day.longest_started_at == at(DAY1, 4)
    assert (day.total, day.good, day.maintenance) == (264, 246, 24)
    assert day.down_at_start_seconds == 0 and day.down_at_end_seconds == 0


def test_rechecks_do_not_weigh_an_outage_more_than_its_length():
    results = [(at(DAY1, 10), UP)]
    results += every(at(DAY1, 10, 5), at(DAY1, 10, 15), timedelta(seconds=30), DOWN)
    results += [(at(DAY1, 10, 15), UP), (at(DAY1, 10, 20), UP)]
    (day,) = fold(results, at(DAY1, 10, 25))
    assert day.down_seconds == 600 and day.up_seconds == 5 * 60 + 10 * 60
    assert day.total == 23 and day.good == 3


def test_a_gap_is_unobserved_and_breaks_a_run():
    results = [(at(DAY1, 1), DOWN), (at(DAY1, 3), DOWN), (at(DAY1, 3, 5), UP)]
    (day,) = fold(results, at(DAY1, 3, 10))
    # 01:00 counts 10 min (the span cap), then nothing until 03:00, then 5 min down.
    assert day.down_seconds == 15 * 60
    assert day.up_seconds == 5 * 60
    assert day.longest_down_seconds == 10 * 60


def test_an_outage_across_midnight_is_joined():
    step = timedelta(minutes=5)
    day2 = DAY1 + timedelta(days=1)
    day3 = day2 + timedelta(days=1)
    results = (
        every(at(DAY1, 0), at(DAY1, 22), step, UP)
        + every(at(DAY1, 22), at(day3, 1), step, DOWN)  # 27 h, covering all of day 2
        + every(at(day3, 1), at(day3, 12), step, UP)
    )
    days = fold(results, at(day3, 12))
    assert [d.longest_down_seconds for d in days] == [7200, 86400, 3600]
    assert days[0].down_at_end_seconds == 7200
    assert days[1].down_at_start_seconds == 86400 and days[1].down_at_end_seconds == 86400
    assert days[2].down_at_start_seconds == 3600
    outage = longest_outage(days)
    assert outage.seconds == 27 * 3600 and outage.started_at == at(DAY1, 22)
    # A missing day in between breaks the chain.
    assert longest_outage([days[0], days[2]]).seconds == 7200
    assert uptime_of(days) == pytest.approx(33 / 60)


def test_nothing_observed_is_no_uptime():
    (day,) = fold([(at(DAY1, 1), MAINTENANCE)], at(DAY1, 2))
    assert day.uptime is None and day.maintenance_seconds == 600
    assert uptime_of([day]) is None


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    cuts=st.lists(st.integers(1, 2 * 86400 - 1), max_size=6),
)
def test_folding_in_pieces_equals_folding_at_once(seed: int, cuts: list[int]):
    """Today's row is updated from new results only; that must equal one fold of all."""
    rng = random.Random(seed)
    moment = at(DAY1, 0) + timedelta(seconds=rng.randrange(600))
    results = []
    end = at(DAY1, 0) + timedelta(days=2)
    while moment < end:
        results.append((moment, rng.choice([UP, UP, UP, DOWN, MAINTENANCE])))
        moment += timedelta(seconds=rng.choice([30, 300, 300, 900]))
    whole = fold(results, end)

    state = DayRollup.begin("acme", "www", DAY1)
    days = {state.day: state}
    for cut in [*sorted(cuts), 2 * 86400]:
        upto = at(DAY1, 0) + timedelta(seconds=cut)
        for moment, kind in results:
            if state.accounted_to <= moment < upto and (
                state.last_at is None or moment > state.last_at
            ):
                while utc_day(moment) > state.day:
                    state = state.next_day(SPAN)
                    days[state.day] = state
                state.add(moment, kind, SPAN)
        while utc_day(upto) > state.day and upto < end:
            state = state.next_day(SPAN)
            days[state.day] = state
        state.advance(upto, SPAN)
        state = DayRollup.from_row(state)  # as if stored and read back
        days[state.day] = state
    for expected in whole[:2]:
        got = days[expected.day]
        assert got.down_seconds == expected.down_seconds
        assert got.up_seconds == expected.up_seconds
        assert got.maintenance_seconds == expected.maintenance_seconds
        assert got.longest_down_seconds == expected.longest_down_seconds
        assert (got.total, got.good, got.maintenance) == (
            expected.total,
            expected.good,
            expected.maintenance,
        )
