"""Coverage by day and time: which periods a moment falls in, and the hours a severity with
`worked: [...]` is worked, with hold-over and `clock: worked` deadlines, computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from uptimeguard.config.models import Calendar, Plan, Severity, Target
from uptimeguard.sla import SlaEngine, calendar_from_config, compute_deadlines
from uptimeguard.sla.clock import ALWAYS_OPEN
from uptimeguard.sla.coverage import WorkedHours, coverage_clock, periods_at

LONDON = ZoneInfo("Europe/London")


def uk_calendar() -> Calendar:
    """uk-office: Mon-Fri 08:00-18:00 Europe/London, England and Wales bank holidays."""
    hours = dict.fromkeys(range(5), ((time(8), time(18)),))
    return Calendar("uk-office", "Europe/London", hours, "england-and-wales")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def sev(name: str, *worked: str, clock: str = "worked", calendar: str | None = None) -> Severity:
    return Severity(name, Target(1, "h"), Target(8, "h"), clock, False, worked, calendar)


@pytest.fixture
def office():  # type: ignore[no-untyped-def]
    return calendar_from_config(uk_calendar())


@pytest.mark.parametrize(
    ("moment", "periods"),
    [
        ("2026-11-24 10:00", {"office"}),  # Tuesday
        ("2026-11-24 20:00", {"evenings"}),  # Tuesday evening
        ("2026-11-25 03:00", {"evenings"}),  # small hours of Wednesday: Tuesday's night
        ("2026-11-27 23:00", {"evenings"}),  # Friday evening
        ("2026-11-28 03:00", {"weekends"}),  # Saturday
        ("2026-11-30 07:59", {"weekends"}),  # before Monday's opening: still the weekend
        ("2026-11-30 08:00", {"office"}),
        ("2026-12-28 12:00", {"bank_holidays"}),  # Boxing Day (observed), a Monday
        ("2026-12-29 06:00", {"bank_holidays"}),  # before Tuesday's opening: the holiday's
        ("2026-12-26 12:00", {"weekends", "bank_holidays"}),  # Boxing Day on a Saturday
    ],
)
def test_periods_of_a_moment(office, moment: str, periods: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert periods_at(office, london(moment)) == periods


def test_office_and_evenings_is_every_weekday_hour_but_the_weekend(office) -> None:  # type: ignore[no-untyped-def]
    worked = WorkedHours(office, frozenset({"office", "evenings"}))
    assert worked.is_open(london("2026-11-24 20:00"))
    assert worked.is_open(london("2026-11-25 03:00"))
    assert worked.is_open(london("2026-11-27 23:59"))
    assert not worked.is_open(london("2026-11-28 00:00"))  # Saturday starts the weekend
    assert not worked.is_open(london("2026-11-30 07:00"))  # Monday's small hours: weekend
    # From Saturday the next worked moment is Monday's opening, the next working day.
    assert worked.next_open(london("2026-11-28 10:00")) == london("2026-11-30 08:00")


def test_weekends_only_out_of_office(office) -> None:  # type: ignore[no-untyped-def]
    worked = WorkedHours(office, frozenset({"office", "weekends"}))
    assert not worked.is_open(london("2026-11-27 20:00"))  # Friday evening
    assert worked.next_open(london("2026-11-27 20:00")) == london("2026-11-28 00:00")
    assert worked.is_open(london("2026-11-30 07:00"))  # Monday's small hours
    # Saturday 00:00 to Tuesday 18:00 without a break, but Monday's 18:00 opens the evening.
    assert worked.elapsed(london("2026-11-28 00:00"), london("2026-11-30 18:00")) == (
        datetime(2026, 11, 30, 18, tzinfo=UTC) - datetime(2026, 11, 28, tzinfo=UTC)
    )
    assert not worked.is_open(london("2026-11-30 18:00"))


def test_bank_holidays_without_evenings(office) -> None:  # type: ignore[no-untyped-def]
    worked = WorkedHours(office, frozenset({"office", "bank_holidays"}))
    assert worked.is_open(london("2026-12-28 12:00"))  # Boxing Day (observed)
    assert worked.is_open(london("2026-12-29 06:00"))  # the holiday's night
    assert not worked.is_open(london("2026-12-29 18:30"))  # an ordinary Tuesday evening
    assert worked.is_open(london("2026-12-26 12:00"))  # a holiday at the weekend is both


def test_across_the_clock_change(office) -> None:  # type: ignore[no-untyped-def]
    # Sunday 29 March 2026: clocks go forward at 01:00 GMT; Friday evening to Monday 08:00.
    worked = WorkedHours(office, frozenset({"office", "evenings", "weekends"}))
    friday, monday = london("2026-03-27 18:00"), london("2026-03-30 08:00")
    assert worked.elapsed(friday, monday).total_seconds() == (62 - 1) * 3600


def test_a_calendar_of_its_own() -> None:
    office = calendar_from_config(uk_calendar())
    seven = calendar_from_config(
        Calendar("uk-7day", "Europe/London", dict.fromkeys(range(7), ((time(8), time(18)),)))
    )
    worked = coverage_clock(office, sev("s", calendar="uk-7day"), seven)
    assert worked.is_open(london("2026-11-28 10:00"))  # Saturday, on uk-7day
    assert not worked.is_open(london("2026-11-28 19:00"))
    assert worked.next_open(london("2026-11-28 19:00")) == london("2026-11-29 08:00")
    assert worked.day_spans(date(2026, 11, 24)) == office.day_spans(date(2026, 11, 24))


def test_coverage_shorthands(office) -> None:  # type: ignore[no-untyped-def]
    always = Severity("a", Target(1, "h"), Target(8, "h"), out_of_hours=True)
    assert coverage_clock(office, always) is ALWAYS_OPEN
    assert coverage_clock(office, sev("b", "office", "evenings", "weekends", "bank_holidays")) is (
        ALWAYS_OPEN
    )
    assert coverage_clock(office, sev("c")) is office
    assert coverage_clock(ALWAYS_OPEN, sev("d", "office")) is ALWAYS_OPEN


def _plan() -> Plan:
    return Plan(
        "s1-s5",
        "uk-office",
        (
            Severity("s1", Target(30, "m"), Target(4, "h"), "24x7", out_of_hours=True),
            sev("s2", "office", "evenings"),
            Severity("s3", Target(4, "h"), Target(2, "d")),
        ),
        {"down": "s1"},
    )


@pytest.fixture
def engine() -> SlaEngine:
    return SlaEngine({"s1-s5": _plan()}, {"uk-office": uk_calendar()})


def test_s2_on_saturday_is_held_over_to_monday_at_eight(engine: SlaEngine) -> None:
    opened = london("2026-11-28 11:00")
    assert not engine.covered("s1-s5", "s2", opened)
    d = engine.deadlines("s1-s5", "s2", opened)
    assert d.held_over and d.clock_starts == london("2026-11-30 08:00")
    assert d.response_due == london("2026-11-30 09:00")
    assert d.resolution_due == london("2026-11-30 16:00")


def test_s2_on_tuesday_evening_is_worked_at_once(engine: SlaEngine) -> None:
    opened = london("2026-11-24 20:00")
    assert engine.covered("s1-s5", "s2", opened)
    assert engine.periods_at("s1-s5", opened) == ["evenings"]
    d = engine.deadlines("s1-s5", "s2", opened)
    assert not d.held_over and d.clock_starts == opened
    assert d.response_due == london("2026-11-24 21:00")
    assert d.resolution_due == london("2026-11-25 04:00")  # evening hours run on


def test_s2_on_friday_evening_runs_into_the_weekend_and_waits(engine: SlaEngine) -> None:
    d = engine.deadlines("s1-s5", "s2", london("2026-11-27 22:00"))
    assert not d.held_over
    assert d.response_due == london("2026-11-27 23:00")
    # 2 h of Friday evening, then nothing until Monday 08:00, then 6 more hours.
    assert d.resolution_due == london("2026-11-30 14:00")


def test_an_upgrade_to_a_worked_severity_brings_a_held_incident_forward(
    engine: SlaEngine,
) -> None:
    opened = london("2026-11-24 20:00")
    held = engine.deadlines("s1-s5", "s3", opened)
    assert held.held_over and held.clock_starts == london("2026-11-25 08:00")
    up = engine.upgrade("s1-s5", held, "s2", london("2026-11-24 21:00"))
    assert not up.held_over
    assert up.response_due == london("2026-11-24 22:00")


def test_sla_escalation_follows_the_worked_clock() -> None:
    office = calendar_from_config(uk_calendar())
    s2 = sev("s2", "office", "evenings")
    half = compute_deadlines(office, s2, london("2026-11-27 23:00"), share=0.5)
    assert half.response_due == london("2026-11-27 23:30")
    assert half.resolution_due == london("2026-11-30 11:00")  # 1 h Friday + 3 h Monday
