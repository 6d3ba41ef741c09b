"""The time zone a customer's page speaks in, and instants and weekly windows in its words."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from uptimeguard.config.models import ChecksConfig, Customer, RecurringMaintenance
from uptimeguard.status.rollups import day_start

ZONE_WORDS = {"Europe/London": "UK time", "UTC": "UTC", "Etc/UTC": "UTC"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def calendar_zone(config: ChecksConfig, customer: Customer) -> str:
    """The zone of the customer's plan calendar (maintenance windows are written in it)."""
    plan = config.plans.get(customer.plan)
    calendar = config.calendars.get(plan.calendar) if plan is not None else None
    return calendar.timezone if calendar is not None else "UTC"


def page_timezone(config: ChecksConfig, customer: Customer) -> str:
    """The zone of the customer's status page: its own `timezone`, else the plan calendar's."""
    page = customer.status_page
    if page is not None and page.timezone:
        return page.timezone
    return calendar_zone(config, customer)


def zone_words(zone: str) -> str:
    """How a time zone is named to a customer: `UK time`, `UTC`, `Europe/Paris time`."""
    return ZONE_WORDS.get(zone, f"{zone} time")


def local_when(at: datetime, zone: str) -> str:
    """`24 Nov 2026 10:00 GMT`: the instant in `zone`, with the zone's abbreviation."""
    local = at.astimezone(ZoneInfo(zone))
    return local.strftime("%-d %b %Y %H:%M ") + (local.tzname() or zone)


def weekly_words(window: RecurringMaintenance, zone: str) -> str:
    """`every Sunday 02:00-04:00 UK time`; `every Saturday 23:00 to Sunday 01:00 UK time`."""
    monday = datetime(2024, 1, 1)
    start = datetime.combine(monday.date(), window.start) + timedelta(days=window.weekday)
    end = start + window.duration
    day, words = WEEKDAYS[window.weekday], zone_words(zone)
    if end.date() == start.date():
        return f"every {day} {start:%H:%M}-{end:%H:%M} {words}"
    if end == datetime.combine(start.date(), datetime.min.time()) + timedelta(days=1):
        return f"every {day} {start:%H:%M}-24:00 {words}"
    return f"every {day} {start:%H:%M} to {WEEKDAYS[end.weekday()]} {end:%H:%M} {words}"


def day_bounds(first: date, days: int, zone: str) -> list[datetime]:
    """`days` + 1 instants: where each local day from `first` begins, and where the last ends."""
    return [day_start(first + timedelta(days=n), zone) for n in range(days + 1)]


def month_bounds(year: int, month: int, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in `zone`, as UTC instants."""
    following = date(year + month // 12, month % 12 + 1, 1)
    return day_start(date(year, month, 1), zone), day_start(following, zone)
