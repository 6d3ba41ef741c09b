"""Who hears of an incident, and when (the README's "Paging" and "Coverage"). Pure.

- In business hours (the customer's plan calendar is open) the desk is told.
- Out of hours a covered incident (its severity is worked then: `out_of_hours: true`, or one
  of its `worked` periods) pages the on-call person and climbs the escalation ladder.
- Out of hours an incident that is not covered is held over: nobody is paged, and the desk
  hears of it when the calendar opens (when its SLA clock starts), in one message per customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, Protocol, TypeVar

Decision = Literal["desk", "page", "hold"]
DESK: Decision = "desk"
PAGE: Decision = "page"
HOLD: Decision = "hold"


def decide(*, in_hours: bool, covered: bool) -> Decision:
    """What to do with an incident that opens (or is upgraded) now."""
    if in_hours:
        return DESK
    return PAGE if covered else HOLD


def on_upgrade(previous: Decision, *, in_hours: bool, covered: bool) -> Decision | None:
    """What to do when an incident's severity rises; None when nothing more is needed.

    A ladder already started carries on as it is. A held-over incident that becomes covered
    out of hours starts the ladder; in hours the desk is told of the new severity.
    """
    if previous == PAGE:
        return None
    now = decide(in_hours=in_hours, covered=covered)
    if now == HOLD:
        return None
    return now


class HeldIncident(Protocol):
    id: int
    customer: str
    clock_starts_at: datetime | None


H = TypeVar("H", bound=HeldIncident)


def held_over_to_tell(incidents: Iterable[H], now: datetime) -> dict[str, list[H]]:
    """Held-over incidents whose clock has started by `now`, grouped by customer (one message
    each), in id order. The caller passes only incidents not yet told and not resolved."""
    groups: dict[str, list[H]] = {}
    for incident in sorted(incidents, key=lambda i: i.id):
        if incident.clock_starts_at is not None and incident.clock_starts_at <= now:
            groups.setdefault(incident.customer, []).append(incident)
    return groups
