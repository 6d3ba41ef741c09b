"""Business calendars: hours, holidays by region, daylight saving, working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from uptimeguard.config.models import Calendar
from uptimeguard.sla import ALWAYS_OPEN, BusinessCalendar, bank_holidays, calendar_from_config

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)
WEEKDAYS = range(5)


def london(text: str) -> datetime:
    """A London wall time, e.g. '2026-02-06 17:00' (unambiguous times only)."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def office(region: str | None = "england-and-wales", days: range = WEEKDAYS, **kw: object):
    return BusinessCalendar(
        "Europe/London", dict.fromkeys(days, ((time(8), time(18)),)), region, **kw
    )  # type: ignore[arg-type]


def test_query_opened_friday_17_is_due_monday_15() -> None:
    due = office().add(london("2026-02-06 17:00"), 8 * H)
    assert due == london("2026-02-09 15:00")
    assert due.tzinfo is UTC


def test_query_in_summer_time_is_due_monday_15_bst() -> None:
    assert office().add(london("2026-07-03 17:00"), 8 * H) == utc("2026-07-06 14:00")


def test_christmas_and_substitute_boxing_day_are_skipped() -> None:
    # Thu 24 Dec 17:30: 30 minutes that day; Fri 25 Christmas, Mon 28 Boxing Day (observed).
    assert office().add(london("2026-12-24 17:30"), 2 * H) == london("2026-12-29 09:30")


def test_landing_exactly_on_closing_time_is_that_closing_time() -> None:
    cal = office()
    assert cal.add(london("2026-02-10 16:00"), 2 * H) == london("2026-02-10 18:00")
    assert cal.add(london("2026-02-10 08:00"), 10 * H) == london("2026-02-10 18:00")
    # From the closing moment itself the clock starts at the next opening.
    assert cal.add(london("2026-02-10 18:00"), H) == london("2026-02-11 09:00")


def test_outside_hours_the_clock_starts_at_the_next_opening() -> None:
    cal = office()
    assert cal.add(london("2026-02-07 12:00"), H) == london("2026-02-09 09:00")  # Saturday
    assert cal.add(london("2026-02-09 06:00"), 30 * M) == london("2026-02-09 08:30")
    assert cal.add(london("2026-02-08 12:00"), timedelta(0)) == london("2026-02-09 08:00")
    assert cal.add(london("2026-02-10 12:00"), timedelta(0)) == london("2026-02-10 12:00")


def test_is_open_and_next_open() -> None:
    cal = office()
    assert cal.is_open(london("2026-02-10 08:00"))
    assert cal.is_open(london("2026-02-10 17:59:59.999999"))
    assert not cal.is_open(london("2026-02-10 18:00"))
    assert not cal.is_open(london("2026-02-07 12:00"))
    assert cal.next_open(london("2026-02-10 12:00")) == london("2026-02-10 12:00")
    assert cal.next_open(london("2026-02-10 18:00")) == london("2026-02-11 08:00")
    assert cal.next_open(london("2026-12-24 19:00")) == london("2026-12-29 08:00")


def test_elapsed_counts_only_open_time() -> None:
    cal = office()
    assert cal.elapsed(london("2026-02-06 17:00"), london("2026-02-09 09:00")) == 2 * H
    assert cal.elapsed(london("2026-02-09 09:00"), london("2026-02-06 17:00")) == -2 * H
    assert cal.elapsed(london("2026-02-07 01:00"), london("2026-02-08 23:00")) == timedelta(0)
    # 2026 has 261 weekdays, 8 of them bank holidays in England and Wales.
    year = cal.elapsed(utc("2026-01-01 00:00"), utc("2027-01-01 00:00"))
    assert year == 253 * 10 * H
    assert cal.add(utc("2026-01-01 00:00"), year) == london("2026-12-31 18:00")


def test_add_across_the_new_year() -> None:
    # Thu 31 Dec 17:00: one hour; Fri 1 Jan 2027 New Year's Day; then Mon 4 Jan.
    assert office().add(london("2026-12-31 17:00"), 10 * H) == london("2027-01-04 17:00")


# -- working days -----------------------------------------------------------------------


def test_one_working_day_from_tuesday_opening_is_tuesday_closing() -> None:
    assert office().add_working_days(london("2026-02-10 08:00"), 1) == london("2026-02-10 18:00")


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        ("2026-02-09 17:00", 1, "2026-02-10 17:00"),
        ("2026-02-06 12:00", 1, "2026-02-09 12:00"),  # Friday to Monday
        ("2026-02-07 10:00", 1, "2026-02-09 18:00"),  # Saturday: counts from Monday 08:00
        ("2026-02-06 18:00", 1, "2026-02-09 18:00"),  # from a closing moment, likewise
        ("2026-02-07 10:00", 0, "2026-02-09 08:00"),
        ("2026-12-11 12:00", 10, "2026-12-29 12:00"),  # over Christmas and Boxing Day (obs.)
        ("2026-12-24 17:30", 1, "2026-12-29 17:30"),
        ("2026-02-06 17:00", 10, "2026-02-20 17:00"),
    ],
)
def test_working_days(start: str, days: int, due: str) -> None:
    assert office().add_working_days(london(start), days) == london(due)


def test_working_day_onto_shorter_day_ends_at_its_closing() -> None:
    hours = {d: ((time(8), time(18)),) for d in range(4)} | {4: ((time(8), time(16)),)}
    cal = BusinessCalendar("Europe/London", hours)
    # 17:00 Friday is after Friday's 16:00 close: the whole day is the same business time.
    assert cal.add_working_days(london("2026-02-05 17:00"), 1) == london("2026-02-06 16:00")


def test_working_days_with_a_lunch_break() -> None:
    hours = dict.fromkeys(WEEKDAYS, ((time(9), time(12, 30)), (time(13, 30), time(17))))
    cal = BusinessCalendar("Europe/London", hours)
    assert cal.add(london("2026-02-09 12:00"), H) == london("2026-02-09 14:00")
    assert cal.add(london("2026-02-09 11:30"), H) == london("2026-02-09 12:30")
    assert not cal.is_open(london("2026-02-09 12:30"))
    assert cal.next_open(london("2026-02-09 12:45")) == london("2026-02-09 13:30")
    # The earliest instant with the same business time as Tuesday 13:30 is the 12:30 close.
    assert cal.add_working_days(london("2026-02-09 13:00"), 1) == london("2026-02-10 12:30")
    assert cal.add_working_days(london("2026-02-09 15:00"), 1) == london("2026-02-10 15:00")


def test_close_at_midnight_runs_into_the_next_day() -> None:
    cal = BusinessCalendar("Europe/London", {0: ((time(20), time(0)),), 1: ((time(0), time(2)),)})
    assert cal.is_open(london("2026-02-10 00:00"))
    assert cal.add(london("2026-02-09 23:00"), 2 * H) == london("2026-02-10 01:00")
    assert cal.add(london("2026-02-09 20:00"), 4 * H) == london("2026-02-10 00:00")
    assert cal.add(london("2026-02-10 02:00"), H) == london("2026-02-16 21:00")


# -- bank holidays and regions ----------------------------------------------------------


def test_england_and_scotland_differ_on_st_andrews_day() -> None:
    opened = london("2026-11-27 17:00")  # Friday; Mon 30 Nov is St Andrew's Day in Scotland
    assert office().add(opened, 2 * H) == london("2026-11-30 09:00")
    assert office("scotland").add(opened, 2 * H) == london("2026-12-01 09:00")


@pytest.mark.parametrize(
    ("opened", "england", "scotland"),
    [
        ("2026-07-31 17:00", "2026-08-03 09:00", "2026-08-04 09:00"),  # Scottish August
        ("2026-08-28 17:00", "2026-09-01 09:00", "2026-08-31 09:00"),  # English August
        ("2025-12-31 17:00", "2026-01-02 09:00", "2026-01-05 09:00"),  # 2 January
        ("2026-12-31 17:00", "2027-01-04 09:00", "2027-01-05 09:00"),  # 2 Jan 2027 (obs.)
    ],
)
def test_regional_holidays(opened: str, england: str, scotland: str) -> None:
    assert office().add(london(opened), 2 * H) == london(england)
    assert office("scotland").add(london(opened), 2 * H) == london(scotland)


def test_northern_ireland_closes_on_st_patricks_day() -> None:
    opened = london("2026-03-16 17:00")
    assert office().add(opened, 2 * H) == london("2026-03-17 09:00")
    assert office("northern-ireland").add(opened, 2 * H) == london("2026-03-18 09:00")


def test_one_off_bank_holidays_are_closed() -> None:
    cal = office()
    assert not cal.is_open(london("2022-09-19 12:00"))  # state funeral
    assert not cal.is_open(london("2023-05-08 12:00"))  # coronation
    assert cal.is_open(london("2023-05-09 12:00"))


def test_seven_day_calendar_closes_the_weekend_holiday_and_its_substitute() -> None:
    cal = office(days=range(7))
    assert not cal.is_open(london("2026-12-26 12:00"))  # Boxing Day, a Saturday
    assert cal.is_open(london("2026-12-27 12:00"))  # Sunday
    assert not cal.is_open(london("2026-12-28 12:00"))  # Boxing Day (observed)
    assert cal.add(london("2026-12-24 17:30"), 2 * H) == london("2026-12-27 09:30")
    assert {date(2026, 12, 26), date(2026, 12, 28)} <= bank_holidays("england-and-wales", 2026)


def test_closed_dates_are_closed() -> None:
    cal = office(closed=[date(2026, 12, 24)])
    assert cal.add(london("2026-12-23 17:00"), 2 * H) == london("2026-12-29 09:00")


# -- daylight saving --------------------------------------------------------------------


def test_business_target_across_the_spring_change() -> None:
    # Fri 27 Mar 17:00 GMT; clocks go forward Sun 29 Mar; Mon 30 Mar 09:00 BST is 08:00 UTC.
    cal = office()
    assert cal.add(utc("2026-03-27 17:00"), 2 * H) == utc("2026-03-30 08:00")
    assert cal.elapsed(utc("2026-03-27 17:00"), utc("2026-03-30 08:00")) == 2 * H
    assert cal.add_working_days(utc("2026-03-27 12:00"), 1) == utc("2026-03-30 11:00")


def test_24x7_target_across_the_spring_change() -> None:
    # Sat 28 Mar 23:30 GMT + 4h of real time = Sun 29 Mar 04:30 BST.
    due = ALWAYS_OPEN.add(utc("2026-03-28 23:30"), 4 * H)
    assert due == utc("2026-03-29 03:30") == london("2026-03-29 04:30")
    assert ALWAYS_OPEN.add_working_days(utc("2026-03-28 12:00"), 1) == utc("2026-03-29 12:00")


def test_round_the_clock_calendar_counts_real_time_across_changes() -> None:
    cal = BusinessCalendar("Europe/London", dict.fromkeys(range(7), ((time(0), time(0)),)))
    assert cal.elapsed(london("2026-03-29 00:00"), london("2026-03-30 00:00")) == 23 * H
    assert cal.elapsed(london("2026-10-25 00:00"), london("2026-10-26 00:00")) == 25 * H
    assert cal.add(london("2026-03-28 12:00"), 24 * H) == london("2026-03-29 13:00")
    # A working day is the same local time the next day: 23 hours of real time here.
    assert cal.add_working_days(london("2026-03-28 12:00"), 1) == london("2026-03-29 12:00")


def test_gap_and_fold_inside_opening_hours_measure_real_time() -> None:
    cal = BusinessCalendar("Europe/London", dict.fromkeys(range(7), ((time(0), time(6)),)))
    assert cal.elapsed(london("2026-03-29 00:00"), london("2026-03-29 12:00")) == 5 * H
    assert cal.elapsed(london("2026-10-25 00:00"), london("2026-10-25 12:00")) == 7 * H
    assert cal.add(london("2026-03-29 00:30"), H) == london("2026-03-29 02:30")
    assert cal.add(utc("2026-10-24 23:30"), 2 * H) == utc("2026-10-25 01:30")


def test_opening_inside_the_skipped_hour_opens_at_the_change() -> None:
    cal = BusinessCalendar("Europe/London", dict.fromkeys(range(7), ((time(1, 30), time(3)),)))
    # 29 Mar: 01:30 never happens; the office opens when the clocks jump (01:00 UTC).
    assert not cal.is_open(utc("2026-03-29 00:59:59"))
    assert cal.is_open(utc("2026-03-29 01:00"))
    assert cal.next_open(utc("2026-03-29 00:10")) == utc("2026-03-29 01:00")
    assert cal.elapsed(utc("2026-03-29 00:00"), utc("2026-03-30 00:00")) == H
    # 25 Oct: 01:30 happens twice; opening is the first (00:30 UTC), close 03:00 GMT.
    assert cal.elapsed(utc("2026-10-25 00:00"), utc("2026-10-26 00:00")) == 2.5 * H


def test_new_york_and_sydney_changes() -> None:
    ny = BusinessCalendar("America/New_York", dict.fromkeys(range(7), ((time(0), time(0)),)))
    day = ny.elapsed(
        datetime(2026, 3, 8, tzinfo=ZoneInfo("America/New_York")),
        datetime(2026, 3, 9, tzinfo=ZoneInfo("America/New_York")),
    )
    assert day == 23 * H
    sydney = BusinessCalendar("Australia/Sydney", dict.fromkeys(range(7), ((time(2), time(4)),)))
    syd = ZoneInfo("Australia/Sydney")
    # 5 Apr 2026 03:00 AEDT -> 02:00 AEST: 02:00-04:00 local holds three real hours.
    assert (
        sydney.elapsed(datetime(2026, 4, 5, tzinfo=syd), datetime(2026, 4, 6, tzinfo=syd)) == 3 * H
    )
    # 4 Oct 2026 02:00 AEST -> 03:00 AEDT: it holds one.
    assert sydney.elapsed(datetime(2026, 10, 4, tzinfo=syd), datetime(2026, 10, 5, tzinfo=syd)) == H


# -- construction -----------------------------------------------------------------------


def test_bad_calendars_are_refused() -> None:
    hours = {0: ((time(8), time(18)),)}
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar("Mars/Olympus", hours)
    with pytest.raises(ValueError, match="holiday region"):
        BusinessCalendar("Europe/London", hours, "wales")
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar("Europe/London", {0: ((time(8), time(12)), (time(11), time(18)))})
    with pytest.raises(ValueError, match="close before"):
        BusinessCalendar("Europe/London", {0: ((time(18), time(8)),)})
    with pytest.raises(ValueError, match="no opening hours"):
        BusinessCalendar("Europe/London", {})


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        office().add(datetime(2026, 2, 9, 9), H)


def test_calendar_from_config_is_cached_by_content() -> None:
    config = Calendar("uk", "Europe/London", {0: ((time(8), time(18)),)}, "scotland")
    same = Calendar("uk", "Europe/London", {0: ((time(8), time(18)),)}, "scotland")
    assert calendar_from_config(config) is calendar_from_config(same)
    cal = calendar_from_config(config)
    assert cal.add(london("2026-02-09 17:00"), 2 * H) == london("2026-02-16 09:00")
