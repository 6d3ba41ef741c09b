"""Which plan a customer is on at an instant: their own, or an ad-hoc `cover` plan.

A cover period's `from` and `to` are local times in the time zone of the customer's plan
calendar (or, when that is the built-in `24x7`, of the cover plan's calendar; else UTC).
Incidents opened from `from` until `to` are worked under the cover plan: its calendar,
coverage and targets, for the whole life of the incident.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from uptimeguard.config.models import CALENDAR_24X7, ChecksConfig, Cover, Customer, Plan


def cover_timezone(config: ChecksConfig, customer: Customer, cover: Cover) -> str:
    """The time zone a customer's cover periods are written in."""
    for plan_id in (customer.plan, cover.plan):
        plan = config.plans.get(plan_id)
        if plan is not None and plan.calendar != CALENDAR_24X7:
            calendar = config.calendars.get(plan.calendar)
            if calendar is not None:
                return calendar.timezone
    return "UTC"


def cover_bounds(
    config: ChecksConfig, customer: Customer, cover: Cover
) -> tuple[datetime, datetime]:
    """The period as aware UTC instants [start, end)."""
    zone = ZoneInfo(cover_timezone(config, customer, cover))
    start = cover.start.replace(tzinfo=zone).astimezone(UTC)
    end = cover.end.replace(tzinfo=zone).astimezone(UTC)
    return start, end


def cover_at(config: ChecksConfig, customer: Customer, at: datetime) -> Cover | None:
    """The cover period `at` falls in, if any (periods never overlap)."""
    for cover in customer.cover:
        start, end = cover_bounds(config, customer, cover)
        if start <= at < end:
            return cover
    return None


def plan_in_force(
    config: ChecksConfig, customer_id: str, at: datetime
) -> tuple[Plan, Cover | None]:
    """The plan an incident of `customer_id` opened at `at` works under, and the cover period
    that put it there (None: the customer's own plan). KeyError for an unknown customer."""
    customer = config.customer(customer_id)
    cover = cover_at(config, customer, at)
    if cover is not None and cover.plan in config.plans:
        return config.plans[cover.plan], cover
    return config.plans[customer.plan], None
