"""A page's days and months in its own time zone: UTC instants, DST days of 23 and 25 hours."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise

from uptimeguard.status.rollups import day_of
from uptimeguard.status.zones import day_bounds, month_bounds


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_london_days_around_the_clock_changes() -> None:
    bounds = day_bounds(date(2026, 3, 28), 3, "Europe/London")
    assert bounds == [utc(2026, 3, 28, 0), utc(2026, 3, 29, 0), utc(2026, 3, 29, 23),
                      utc(2026, 3, 30, 23)]  # fmt: skip
    hours = [(b - a).total_seconds() / 3600 for a, b in pairwise(bounds)]
    assert hours == [24, 23, 24]
    autumn = day_bounds(date(2026, 10, 25), 1, "Europe/London")
    assert (autumn[1] - autumn[0]).total_seconds() == 25 * 3600


def test_months_in_a_zone() -> None:
    start, end = month_bounds(2026, 3, "Europe/London")
    assert (start, end) == (utc(2026, 3, 1, 0), utc(2026, 3, 31, 23))
    assert (end - start).total_seconds() == (31 * 24 - 1) * 3600
    assert month_bounds(2026, 12, "Europe/London") == (utc(2026, 12, 1), utc(2027, 1, 1))
    assert month_bounds(2026, 7, "America/New_York") == (utc(2026, 7, 1, 4), utc(2026, 8, 1, 4))
    # A half-hour zone: its days begin at local midnight, 18:30 UTC.
    assert month_bounds(2026, 1, "Asia/Kolkata")[0] == utc(2025, 12, 31, 18, 30)


def test_local_day() -> None:
    assert day_of(utc(2026, 6, 30, 23, 30), "Europe/London") == date(2026, 7, 1)
    assert day_of(utc(2026, 6, 30, 23, 30), "UTC") == date(2026, 6, 30)
