from datetime import UTC, datetime, time, timedelta

from uptimeguard.config.models import MaintenanceWindow, RecurringMaintenance
from uptimeguard.monitor.maintenance import in_maintenance

SUNDAY_2AM = RecurringMaintenance(weekday=6, start=time(2, 0), duration=timedelta(hours=2))
LATE_SUNDAY = RecurringMaintenance(weekday=6, start=time(23, 0), duration=timedelta(hours=3))
ONE_OFF = MaintenanceWindow(start=datetime(2026, 12, 30, 22), end=datetime(2026, 12, 31, 2))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_weekly_window_in_local_time():
    # Sunday 29 Nov 2026 02:30 in London is 02:30 UTC (GMT).
    assert in_maintenance([SUNDAY_2AM], "Europe/London", at(2026, 11, 29, 2, 30))
    assert not in_maintenance([SUNDAY_2AM], "Europe/London", at(2026, 11, 29, 4, 0))
    # In summer, 02:30 London is 01:30 UTC.
    assert in_maintenance([SUNDAY_2AM], "Europe/London", at(2026, 7, 5, 1, 30))
    assert not in_maintenance([SUNDAY_2AM], "Europe/London", at(2026, 7, 5, 3, 30))


def test_weekly_window_past_midnight():
    assert in_maintenance([LATE_SUNDAY], "Europe/London", at(2026, 11, 30, 1, 0))
    assert not in_maintenance([LATE_SUNDAY], "Europe/London", at(2026, 11, 30, 2, 0))


def test_one_off_window_end_exclusive():
    assert in_maintenance([ONE_OFF], "Europe/London", at(2026, 12, 30, 22, 0))
    assert in_maintenance([ONE_OFF], "Europe/London", at(2026, 12, 31, 1, 59))
    assert not in_maintenance([ONE_OFF], "Europe/London", at(2026, 12, 31, 2, 0))
