"""Is a site inside one of its maintenance windows at an instant? Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from uptimeguard.config.models import Maintenance, MaintenanceWindow, RecurringMaintenance


def in_maintenance(windows: Iterable[Maintenance], timezone: str, at: datetime) -> bool:
    """True when `at` (aware) falls in any window; windows are local to `timezone`.

    A recurring window may run past midnight (Sunday 23:00 for 3h covers Monday 01:00), so the
    week before is checked too.
    """
    local = at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    for window in windows:
        if isinstance(window, MaintenanceWindow):
            if window.start <= local < window.end:
                return True
        elif _in_recurring(window, local):
            return True
    return False


def _in_recurring(window: RecurringMaintenance, local: datetime) -> bool:
    days_since = (local.weekday() - window.weekday) % 7
    for weeks_back in (0, 7):
        start_day = local.date() - timedelta(days=days_since + weeks_back)
        start = datetime.combine(start_day, window.start)
        if start <= local < start + window.duration:
            return True
    return False
