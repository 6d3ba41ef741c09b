"""Clocks an SLA target is measured on: the common interface, and the 24x7 clock.

Every method takes and returns timezone-aware instants (results are UTC); the `*_us` twins do
the same on integer microseconds since the epoch, for hot paths.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timedelta

from uptimeguard.sla._instants import DAY_US, from_us, span_us, to_us


class Clock(ABC):
    """Something SLA time is measured on. Instants are aware datetimes; results are UTC.

    `add` returns the EARLIEST instant at which `duration` of clock time has elapsed since
    `start`, so a duration that runs out exactly at a closing time ends at that closing time,
    not at the next opening. Time outside hours does not count: from a closed instant the clock
    starts at the next opening.
    """

    @abstractmethod
    def is_open_us(self, at: int) -> bool: ...

    @abstractmethod
    def next_open_us(self, at: int) -> int: ...

    @abstractmethod
    def add_us(self, start: int, amount: int) -> int: ...

    @abstractmethod
    def elapsed_us(self, start: int, end: int) -> int: ...

    @abstractmethod
    def add_working_days_us(self, start: int, days: int) -> int: ...

    @abstractmethod
    def spans_between_us(self, start: int, end: int) -> list[tuple[int, int]]:
        """The open spans that meet [start, end), clipped to it, in order."""

    def is_open(self, at: datetime) -> bool:
        """True when `at` lies in opening hours; an opening moment is open, a closing one not."""
        return self.is_open_us(to_us(at))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the next opening moment."""
        return from_us(self.next_open_us(to_us(at)))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant at which `duration` of clock time has elapsed since `start`."""
        if duration < timedelta(0):
            raise ValueError("cannot add a negative duration of business time")
        return from_us(self.add_us(to_us(start), span_us(duration)))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Clock time between two instants (negative when `end` is before `start`)."""
        return timedelta(microseconds=self.elapsed_us(to_us(start), to_us(end)))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """`days` working days after `start`: the same local time on the Nth following working
        day (a day with any opening hours). Where that is the day's opening moment, the result
        is the previous working day's closing moment, the same instant of business time. In
        general it is the EARLIEST instant with as much business time behind it as that local
        time on that day: so a time before the day opens also gives the previous closing, one
        after it closes gives its closing, and one in a break gives the break's start.

        From a closed instant the count starts at the next opening, so 1 working day from
        Tuesday's 08:00 opening is Tuesday's 18:00 closing, and so is 1 working day from
        Monday's 18:00 closing. On the 24x7 clock a working day is 24 hours."""
        if days < 0:
            raise ValueError("cannot add a negative number of working days")
        return from_us(self.add_working_days_us(to_us(start), days))


class AlwaysOpen(Clock):
    """The 24x7 clock: every instant counts, and a day is 24 hours of real time."""

    def is_open_us(self, at: int) -> bool:
        return True

    def next_open_us(self, at: int) -> int:
        return at

    def add_us(self, start: int, amount: int) -> int:
        return start + amount

    def elapsed_us(self, start: int, end: int) -> int:
        return end - start

    def add_working_days_us(self, start: int, days: int) -> int:
        return start + days * DAY_US

    def spans_between_us(self, start: int, end: int) -> list[tuple[int, int]]:
        return [(start, end)] if start < end else []

    def __repr__(self) -> str:
        return "AlwaysOpen()"


ALWAYS_OPEN = AlwaysOpen()
