"""Daily uptime rollups: probe results folded into one row per site and day. Pure.

A day is a calendar day in the zone of the customer's status page (`zone`; the page's bars and
the monthly report count those days): 24 hours, or 23 and 25 on the days clocks change.

Each probe result stands for the time from its own instant until the next result, but for at
most `max_span` (a site's results normally arrive every `interval`; past that the time is
*unobserved*, counted neither up nor down, e.g. while the daemon was stopped). That time is
`up` (outcome `up` or `slow`), `down` (any other outcome) or `maintenance` (the probe ran in a
maintenance window; never counted against uptime). A day's uptime is up / (up + down) seconds,
so the faster rechecks after a failure do not weigh an outage more than its duration.

A *down run* is an unbroken stretch of down time (an up or maintenance span, or an unobserved
gap, ends it). Each day keeps its longest run, the run it started with and the run it ended
with, so runs that cross midnight are joined again by `longest_outage` over many days.

`DayRollup` is the fold's state as well as its result: `add` one result, `advance` the time
accounted for; today's row is brought up to date from the new results alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from uptimeguard.storage.models import DEFAULT_LOCATION

UP, DOWN, MAINTENANCE = "up", "down", "maintenance"
GOOD_OUTCOMES = frozenset({"up", "slow"})
DAY = timedelta(days=1)


def kind_of(outcome: str, in_maintenance: bool) -> str:
    """What the time after a probe result counts as."""
    if in_maintenance:
        return MAINTENANCE
    return UP if outcome in GOOD_OUTCOMES else DOWN


def day_start(day: date, zone: str = "UTC") -> datetime:
    """The UTC instant `day` begins in `zone`."""
    if zone == "UTC":
        return datetime.combine(day, time(0), tzinfo=UTC)
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def day_of(at: datetime, zone: str = "UTC") -> date:
    """The date of instant `at` in `zone`."""
    return at.astimezone(UTC if zone == "UTC" else ZoneInfo(zone)).date()


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


@dataclass(slots=True)
class DayRollup:
    customer: str
    site: str
    day: date
    accounted_to: datetime  # time before this instant has been counted
    good: int = 0
    total: int = 0  # probes outside maintenance
    maintenance: int = 0  # probes inside maintenance
    up_seconds: float = 0.0
    down_seconds: float = 0.0
    maintenance_seconds: float = 0.0
    longest_down_seconds: float = 0.0
    longest_started_at: datetime | None = None
    down_at_start_seconds: float = 0.0  # the run that began at the day's first instant
    run_started_at: datetime | None = None  # the latest down run
    run_ended_at: datetime | None = None
    last_at: datetime | None = None  # the latest result so far (maybe on an earlier day)
    last_kind: str | None = None
    complete: bool = False
    location: str = DEFAULT_LOCATION  # whose results these are
    zone: str = "UTC"  # whose calendar day `day` is (not stored: the site's page zone)

    @property
    def start(self) -> datetime:
        return day_start(self.day, self.zone)

    @property
    def end(self) -> datetime:
        if self.zone == "UTC":
            return day_start(self.day) + DAY
        return day_start(self.day + DAY, self.zone)

    @property
    def length_seconds(self) -> float:
        """The day's length: 86,400 s, or 82,800 and 90,000 on the days clocks change."""
        return (self.end - self.start).total_seconds()

    @property
    def observed_seconds(self) -> float:
        """Up plus down seconds: the time uptime is measured over."""
        return self.up_seconds + self.down_seconds

    @property
    def uptime(self) -> float | None:
        """Up / (up + down) for the day, or None when nothing counted was observed."""
        observed = self.observed_seconds
        return self.up_seconds / observed if observed > 0 else None

    @property
    def down_at_end_seconds(self) -> float:
        """The down run still running at the end of the day (0 unless the day is over)."""
        if self.run_ended_at is None or self.run_started_at is None:
            return 0.0
        if self.run_ended_at != self.end:
            return 0.0
        return (self.run_ended_at - self.run_started_at).total_seconds()

    @classmethod
    def begin(
        cls,
        customer: str,
        site: str,
        day: date,
        previous: DayRollup | None = None,
        location: str = DEFAULT_LOCATION,
        zone: str = "UTC",
    ) -> DayRollup:
        """An empty day of `zone`; `previous` (the day before) carries its last result, its
        location and its zone over midnight."""
        if previous is not None:
            location, zone = previous.location, previous.zone
        row = cls(
            customer, site, day, accounted_to=day_start(day, zone), location=location, zone=zone
        )
        if previous is not None:
            row.last_at, row.last_kind = previous.last_at, previous.last_kind
            if previous.down_at_end_seconds > 0:  # the outage goes on past midnight
                row.run_started_at = row.run_ended_at = row.start
        return row

    def next_day(self, max_span: timedelta) -> DayRollup:
        """Close this day (count time to its end, mark it complete) and begin the next."""
        self.advance(self.end, max_span)
        self.complete = True
        return DayRollup.begin(self.customer, self.site, self.day + DAY, self)

    def add(self, at: datetime, kind: str, max_span: timedelta) -> None:
        """Fold in one probe result taken at `at` (within this day, after `last_at`)."""
        self.advance(at, max_span)
        if kind == MAINTENANCE:
            self.maintenance += 1
        else:
            self.total += 1
            self.good += kind == UP
        self.last_at, self.last_kind = at, kind

    def advance(self, to: datetime, max_span: timedelta) -> None:
        """Count the time up to `to` (at most the day's end) as the latest result says."""
        to = min(to, self.end)
        if to <= self.accounted_to:
            return
        if self.last_at is not None and self.last_kind is not None:
            covered_to = min(to, self.last_at + max_span)
            if covered_to > self.accounted_to:
                self._count(self.last_kind, self.accounted_to, covered_to)
        self.accounted_to = to

    def _count(self, kind: str, start: datetime, end: datetime) -> None:
        seconds = (end - start).total_seconds()
        if kind == UP:
            self.up_seconds += seconds
            return
        if kind == MAINTENANCE:
            self.maintenance_seconds += seconds
            return
        self.down_seconds += seconds
        if self.run_ended_at != start or self.run_started_at is None:
            self.run_started_at = start  # a new run: the last one was broken
        self.run_ended_at = end
        length = (end - self.run_started_at).total_seconds()
        if length > self.longest_down_seconds:
            self.longest_down_seconds = length
            self.longest_started_at = self.run_started_at
        if self.run_started_at == self.start:
            self.down_at_start_seconds = length

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in STORED_FIELDS}

    @classmethod
    def from_row(cls, row: Any, zone: str = "UTC") -> DayRollup:
        """From a `DailyRollupRow` (or anything with the same attributes), a day of `zone`."""
        return cls(**{name: getattr(row, name) for name in STORED_FIELDS}, zone=zone)

    def copy(self) -> DayRollup:
        return replace(self)


STORED_FIELDS = tuple(f.name for f in fields(DayRollup) if f.name != "zone")  # the stored columns


@dataclass(frozen=True, slots=True)
class Outage:
    seconds: float
    started_at: datetime | None


def longest_outage(days: Iterable[DayRollup]) -> Outage:
    """The longest down run over consecutive days, joining runs that cross midnight."""
    best = Outage(0.0, None)
    carry = Outage(0.0, None)  # the run the previous day ended with
    previous: date | None = None
    for row in sorted(days, key=lambda r: r.day):
        if row.longest_down_seconds > best.seconds:
            best = Outage(row.longest_down_seconds, row.longest_started_at)
        joined = previous is not None and row.day == previous + DAY and carry.seconds > 0
        if joined and row.down_at_start_seconds > 0:
            chain = Outage(carry.seconds + row.down_at_start_seconds, carry.started_at)
            if chain.seconds > best.seconds:
                best = chain
            whole_day = row.down_at_start_seconds >= row.length_seconds
            carry = chain if whole_day else _ending_run(row)
        else:
            carry = _ending_run(row)
        previous = row.day
    return best


def _ending_run(row: DayRollup) -> Outage:
    seconds = row.down_at_end_seconds
    return Outage(seconds, row.run_started_at if seconds else None)


@dataclass(frozen=True, slots=True)
class Seconds:
    """Up and down seconds summed over some days (what `uptime_of` reads)."""

    up_seconds: float
    down_seconds: float


def uptime_of(days: Iterable[Any]) -> float | None:
    """Up / (up + down) over many days (anything with `up_seconds` and `down_seconds`);
    None when nothing was observed."""
    up = down = 0.0
    for row in days:
        up += row.up_seconds
        down += row.down_seconds
    return up / (up + down) if up + down > 0 else None


ADDED_UP = (
    "good",
    "total",
    "maintenance",
    "up_seconds",
    "down_seconds",
    "maintenance_seconds",
)


def combine_locations(rows: Sequence[Any], columns: Sequence[str]) -> Any:
    """One site's day as several locations saw it (rows of the same site and day, with
    `columns` as attributes): probes and seconds added up, so uptime is the share of the time
    observed from anywhere that was up; the longest and the boundary down runs are the longest
    any location saw; the fold's own state is the newest row's. One row is returned as it is."""
    if len(rows) == 1:
        return rows[0]
    newest = max(rows, key=lambda r: getattr(r, "accounted_to", None) or datetime.min)
    merged = {name: getattr(newest, name) for name in columns}
    for name in columns:
        if name in ADDED_UP:
            merged[name] = sum(getattr(r, name) or 0 for r in rows)
    if "longest_down_seconds" in merged:
        longest = max(rows, key=lambda r: r.longest_down_seconds or 0.0)
        merged["longest_down_seconds"] = longest.longest_down_seconds
        if "longest_started_at" in merged:
            merged["longest_started_at"] = longest.longest_started_at
    if "down_at_start_seconds" in merged:
        merged["down_at_start_seconds"] = max(r.down_at_start_seconds or 0.0 for r in rows)
    if "complete" in merged:
        merged["complete"] = all(r.complete for r in rows)
    return SimpleNamespace(**merged)
