"""Business calendars and the arithmetic of business time.

A `Clock` is what an SLA target is measured on: a `BusinessCalendar` (weekly opening hours in
one IANA time zone, minus bank holidays and `closed` dates) or `AlwaysOpen` (24x7). Every
method takes and returns timezone-aware instants (returned in UTC); the `*_us` twins do the same
on integer microseconds since the epoch for hot paths.

How a day's hours become real time: each local date's opening intervals are wall-clock times;
each end is mapped to the first instant at which the local clock reads that time or later (see
`wall_to_us`), and business time is the *real elapsed time* between those instants. So an
interval that spans the spring change (say 00:00-06:00 on 29 March 2026 in London) holds five
hours of business time, one spanning the autumn change holds seven, and an interval whose ends
both fall in the skipped hour holds none. On the days without a change this is exactly the
wall-clock length. Weekly hours, holidays and these changes are folded into a table per year
(each day's intervals as UTC instants, and running totals of open time and of working days), so
adding or measuring business time steps over whole days, weeks and years by bisection, never
minute by minute.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from uptimeguard.config.models import CALENDAR_24X7, Calendar
from uptimeguard.sla._instants import (
    DAY_US,
    NAIVE_EPOCH,
    ONE_US,
    local_wall_us,
    wall_to_us,
)
from uptimeguard.sla.clock import ALWAYS_OPEN, AlwaysOpen, Clock
from uptimeguard.sla.holidays import bank_holidays

__all__ = [
    "ALWAYS_OPEN",
    "AlwaysOpen",
    "BusinessCalendar",
    "Clock",
    "DayTable",
    "calendar_from_config",
    "clock_named",
]

_MAX_YEARS = 50  # how far ahead to look for an opening before calling the calendar closed
_MEAN_YEAR_US = 31_556_952_000_000  # 365.2425 days


Spans = tuple[tuple[int, int], ...]


@dataclass(slots=True)
class _Year:
    """One local calendar year: for each day, its start instant, its opening intervals as UTC
    instants, and running totals (`cum[k]`: open time before day k; `work[k]`: working days
    before day k). `starts`, `cum` and `work` have one more entry than there are days."""

    year: int
    first: int  # date.toordinal() of 1 January
    starts: list[int]
    days: list[Spans]
    cum: list[int]
    work: list[int]


def _micros(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _weekly_spans(hours: Mapping[int, Sequence[tuple[time, time]]]) -> list[Spans]:
    weekly: list[Spans] = []
    for weekday in range(7):
        merged: list[tuple[int, int]] = []
        for opens, closes in hours.get(weekday, ()):
            o = _micros(opens)
            c = DAY_US if closes == time(0, 0) else _micros(closes)
            if c <= o:
                raise ValueError(f"opening hours {opens}-{closes} close before they open")
            if merged and o < merged[-1][1]:
                raise ValueError(f"opening hours overlap or are out of order at {opens}")
            if merged and o == merged[-1][1]:  # touching intervals are one
                merged[-1] = (merged[-1][0], c)
            else:
                merged.append((o, c))
        weekly.append(tuple(merged))
    return weekly


class DayTable(Clock):
    """A clock whose open time is given day by day in one IANA time zone, folded into a table
    per local year (see the module docstring). Subclasses say which spans of each local day
    are open (`_day_spans`); the arithmetic is shared."""

    name: str
    timezone: str

    def __init__(self, timezone: str, name: str = "") -> None:
        try:
            self._tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        self.name = name
        self.timezone = timezone
        self._years: dict[int, _Year] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name or self.timezone!r})"

    @property
    def tzinfo(self) -> ZoneInfo:
        return self._tz

    def _day_spans(self, day: date, start: int, end: int) -> Spans:
        """The open spans of local `day`, whose instants run from `start` to `end`, as UTC
        microsecond instants: sorted, not overlapping, within [start, end)."""
        raise NotImplementedError

    def day_spans(self, day: date) -> Spans:
        """The open spans of local `day` (UTC microsecond instants)."""
        table = self._year(day.year)
        return table.days[day.toordinal() - table.first]

    def spans_between_us(self, start: int, end: int) -> list[tuple[int, int]]:
        """The open spans that meet [start, end), clipped to it, in order."""
        table, k = self._locate(start)
        found: list[tuple[int, int]] = []
        while table.starts[k] < end:
            found.extend(
                (max(o, start), min(c, end)) for o, c in table.days[k] if c > start and o < end
            )
            k += 1
            if k == len(table.days):
                table, k = self._year(table.year + 1), 0
        return found

    # -- the year tables ------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = self._build_year(year)
        return table

    def _build_year(self, year: int) -> _Year:
        tz = self._tz
        first = date(year, 1, 1).toordinal()
        n = date(year + 1, 1, 1).toordinal() - first
        starts = [wall_to_us(date.fromordinal(first + k), 0, tz) for k in range(n + 1)]
        days: list[Spans] = []
        cum, work = [0], [0]
        for k in range(n):
            real = self._day_spans(date.fromordinal(first + k), starts[k], starts[k + 1])
            days.append(real)
            total = sum(c - o for o, c in real)
            cum.append(cum[-1] + total)
            work.append(work[-1] + (1 if total else 0))
        return _Year(year, first, starts, days, cum, work)

    def _locate(self, at: int) -> tuple[_Year, int]:
        """The local day whose span [start of day, start of next day) holds `at`."""
        # A guess from the mean year's length, corrected against the table's own bounds.
        table = self._year(1970 + at // _MEAN_YEAR_US)
        while at < table.starts[0]:
            table = self._year(table.year - 1)
        while at >= table.starts[-1]:
            table = self._year(table.year + 1)
        return table, bisect_right(table.starts, at) - 1

    def _next_year(self, table: _Year, origin: int) -> _Year:
        if table.year - origin > _MAX_YEARS:
            raise ValueError(f"calendar {self!r} does not open within {_MAX_YEARS} years")
        return self._year(table.year + 1)

    # -- the arithmetic -------------------------------------------------------------------

    def is_open_us(self, at: int) -> bool:
        table, k = self._locate(at)
        return any(o <= at < c for o, c in table.days[k])

    def next_open_us(self, at: int) -> int:
        table, k = self._locate(at)
        for o, c in table.days[k]:
            if c > at:
                return max(o, at)
        return self._first_opening(table, k + 1)

    def _first_opening(self, table: _Year, k: int) -> int:
        """The opening moment of the first working day from day `k` of `table` on."""
        origin = table.year
        while True:
            if k < len(table.days):
                m = bisect_right(table.cum, table.cum[k], lo=k)
                if m < len(table.cum):
                    return table.days[m - 1][0][0]
            table, k = self._next_year(table, origin), 0

    def add_us(self, start: int, amount: int) -> int:
        table, k = self._locate(start)
        remaining = amount
        for o, c in table.days[k]:
            if c < start or (c == start and remaining):
                continue
            s = max(o, start)
            if remaining <= c - s:
                return s + remaining
            remaining -= c - s
        if not remaining:
            return self._first_opening(table, k + 1)
        return self._advance(table, k + 1, remaining)

    def _advance(self, table: _Year, k: int, remaining: int) -> int:
        """The instant `remaining` (> 0) business time after the start of day `k`."""
        origin = table.year
        while True:
            target = table.cum[k] + remaining
            if target <= table.cum[-1]:
                j = bisect_left(table.cum, target, lo=k + 1) - 1
                rest = target - table.cum[j]
                for o, c in table.days[j]:
                    if rest <= c - o:
                        return o + rest
                    rest -= c - o
                raise AssertionError("running totals disagree with the day's intervals")
            remaining = target - table.cum[-1]
            table, k = self._next_year(table, origin), 0

    def _position(self, at: int) -> tuple[_Year, int]:
        """Business time from the start of `at`'s local year to `at`."""
        table, k = self._locate(at)
        inside = sum(min(c, at) - o for o, c in table.days[k] if o < at)
        return table, table.cum[k] + inside

    def elapsed_us(self, start: int, end: int) -> int:
        if end < start:
            return -self.elapsed_us(end, start)
        first, before = self._position(start)
        last, upto = self._position(end)
        between = sum(self._year(y).cum[-1] for y in range(first.year, last.year))
        return between - before + upto

    def add_working_days_us(self, start: int, days: int) -> int:
        table, k = self._locate(start)
        if not any(o <= start < c for o, c in table.days[k]):
            start = self.next_open_us(start)
            table, k = self._locate(start)
        if not days:
            return start
        midnight = (datetime.fromordinal(table.first + k) - NAIVE_EPOCH) // ONE_US
        time_of_day = min(max(local_wall_us(start, self._tz) - midnight, 0), DAY_US)
        table, j = self._nth_working_day(table, k + 1, days)
        if table.starts[j + 1] - table.starts[j] == DAY_US:
            same_time = table.starts[j] + time_of_day
        else:
            same_time = wall_to_us(date.fromordinal(table.first + j), time_of_day, self._tz)
        before = sum(min(c, same_time) - o for o, c in table.days[j] if o < same_time)
        if not before:  # at or before the opening: the previous working day's closing
            return self._last_closing_before(table, j)
        for o, c in table.days[j]:
            if before <= c - o:
                return o + before
            before -= c - o
        raise AssertionError("running totals disagree with the day's intervals")

    def _nth_working_day(self, table: _Year, k: int, n: int) -> tuple[_Year, int]:
        """The `n`th working day (n >= 1) counting from day `k` of `table`."""
        origin = table.year
        while True:
            target = table.work[k] + n
            if target <= table.work[-1]:
                return table, bisect_left(table.work, target, lo=k + 1) - 1
            n = target - table.work[-1]
            table, k = self._next_year(table, origin), 0

    def _last_closing_before(self, table: _Year, j: int) -> int:
        """The closing moment of the last working day before day `j` (one must exist)."""
        while True:
            m = bisect_left(table.cum, table.cum[j], hi=j)
            if m > 0:
                return table.days[m - 1][-1][1]
            table = self._year(table.year - 1)
            j = len(table.days)


class BusinessCalendar(DayTable):
    """Weekly opening hours in one time zone, closed on bank holidays and `closed` dates.

    `hours[weekday]` (Monday is 0) lists (open, close) local times, sorted, not overlapping;
    a close of `time(0, 0)` means midnight at the end of the day. `holidays` names a UK region
    (`england-and-wales`, `scotland`, `northern-ireland`; see `bank_holidays` for how substitute
    days and the weekend dates they replace are treated).
    """

    def __init__(
        self,
        timezone: str,
        hours: Mapping[int, Sequence[tuple[time, time]]],
        holidays: str | None = None,
        closed: Iterable[date] = (),
        name: str = "",
    ) -> None:
        super().__init__(timezone, name)
        if holidays is not None:
            bank_holidays(holidays, 2000)  # refuse an unknown region now, not mid-arithmetic
        self.holidays = holidays
        self.closed = frozenset(closed)
        self._weekly = _weekly_spans(hours)
        if not any(self._weekly):
            raise ValueError(f"calendar {name or timezone!r} has no opening hours")

    def is_shut(self, day: date) -> bool:
        """True on a bank holiday or a `closed` date (whatever the weekly hours say)."""
        if day in self.closed:
            return True
        return self.holidays is not None and day in bank_holidays(self.holidays, day.year)

    def weekly_spans(self, weekday: int) -> Spans:
        """That weekday's opening hours as microseconds since local midnight."""
        return self._weekly[weekday]

    def _day_spans(self, day: date, start: int, end: int) -> Spans:
        spans = self._weekly[day.weekday()]
        if not spans or self.is_shut(day):
            return ()
        if end - start == DAY_US:  # no clock change today: wall == real
            return tuple((start + o, start + c) for o, c in spans)
        mapped = ((wall_to_us(day, o, self._tz), wall_to_us(day, c, self._tz)) for o, c in spans)
        return tuple((o, c) for o, c in mapped if c > o)


@lru_cache(maxsize=128)
def _cached_calendar(
    name: str,
    timezone: str,
    hours: tuple[tuple[int, tuple[tuple[time, time], ...]], ...],
    holidays: str | None,
    closed: frozenset[date],
) -> BusinessCalendar:
    return BusinessCalendar(timezone, dict(hours), holidays, closed, name)


def calendar_from_config(calendar: Calendar) -> BusinessCalendar:
    """The `BusinessCalendar` for a configured `Calendar`, shared while its contents match."""
    hours = tuple(sorted((day, tuple(spans)) for day, spans in calendar.hours.items()))
    return _cached_calendar(
        calendar.id, calendar.timezone, hours, calendar.holidays, calendar.closed
    )


def clock_named(name: str, calendars: Mapping[str, Calendar]) -> Clock:
    """The clock a plan names: `24x7` is `ALWAYS_OPEN`, anything else a configured calendar."""
    if name == CALENDAR_24X7:
        return ALWAYS_OPEN
    try:
        return calendar_from_config(calendars[name])
    except KeyError:
        raise KeyError(f"unknown calendar {name!r}") from None
