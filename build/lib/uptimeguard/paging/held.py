"""Held-over incidents: told to the desk when the calendar opens, one SMS per customer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from uptimeguard.paging import messages, policy, timeline
from uptimeguard.paging.models import HELD_OVER, PagingStateRow
from uptimeguard.paging.outbox import Conflict
from uptimeguard.storage.models import IncidentRow

if TYPE_CHECKING:
    from uptimeguard.paging.service import PagingService


async def tell_held_over(
    service: PagingService, held: list[tuple[IncidentRow, PagingStateRow]], now: datetime
) -> None:
    """Tell the desk of held-over incidents whose SLA clock has started (the calendar opened),
    in one SMS per customer; each incident is told once, whichever worker gets there first."""
    waiting = [
        i
        for i, s in held
        if s.held_told_at is None
        and i.held_over  # an upgrade to a covered severity brings it forward instead
        and i.severity == s.severity
        and i.resolved_at is None
        and i.acknowledged_at is None
    ]
    for customer, group in policy.held_over_to_tell(waiting, now).items():
        facts = [service.facts(i) for i in group]
        body = messages.held_over_sms(facts[0].customer, facts, service.timezone(group[0].plan))
        page = replace(
            service.desk_page(group[0], body, now),
            purpose=HELD_OVER,
            step=0,
            data={"incidents": [i.id for i in group], "customer": customer},
        )
        try:
            created = await service.outbox.tell_held_over([i.id for i in group], page, now)
        except Conflict:
            continue
        for incident in group:
            message = (
                "held over: the calendar is open, the desk is told "
                f"(one message for {len(group)} incident{'s' if len(group) > 1 else ''})"
            )
            await service.record(incident.id, timeline.paging_event(now, message))
        await service.record_skipped(created, now)
        service.wake()
