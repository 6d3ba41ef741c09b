"""Properties of business-time arithmetic over random calendars, zones and instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uptimeguard.config.models import Severity, Target
from uptimeguard.sla import REGIONS, BusinessCalendar, bank_holidays, compute_deadlines

ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "UTC")
US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LOW = datetime(2025, 12, 1, tzinfo=UTC)
HIGH = datetime(2027, 12, 31, tzinfo=UTC)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _changes(zone: str) -> list[datetime]:
    """Instants at which `zone` changes its offset between LOW and HIGH (hour resolution)."""
    tz, found = ZoneInfo(zone), []

    def offset(at: datetime) -> timedelta | None:
        return at.astimezone(tz).utcoffset()

    day = LOW
    while day < HIGH:
        if offset(day) != offset(day + timedelta(days=1)):
            hour = day
            while offset(hour) == offset(day):
                hour += timedelta(hours=1)
            found.append(hour)
        day += timedelta(days=1)
    return found


CHANGES = [c for zone in ZONES for c in _changes(zone)]


def _as_time(quarter: int) -> time:
    return time(0, 0) if quarter == 96 else time(quarter // 4, quarter % 4 * 15)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for weekday in range(7):
        cuts = sorted(draw(st.lists(st.integers(0, 96), max_size=6, unique=True)))
        pairs = tuple(
            (_as_time(cuts[i]), _as_time(cuts[i + 1])) for i in range(0, len(cuts) - 1, 2)
        )
        if pairs:
            hours[weekday] = pairs
    if not hours:
        hours[draw(st.integers(0, 6))] = ((time(9), time(17)),)
    closed = draw(st.frozensets(st.dates(date(2025, 11, 1), date(2028, 2, 1)), max_size=25))
    return BusinessCalendar(
        draw(st.sampled_from(ZONES)),
        hours,
        draw(st.sampled_from([None, *REGIONS])),
        closed,
    )


def _instant(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


# Uniform over two years, or within two days of a daylight-saving change.
instants = st.one_of(
    st.integers((LOW - EPOCH) // US, (HIGH - EPOCH) // US).map(_instant),
    st.tuples(st.sampled_from(CHANGES), st.integers(-2 * 86_400, 2 * 86_400)).map(
        lambda pair: pair[0] + timedelta(seconds=pair[1])
    ),
)
durations = st.one_of(
    st.integers(0, 4 * 3600),
    st.integers(0, 400 * 3600),
    st.integers(0, 10**6).map(lambda us: us / 10**6),
).map(lambda s: timedelta(seconds=s))


def _open_or_closing(cal: BusinessCalendar, at: datetime) -> bool:
    return cal.is_open(at) or cal.is_open(at - US)


@SETTINGS
@given(calendars(), instants, durations)
def test_add_then_measure_gives_back_the_duration(
    cal: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    due = cal.add(start, amount)
    assert due >= start
    assert cal.elapsed(start, due) == amount
    assert _open_or_closing(cal, due)  # a deadline never falls inside closed time


@SETTINGS
@given(calendars(), instants, durations, durations)
def test_adding_in_two_steps_is_adding_the_sum(
    cal: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@SETTINGS
@given(calendars(), instants)
def test_next_open_is_open_and_nothing_opens_before_it(cal: BusinessCalendar, at: datetime) -> None:
    opening = cal.next_open(at)
    assert opening >= at and cal.is_open(opening)
    assert cal.elapsed(at, opening) == timedelta(0)
    assert (opening == at) == cal.is_open(at)


@SETTINGS
@given(calendars(), instants, st.integers(0, 12))
def test_working_days_land_in_hours_and_grow(
    cal: BusinessCalendar, start: datetime, days: int
) -> None:
    due = cal.add_working_days(start, days)
    assert _open_or_closing(cal, due)
    later = cal.add_working_days(start, days + 1)
    # Never earlier; it can be the same instant when the next working day opens after the
    # local time and the one before closed before it (irregular hours).
    assert later >= due
    # Each working day adds at most one day's worth of hours.
    assert cal.elapsed(due, later) <= timedelta(hours=25)


@SETTINGS
@given(calendars(), instants, st.integers(0, 40 * 86_400))
def test_is_open_and_elapsed_agree_with_wall_clock_on_ordinary_days(
    cal: BusinessCalendar, at: datetime, span: int
) -> None:
    tz = ZoneInfo(cal.timezone)
    local = at.astimezone(tz)
    day = local.date()
    midnight = datetime.combine(day, time(0), tz)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tz)
    if next_midnight.astimezone(UTC) - midnight.astimezone(UTC) != timedelta(days=1):
        return  # a day with a clock change: covered by the other properties

    def hours(d: date) -> tuple[tuple[int, int], ...]:
        holidays = bank_holidays(cal.holidays, d.year) if cal.holidays else frozenset()
        return () if d in cal.closed or d in holidays else cal._weekly[d.weekday()]

    wall = local.replace(tzinfo=None) - datetime.combine(day, time(0))
    spans = hours(day)
    expected = any(o <= wall // US < c for o, c in spans)
    assert cal.is_open(at) is expected
    if cal.timezone == "UTC":  # a plain reference sum, day by day
        end = at + timedelta(seconds=span)
        total, cursor = 0, datetime.combine(at.date(), time(0), UTC)
        while cursor < end:
            d = cursor.date()
            for o, c in hours(d):
                lo = max(cursor + timedelta(microseconds=o), at)
                hi = min(cursor + timedelta(microseconds=c), end)
                total += max((hi - lo) // US, 0)
            cursor += timedelta(days=1)
        assert cal.elapsed(at, end) == timedelta(microseconds=total)


severities = st.builds(
    Severity,
    name=st.just("s"),
    response=st.builds(Target, st.integers(1, 600), st.sampled_from("mh")),
    resolution=st.builds(Target, st.integers(1, 12), st.sampled_from("hd")),
    clock=st.sampled_from(["business", "24x7"]),
    out_of_hours=st.booleans(),
)
pauses = st.lists(
    st.tuples(
        st.integers(-86_400, 20 * 86_400),
        st.one_of(st.none(), st.integers(0, 3 * 86_400)),
    ),
    max_size=3,
)


@SETTINGS
@given(calendars(), severities, instants, pauses)
def test_a_pause_never_brings_a_deadline_earlier(
    cal: BusinessCalendar, severity: Severity, opened: datetime, raw: list
) -> None:
    stops = [
        (opened + timedelta(seconds=s), None if n is None else opened + timedelta(seconds=s + n))
        for s, n in raw
    ]
    plain = compute_deadlines(cal, severity, opened)
    paused = compute_deadlines(cal, severity, opened, stops)
    for before, after in (
        (plain.response_due, paused.response_due),
        (plain.resolution_due, paused.resolution_due),
    ):
        assert before is not None
        assert after is None or after >= before
        if not stops:
            assert after == before
