"""A severity's `worked:` key: the periods (or a calendar of its own) in which it is worked.

    worked: [office, evenings]     # periods of the plan's calendar; office must be one
    worked: uk-7day                # office hours, and whenever calendar uk-7day is open

The periods are defined in `uptimeguard.sla.coverage`. Impossible combinations are problems:
`worked` beside `out_of_hours`, a list without `office`, a period repeated, a period the plan's
calendar never has (evenings on a calendar open all day on weekdays, bank holidays on one with
none), a second calendar, or the plan's own calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from yaml.nodes import Node, SequenceNode

from uptimeguard.config._yamlnodes import Context, Section, shorten
from uptimeguard.config.models import CALENDAR_24X7, WORK_PERIODS, Calendar
from uptimeguard.config.parsers import minutes

OFFICE = "office"


@dataclass(frozen=True, slots=True)
class Worked:
    periods: tuple[str, ...] = ()
    calendar: str | None = None


def read_worked(
    ctx: Context,
    s: Section,
    plan_calendar: str | None,
    calendars: Mapping[str, Calendar | None],
) -> Worked | None:
    """The severity's `worked` (empty when absent); None after recording a problem."""
    node = s.get("worked")
    if node is None:
        return Worked()
    if s.has("out_of_hours"):
        ctx.add(
            node,
            f"{s.what} has both 'worked' and 'out_of_hours': use one "
            "(out_of_hours: true means worked: [office, evenings, weekends, bank_holidays])",
        )
        return None
    is_list = isinstance(node, SequenceNode)
    items = ctx.one_or_many(node)
    if not items:
        ctx.add(node, f"'worked' in {s.what} needs at least office")
        return None
    named: list[tuple[Node, str]] = []
    calendar: str | None = None
    failed = False
    for item in items:
        text = ctx.value(item, str, "a period")
        if text is None:
            failed = True
        elif text in WORK_PERIODS:
            if any(text == seen for _, seen in named):
                ctx.add(item, f"period '{text}' is listed twice in {s.what}")
                failed = True
            named.append((item, text))
        elif calendar is not None:
            ctx.add(item, f"{s.what} names a second calendar '{shorten(text)}'; name at most one")
            failed = True
        elif _known_calendar(ctx, item, text, plan_calendar, calendars, s.what):
            calendar = text
        else:
            failed = True
    if failed:
        return None
    periods = [text for _, text in named]
    if (is_list or periods) and OFFICE not in periods:
        ctx.add(
            node,
            f"{s.what} is worked outside office hours but not in them: add office to 'worked'",
        )
        return None
    plan = calendars.get(plan_calendar) if plan_calendar else None
    for item, period in named:
        why = _never(plan, period) if plan is not None and period != OFFICE else None
        if why:
            ctx.add(item, f"{period} never happen on calendar '{plan_calendar}' ({why})")
            failed = True
    if failed:
        return None
    ordered = tuple(p for p in WORK_PERIODS if p in periods) or (OFFICE,)
    return Worked(ordered, calendar)


def _known_calendar(
    ctx: Context,
    item: Node,
    text: str,
    plan_calendar: str | None,
    calendars: Mapping[str, Calendar | None],
    what: str,
) -> bool:
    if text not in calendars:
        known = ", ".join(calendars) or "none"
        ctx.add(
            item,
            f"unknown period or calendar '{shorten(text)}' in {what}: use "
            f"{', '.join(WORK_PERIODS)} or a calendar ({known})",
        )
        return False
    if text == plan_calendar:
        ctx.add(item, f"calendar '{text}' is the plan's own calendar: that is office hours")
        return False
    return True


def _never(calendar: Calendar, period: str) -> str | None:
    """Why `period` can never happen on `calendar`, or None if it can."""
    if calendar.id == CALENDAR_24X7:
        return "it is open all the time"
    owners = _gap_owners(calendar)
    holidays = calendar.holidays is not None or bool(calendar.closed)
    if period == "evenings" and not owners & {0, 1, 2, 3, 4}:
        return "it is open all day Monday to Friday"
    weekend_closures = calendar.holidays is not None or any(
        d.weekday() >= 5 for d in calendar.closed
    )
    if period == "weekends" and not owners & {5, 6} and not weekend_closures:
        return "it is open all weekend"
    if period == "bank_holidays" and not holidays:
        return "it has no holidays or closed dates"
    return None


def _gap_owners(calendar: Calendar) -> set[int]:
    """The weekdays that own some hours outside the weekly opening hours: a day's own gaps,
    and the hours before a day's first opening, which belong to the day before."""
    owners = set()
    for weekday in range(7):
        spans = _merged(calendar, weekday)
        if not spans:
            owners.add(weekday)
            continue
        if spans[0][0] > 0:
            owners.add((weekday - 1) % 7)
        if len(spans) > 1 or spans[-1][1] < 1440:
            owners.add(weekday)
    return owners


def _merged(calendar: Calendar, weekday: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for opens, closes in calendar.hours.get(weekday, ()):
        start, end = minutes(opens), minutes(closes, closing=True)
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
