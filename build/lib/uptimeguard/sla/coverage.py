"""When a severity is worked: coverage by day and time. Pure.

A severity names the periods in which it is worked (`worked: [office, evenings]`), relative to
its plan's calendar C, in C's time zone:

- `office`: C is open.
- Every other moment belongs to a *day*: its local date, except that the hours before the
  first opening of a day that opens belong to the day before (the small hours of Monday are
  still the weekend; those of Tuesday are Monday's evening). That day then decides:
  - `bank_holidays`: it is one of C's bank holidays or `closed` dates;
  - `weekends`: it is a Saturday or a Sunday (a bank holiday at the weekend is both);
  - `evenings`: it is Monday to Friday and not a bank holiday. So "evenings" is every hour
    of a weekday outside office hours: from closing time until the next morning's opening
    (or until midnight before a day off), and any break in the day.

These four periods cover every moment, so `[office, evenings, weekends, bank_holidays]` is
always, which is what `out_of_hours: true` means. A severity may instead (or as well) name a
calendar of its own, `worked: uk-7day`: it is then worked in office hours and whenever that
calendar is open.

An incident whose severity is not worked at the moment it opens is held over: its clocks start
at the next moment the severity is worked (for a severity worked in office hours only, the next
opening, i.e. the next working day). `clock: worked` measures targets on these hours.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from uptimeguard.config.models import WORK_PERIODS, Severity
from uptimeguard.sla._instants import to_us
from uptimeguard.sla.calendar import BusinessCalendar, DayTable, Spans
from uptimeguard.sla.clock import ALWAYS_OPEN, AlwaysOpen, Clock

OFFICE, EVENINGS, WEEKENDS, BANK_HOLIDAYS = WORK_PERIODS
ALWAYS = frozenset(WORK_PERIODS)
_ONE_DAY = timedelta(days=1)


def day_periods(calendar: BusinessCalendar, day: date) -> frozenset[str]:
    """The out-of-office periods the hours belonging to local `day` fall in."""
    found = set()
    if calendar.is_shut(day):
        found.add(BANK_HOLIDAYS)
    if day.weekday() >= 5:
        found.add(WEEKENDS)
    elif not found:
        found.add(EVENINGS)
    return frozenset(found)


def periods_at(calendar: Clock, at: datetime) -> frozenset[str]:
    """The periods instant `at` falls in (`office`, or one or two of the others)."""
    if calendar.is_open(at):
        return frozenset({OFFICE})
    assert isinstance(calendar, BusinessCalendar)  # only the 24x7 clock is never shut
    local = at.astimezone(calendar.tzinfo)
    day = local.date()
    spans = calendar.day_spans(day)
    if spans and to_us(at) < spans[0][0]:
        day -= _ONE_DAY
    return day_periods(calendar, day)


class WorkedHours(DayTable):
    """The hours a severity is worked: office hours of `office`, the out-of-office `periods`
    it names, and the hours `extra` (a calendar of its own) is open."""

    def __init__(
        self, office: BusinessCalendar, periods: frozenset[str], extra: Clock | None = None
    ) -> None:
        unknown = periods - ALWAYS
        if unknown:
            raise ValueError(f"unknown periods {sorted(unknown)}; use {', '.join(WORK_PERIODS)}")
        super().__init__(office.timezone, f"{office.name or office.timezone} worked")
        self._office = office
        self._periods = periods | {OFFICE}
        self._extra = extra

    def __repr__(self) -> str:
        extra = f" + {self._extra!r}" if self._extra is not None else ""
        worked = ", ".join(p for p in WORK_PERIODS if p in self._periods)
        return f"WorkedHours({self._office!r}: {worked}{extra})"

    def _day_spans(self, day: date, start: int, end: int) -> Spans:
        office = self._office.day_spans(day)
        pieces = list(office)
        first_opening = office[0][0] if office else start
        cursor = start
        for opens, closes in [*office, (end, end)]:
            if cursor < opens:
                # Before the day's first opening the hours are the previous day's.
                if cursor < first_opening:
                    self._add(pieces, day - _ONE_DAY, cursor, min(opens, first_opening))
                if opens > first_opening:
                    self._add(pieces, day, max(cursor, first_opening), opens)
            cursor = max(cursor, closes)
        if self._extra is not None:
            pieces.extend(self._extra.spans_between_us(start, end))
        return _merged(pieces)

    def _add(self, pieces: list[tuple[int, int]], owner: date, start: int, end: int) -> None:
        if start < end and day_periods(self._office, owner) & self._periods:
            pieces.append((start, end))


def _merged(pieces: list[tuple[int, int]]) -> Spans:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


@lru_cache(maxsize=256)
def _worked_hours(
    office: BusinessCalendar, periods: frozenset[str], extra: Clock | None
) -> WorkedHours:
    return WorkedHours(office, periods, extra)


def coverage_clock(calendar: Clock, severity: Severity, extra: Clock | None = None) -> Clock:
    """The clock that is open exactly when `severity` is worked, under a plan on `calendar`.

    `extra` is the clock of the severity's own calendar (`worked: <calendar>`), if it names one.
    """
    if severity.worked_calendar is not None and extra is None:
        raise ValueError(
            f"severity {severity.name!r} is worked on calendar "
            f"{severity.worked_calendar!r}: pass its clock"
        )
    periods = severity.periods
    if isinstance(calendar, AlwaysOpen) or periods == ALWAYS or isinstance(extra, AlwaysOpen):
        return ALWAYS_OPEN
    assert isinstance(calendar, BusinessCalendar)
    if periods == {OFFICE} and extra is None:
        return calendar
    return _worked_hours(calendar, periods, extra)


def worked_names(severity: Severity) -> list[str]:
    """What `sla due` prints for a severity's coverage: its periods in order, and its own
    calendar if it names one."""
    names = [p for p in WORK_PERIODS if p in severity.periods]
    if severity.worked_calendar is not None:
        names.append(f"calendar {severity.worked_calendar}")
    return names
