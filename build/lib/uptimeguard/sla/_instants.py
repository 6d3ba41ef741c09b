"""Instants as integer microseconds since the Unix epoch, and local wall time to UTC.

Everything in `uptimeguard.sla` computes on integers (exact, fast, and free of float rounding)
and converts to timezone-aware UTC `datetime`s only at the public edges.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)
ONE_US = timedelta(microseconds=1)
SECOND_US = 1_000_000
DAY_US = 86_400 * SECOND_US


def to_us(at: datetime) -> int:
    """Microseconds since the epoch of an aware instant; a naive datetime is refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: SLA instants must be timezone-aware")
    return (at - EPOCH) // ONE_US


def from_us(us: int) -> datetime:
    """The UTC `datetime` for microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=us)


def span_us(duration: timedelta) -> int:
    """A `timedelta` in whole microseconds."""
    return duration // ONE_US


def local_wall_us(us: int, tz: ZoneInfo) -> int:
    """The local wall-clock reading at instant `us`, as naive microseconds since 1970-01-01."""
    local = from_us(us).astimezone(tz)
    return (local.replace(tzinfo=None) - NAIVE_EPOCH) // ONE_US


def wall_to_us(day: date, micros_of_day: int, tz: ZoneInfo) -> int:
    """The first instant at which the wall clock in `tz` reads `day` + `micros_of_day` or later.

    `micros_of_day` may be a whole day (24:00, the next day's midnight). An ordinary wall time
    has one instant. A repeated one (the autumn fold) gives its first occurrence. A skipped one
    (the spring gap) gives the moment of the change itself, when the clock jumps past it: an
    office that "opens at 01:30" on a night the clocks go from 01:00 to 02:00 opens when they
    read 02:00. This reading is monotonic: a later wall time never maps to an earlier instant,
    so an interval of wall time always maps to an interval of real time (perhaps empty).
    """
    naive = datetime(day.year, day.month, day.day) + timedelta(microseconds=micros_of_day)
    naive_us = (naive - NAIVE_EPOCH) // ONE_US
    before = naive.replace(tzinfo=tz).utcoffset()
    after = naive.replace(tzinfo=tz, fold=1).utcoffset()
    assert before is not None and after is not None
    first = naive_us - before // ONE_US
    second = naive_us - after // ONE_US
    if first <= second:  # unambiguous, or repeated: the first occurrence
        return first
    # Skipped: the change happens in (second, first]; find it to the microsecond.
    lo, hi = second, first
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if local_wall_us(mid, tz) >= naive_us:
            hi = mid
        else:
            lo = mid
    return hi
