"""Paging follows coverage by day and time: a severity worked on weekday evenings pages the
ladder on a Tuesday evening and is held over on a Saturday; one worked at weekends, held from
a Friday evening, pages the ladder when the weekend begins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fake_twilio import FakeTwilio
from paging_support import ALICE, CHECKS, DESK, Harness, make_harness, settings_for

from uptimeguard.config import load_config_text
from uptimeguard.storage.repository import Store

WORKED = CHECKS.replace(
    "      major:            {response: 1h,  resolution: 8h}\n",
    "      major:            {response: 1h,  resolution: 8h}\n"
    "      evening: {response: 1h, resolution: 8h, clock: worked, worked: [office, evenings]}\n"
    "      weekend: {response: 1h, resolution: 8h, clock: worked, worked: [office, weekends]}\n",
).replace("ALICE_CAP", "")


@pytest.fixture
async def hw(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    config = load_config_text(WORKED, "checks.yaml")
    async for h in make_harness(store, clock, twilio, config, settings_for(twilio)):
        yield h


async def _open(h: Harness, severity: str) -> int:
    row = await h.incidents.open_manual("acme", "www", severity, "reported", h.clock.now())
    await h.tick()
    return row.id


async def test_evening_severity_pages_the_ladder_on_a_tuesday_evening(hw: Harness):
    hw.clock.current = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # Tuesday, GMT
    number = await _open(hw, "evening")
    incident = await hw.incident(number)
    assert not incident.held_over
    assert incident.response_due == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert hw.twilio.summary() == [("sms", ALICE)]  # the on-call person, not the desk


async def test_evening_severity_on_a_saturday_waits_for_monday_and_the_desk(hw: Harness):
    hw.clock.current = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    number = await _open(hw, "evening")
    incident = await hw.incident(number)
    assert incident.held_over
    assert incident.clock_starts_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert hw.twilio.sent == []
    hw.clock.current = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)  # Monday's small hours
    await hw.tick()
    assert hw.twilio.sent == []
    await hw.advance(minutes=1)
    assert hw.twilio.summary() == [("sms", DESK)]


async def test_weekend_severity_held_from_friday_evening_pages_at_midnight(hw: Harness):
    hw.clock.current = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # Friday evening
    number = await _open(hw, "weekend")
    incident = await hw.incident(number)
    assert incident.held_over
    assert incident.clock_starts_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    hw.clock.current = datetime(2026, 11, 27, 23, 59, tzinfo=UTC)
    await hw.tick()
    assert hw.twilio.sent == []
    await hw.advance(minutes=1)
    assert hw.twilio.summary() == [("sms", ALICE)]  # the ladder, not the empty office
    lines = [e.message for e in await hw.timeline(number)]
    assert any("held over until now" in line for line in lines)


async def test_desk_told_in_hours_hands_an_evening_severity_to_the_ladder_at_closing(
    hw: Harness,
):
    hw.clock.current = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
    await _open(hw, "evening")
    assert hw.twilio.summary() == [("sms", DESK)]
    hw.clock.current = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    await hw.tick()
    assert hw.twilio.summary() == [("sms", DESK), ("sms", ALICE)]


async def test_desk_keeps_a_weekend_severity_on_a_weekday_evening(hw: Harness):
    hw.clock.current = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
    await _open(hw, "weekend")
    hw.clock.current = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    await hw.tick()
    assert hw.twilio.summary() == [("sms", DESK)]
