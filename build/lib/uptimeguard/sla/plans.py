"""What a plan promises: coverage, the severity a cause opens, and when a target falls due."""

from __future__ import annotations

from datetime import datetime

from uptimeguard.config.models import Plan, Severity, Target
from uptimeguard.sla._instants import from_us, to_us
from uptimeguard.sla.clock import ALWAYS_OPEN, Clock
from uptimeguard.sla.coverage import coverage_clock

CLOCK_BUSINESS = "business"
CLOCK_24X7 = "24x7"
CLOCK_WORKED = "worked"

_UNIT_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


def clock_for(severity: Severity, calendar: Clock, coverage: Clock | None = None) -> Clock:
    """The clock a severity's targets run on: the plan's calendar, 24x7, or the hours the
    severity is worked (`coverage`, as `coverage_clock` gives it)."""
    if severity.clock == CLOCK_24X7:
        return ALWAYS_OPEN
    if severity.clock == CLOCK_BUSINESS:
        return calendar
    if severity.clock == CLOCK_WORKED:
        return coverage if coverage is not None else coverage_clock(calendar, severity)
    raise ValueError(f"severity {severity.name!r} has unknown clock {severity.clock!r}")


def covered(
    calendar: Clock, severity: Severity, at: datetime, coverage: Clock | None = None
) -> bool:
    """Whether `severity` is worked at `at`: always in office hours; outside them as its
    `worked` periods (or `out_of_hours: true`, always) say. An incident that is not covered
    when it opens is held over."""
    clock = coverage if coverage is not None else coverage_clock(calendar, severity)
    return clock.is_open(at)


def severity_for_cause(plan: Plan, cause: str) -> Severity | None:
    """The severity a failure with `cause` opens under `plan`; None when the plan maps none
    (`slow` opens nothing unless mapped)."""
    name = plan.causes.get(cause)
    return None if name is None else plan.severity(name)


def is_worse(plan: Plan, candidate: str, current: str) -> bool:
    """True when severity `candidate` is more urgent than `current` in `plan`'s order."""
    return plan.rank(candidate) < plan.rank(current)


def target_due_us(clock: Clock, start: int, target: Target) -> int:
    """`target_due` on microseconds."""
    if target.unit == "d":
        return clock.add_working_days_us(start, target.amount)
    return clock.add_us(start, target.amount * _UNIT_US[target.unit])


def target_due(clock: Clock, start: datetime, target: Target) -> datetime:
    """When `target` is reached on `clock` for a clock started at `start`, with no pauses.

    On a business calendar `m`/`h` are business minutes/hours and `d` is working days
    (`Clock.add_working_days`); on the 24x7 clock every unit is real time, `d` being 24 hours.
    """
    return from_us(target_due_us(clock, to_us(start), target))
