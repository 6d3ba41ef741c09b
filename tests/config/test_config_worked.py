"""`worked:` on a severity: what it reads as, and the impossible combinations it refuses."""

from __future__ import annotations

import textwrap

import pytest

from uptimeguard.config import ConfigError, load_config_text

FILE = """\
calendars:
  office: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}, holidays: scotland}
  bare: {timezone: Europe/London, hours: {mon-fri: "00:00-24:00"}}
  weekend: {timezone: Europe/London, hours: {sat-sun: "09:00-17:00"}}
plans:
  basic:
    calendar: CALENDAR
    severities:
      urgent: {response: 15m, resolution: 4h, SEVERITY}
      normal: {response: 8h, resolution: 10d}
customers: []
"""


def load(severity: str, calendar: str = "office"):  # type: ignore[no-untyped-def]
    text = FILE.replace("SEVERITY", severity).replace("CALENDAR", calendar)
    return load_config_text(textwrap.dedent(text), env={})


def problems(severity: str, calendar: str = "office") -> list[str]:
    with pytest.raises(ConfigError) as error:
        load(severity, calendar)
    return [str(p) for p in error.value.problems]


def test_periods_are_read_in_order():
    urgent = load("worked: [evenings, office], clock: worked").plans["basic"].severities[0]
    assert urgent.worked == ("office", "evenings") and urgent.clock == "worked"
    assert urgent.periods == {"office", "evenings"}
    normal = load("worked: [office]").plans["basic"].severities[1]
    assert normal.periods == {"office"} and normal.worked == ()


def test_a_calendar_of_its_own():
    urgent = load("worked: weekend").plans["basic"].severities[0]
    assert urgent.worked_calendar == "weekend" and urgent.periods == {"office"}
    urgent = load("worked: [office, bank_holidays, weekend]").plans["basic"].severities[0]
    assert urgent.worked_calendar == "weekend" and urgent.worked == ("office", "bank_holidays")


def test_out_of_hours_true_is_always():
    urgent = load("out_of_hours: true").plans["basic"].severities[0]
    assert urgent.periods == {"office", "evenings", "weekends", "bank_holidays"}


@pytest.mark.parametrize(
    ("severity", "calendar", "message"),
    [
        (
            "worked: [office], out_of_hours: true",
            "office",
            "9:55: severity 'urgent' of plan 'basic' has both 'worked' and 'out_of_hours': use "
            "one (out_of_hours: true means worked: [office, evenings, weekends, bank_holidays])",
        ),
        (
            "worked: [evenings, weekends]",
            "office",
            "9:55: severity 'urgent' of plan 'basic' is worked outside office hours but not in "
            "them: add office to 'worked'",
        ),
        (
            "worked: evenings",
            "office",
            "9:55: severity 'urgent' of plan 'basic' is worked outside office hours but not in "
            "them: add office to 'worked'",
        ),
        (
            "worked: []",
            "office",
            "9:55: 'worked' in severity 'urgent' of plan 'basic' needs at least office",
        ),
        (
            "worked: [office, office]",
            "office",
            "9:64: period 'office' is listed twice in severity 'urgent' of plan 'basic'",
        ),
        (
            "worked: [office, nights]",
            "office",
            "9:64: unknown period or calendar 'nights' in severity 'urgent' of plan 'basic': use "
            "office, evenings, weekends, bank_holidays or a calendar (office, bare, weekend, 24x7)",
        ),
        (
            "worked: [office, weekend, 24x7]",
            "office",
            "9:73: severity 'urgent' of plan 'basic' names a second calendar '24x7'; name at "
            "most one",
        ),
        (
            "worked: office-hours",
            "office",
            "9:55: unknown period or calendar 'office-hours' in severity 'urgent' of plan "
            "'basic': use office, evenings, weekends, bank_holidays or a calendar (office, bare, "
            "weekend, 24x7)",
        ),
        (
            "worked: office",
            "office",
            None,
        ),
        (
            "worked: [office, evenings]",
            "bare",
            "9:64: evenings never happen on calendar 'bare' (it is open all day Monday to Friday)",
        ),
        (
            "worked: [office, bank_holidays]",
            "bare",
            "9:64: bank_holidays never happen on calendar 'bare' (it has no holidays or closed "
            "dates)",
        ),
        (
            "worked: [office, weekends]",
            "24x7",
            "9:64: weekends never happen on calendar '24x7' (it is open all the time)",
        ),
        (
            "worked: weekend",
            "weekend",
            "9:55: calendar 'weekend' is the plan's own calendar: that is office hours",
        ),
        ("clock: worked, worked: [office, weekends]", "bare", None),
    ],
)
def test_impossible_combinations_are_named(severity: str, calendar: str, message: str | None):
    if message is None:
        load(severity, calendar)
        return
    assert problems(severity, calendar) == [f"checks.yaml:{message}"]


def test_bad_clock_names_worked():
    assert problems("clock: office") == [
        "checks.yaml:9:54: bad clock 'office': use business, 24x7 or worked"
    ]
