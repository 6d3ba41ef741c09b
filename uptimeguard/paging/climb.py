"""Climbing the on-call ladder: plan the rung that is due, and move on early when a rung
reached nobody. Each move is one conditional outbox transaction (see `outbox.py`)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from uptimeguard.config.models import Oncall
from uptimeguard.paging import ladder, messages, timeline
from uptimeguard.paging.models import (
    CANCELLED,
    LADDER,
    NOT_REACHED,
    PENDING,
    SENDING,
    SKIPPED,
    PageRow,
    PagingStateRow,
)
from uptimeguard.paging.outbox import Conflict, NewPage
from uptimeguard.storage.models import IncidentRow

if TYPE_CHECKING:
    from uptimeguard.paging.service import PagingService

RUNNING, DONE, STOPPED = "running", "done", "stopped"
# A rung due longer ago than this (the daemon was down) counts its wait from now, so a long
# outage does not release every missed rung at once.
LATE = timedelta(minutes=1)


async def climb(
    service: PagingService, incident: IncidentRow, state: PagingStateRow, now: datetime
) -> None:
    """Plan the rung the ladder stands at, and move the cursor to the next one."""
    oncall = service.config.oncall
    position = state.next_position
    # A ladder started again (an acknowledgement expired) carries on counting positions, so
    # its pages never collide with the first climb's: cycle k's rounds follow cycle k-1's.
    cycle, local = divmod(position, ladder.rung_count(oncall)) if oncall else (0, position)
    rung = ladder.rung_at(oncall, local) if oncall else None
    expect = {"ladder": RUNNING, "next_position": position}
    if oncall is None or rung is None:
        with contextlib.suppress(Conflict):
            await service.outbox.move(
                incident.id, expect, {"ladder": DONE, "next_due_at": None}, [], now
            )
        return
    held_until = await _previous_rung_gone(service, incident.id, oncall, position, now)
    if held_until is not None:
        if held_until > now and held_until != state.next_due_at:
            # The rung before went out late (its pages waited out an outage): this one keeps
            # its wait after it, rather than following it in the same second.
            with contextlib.suppress(Conflict):
                await service.outbox.move(incident.id, expect, {"next_due_at": held_until}, [], now)
        return
    facts = service.facts(incident)
    where = rung.describe(oncall)
    people = ladder.recipients(rung.step.notify, service.config, now)
    recent = await service.outbox.recent([p.id for p in people], now - ladder.HOUR)
    pages: list[NewPage] = []
    for person in people:
        sent = recent.get(person.id, [])
        capped = ladder.over_cap(person, sent, now)
        for channel in rung.step.via:
            body = messages.page_sms(facts) if channel == "sms" else messages.voice_script(facts)
            pages.append(
                NewPage(
                    LADDER,
                    person.id,
                    person.name,
                    person.phone,
                    channel,
                    body,
                    now,
                    round=rung.round + cycle * (oncall.repeat + 1),
                    step=rung.index,
                    status=SKIPPED if capped else PENDING,
                    cause=(
                        f"hourly limit reached ({len(sent)} pages in the last hour, "
                        f"max_pages_per_hour {person.max_pages_per_hour})"
                        if capped
                        else None
                    ),
                    data={"position": position, "where": where, "notify": rung.step.notify},
                )
            )
    reached_nobody = not any(p.status == PENDING for p in pages)
    wait = ladder.wait_after(oncall, rung)
    base = state.next_due_at if state.next_due_at and now - state.next_due_at < LATE else now
    if wait is None:
        changes: dict[str, object] = {"ladder": DONE, "next_due_at": None}
    else:
        changes = {"next_due_at": now if reached_nobody else base + wait}
    changes["next_position"] = position + 1
    try:
        created = await service.outbox.move(incident.id, expect, changes, pages, now)
    except Conflict:
        return
    if not people:
        who = "nobody is on call" if rung.step.notify == ladder.ONCALL else "nobody to notify"
        await service.record(
            incident.id,
            timeline.paging_event(now, f"{where}: {who} ({rung.step.notify}); moving on"),
        )
    await service.record_skipped(created, now)
    if wait is None:
        await service.record(
            incident.id,
            timeline.paging_event(now, f"{where}: the last step of the escalation ladder"),
        )
    service.wake()


async def _previous_rung_gone(
    service: PagingService, incident_id: int, oncall: Oncall, position: int, now: datetime
) -> datetime | None:
    """None when the rung at `position` may go now; else when it may (a time not yet known,
    `now`, while the rung before still has pages waiting to be sent).

    A rung is due its wait after the one before it went out. That is when it was planned,
    unless its pages could not be sent then (the database or disk failing): a rung whose
    pages went out late holds the next one back until its wait after them has passed.
    """
    if position < 1:
        return None
    # Positions run on across cycles (a ladder started again after an acknowledgement expired).
    cycle, local = divmod(position - 1, ladder.rung_count(oncall))
    previous = ladder.rung_at(oncall, local)
    if previous is None:
        return None
    wait = ladder.wait_after(oncall, previous)
    round_ = previous.round + cycle * (oncall.repeat + 1)
    pages = await service.outbox.step_pages(incident_id, round_, previous.index)
    pages = [p for p in pages if (p.data or {}).get("position") == position - 1]
    if any(p.status in (PENDING, SENDING) for p in pages):
        return now  # still going out: the next rung waits for it
    gone = [p.sent_at for p in pages if p.sent_at is not None and p.status not in NOT_REACHED]
    if wait is None or not gone:
        return None
    due = max(gone) + wait
    return due if due > now else None


async def not_reached(service: PagingService, page: PageRow, now: datetime) -> None:
    """A ladder page failed or went unanswered: when its whole step reached nobody and the
    ladder is still waiting on it, the next step is due now."""
    if page.purpose != LADDER:
        return
    position = (page.data or {}).get("position")
    state = await service.outbox.state(page.incident_id)
    if position is None or state is None or state.ladder != RUNNING:
        return
    if state.next_position != position + 1 or state.next_due_at is None:
        return
    if state.next_due_at <= now:
        return
    step = await service.outbox.step_pages(page.incident_id, page.round, page.step)
    if not all(p.status in (*NOT_REACHED, CANCELLED) for p in step):
        return
    try:
        await service.outbox.move(
            page.incident_id,
            {"ladder": RUNNING, "next_position": position + 1},
            {"next_due_at": now},
            [],
            now,
        )
    except Conflict:
        return
    await service.record(
        page.incident_id,
        timeline.paging_event(now, "nobody reached at that step: escalating now"),
    )
    service.wake()


async def climb_again(
    service: PagingService, incident: IncidentRow, state: PagingStateRow, now: datetime
) -> None:
    """The acknowledgement that stopped the ladder expired: start it again from the first
    step, as a new cycle (once: conditional on the cursor where the acknowledgement left it)."""
    oncall = service.config.oncall
    if oncall is None or not oncall.escalation:
        return
    count = ladder.rung_count(oncall)
    start = -(-state.next_position // count) * count  # the next cycle's first rung
    try:
        await service.outbox.move(
            incident.id,
            {"ladder": STOPPED, "next_position": state.next_position},
            {"ladder": RUNNING, "next_position": start, "next_due_at": now},
            [],
            now,
        )
    except Conflict:
        return
    await service.record(
        incident.id,
        timeline.paging_event(
            now, "acknowledgement expired: climbing the escalation ladder again from step 1"
        ),
    )
    service.wake()
