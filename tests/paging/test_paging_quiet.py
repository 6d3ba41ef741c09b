"""Quiet ticks: the paging loop's ticks that nothing woke skip the pass over open incidents
while nothing can have changed, yet miss nothing that did (another process's acknowledgement,
a rung falling due, the calendar turning)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from paging_support import Harness

from uptimeguard.paging.service import FULL_PASS_EVERY
from uptimeguard.storage.repository import NewEvent


@pytest.fixture
def passes(h: Harness, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full passes (each reads every open incident once)."""
    count = [0]
    active = h.paging.outbox.active

    async def counted():  # type: ignore[no-untyped-def]
        count[0] += 1
        return await active()

    monkeypatch.setattr(h.paging.outbox, "active", counted)
    return count


async def quiet_ticks(h: Harness, seconds: int) -> None:
    for _ in range(seconds):
        h.clock.advance(seconds=1)
        await h.paging.tick(quiet=True)


async def test_quiet_ticks_skip_the_pass_but_make_one_every_30_seconds(
    h: Harness, passes: list[int]
) -> None:
    await h.outage()
    before = passes[0]
    await quiet_ticks(h, 20)
    assert passes[0] == before  # nothing changed, nothing due
    await quiet_ticks(h, 20)
    assert passes[0] == before + 1  # one full pass every FULL_PASS_EVERY all the same
    assert timedelta(seconds=30) == FULL_PASS_EVERY


async def test_a_rung_falling_due_is_sent_by_the_quiet_tick_at_its_moment(
    h: Harness, passes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("uptimeguard.paging.service.FULL_PASS_EVERY", timedelta(hours=1))
    await h.outage()  # SMS to the on-call engineer; the voice call is due 5 minutes later
    assert len(h.twilio.sent) == 1
    before = passes[0]
    await quiet_ticks(h, 5 * 60 - 1)
    assert (passes[0], len(h.twilio.sent)) == (before, 1)
    await quiet_ticks(h, 1)
    assert h.twilio.summary()[1][0] == "call"


async def test_the_calendar_turning_makes_a_full_pass(
    h: Harness, passes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("uptimeguard.paging.service.FULL_PASS_EVERY", timedelta(days=7))
    monkeypatch.setattr(h.paging, "_hours", lambda now: (now.minute >= 1,))
    await h.paging.tick()
    before = passes[0]
    await quiet_ticks(h, 59)  # 03:00:59: still shut
    assert passes[0] == before
    await quiet_ticks(h, 1)  # 03:01:00: "opens"
    assert passes[0] == before + 1


async def test_a_change_from_another_process_is_seen_at_the_next_quiet_tick(
    h: Harness, passes: list[int]
) -> None:
    incident = await h.outage()
    await quiet_ticks(h, 2)
    # The CLI, another process, acknowledges: it writes the incident and its timeline line;
    # nothing wakes this process's paging loop.
    now = h.clock.now()
    await h.store.update_incident(
        incident.id,
        {"status": "acknowledged", "acknowledged_at": now, "acknowledged_by": "cli"},
        [NewEvent("acknowledged", now, "acknowledged by cli", "cli")],
    )
    before = passes[0]
    await quiet_ticks(h, 1)
    assert passes[0] == before + 1
    await quiet_ticks(h, 10 * 60)
    assert len(h.twilio.sent) == 1  # the ladder stopped: no call, no further rung
    timeline = [e.message for e in await h.timeline(incident.id)]
    assert any("acknowledged by cli" in (m or "") for m in timeline)
