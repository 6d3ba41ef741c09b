"""The acknowledgement timeout (`oncall.ack_timeout`): an out-of-hours acknowledgement that is
neither resolved nor made again within it expires, once, and the ladder climbs again from its
first step. Exact instants: the clock only moves when told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fake_twilio import FROM, FakeTwilio
from paging_support import ALICE, CHECKS, SATURDAY_NIGHT, Harness, make_harness, settings_for

from uptimeguard.config import ConfigError, load_config_text
from uptimeguard.storage.repository import Store

TUESDAY_10 = SATURDAY_NIGHT + timedelta(days=3, hours=7)  # Tue 1 Dec 2026 10:00, in hours


def with_timeout(value: str) -> str:
    before = "  timezone: Europe/London\n  rotation:"
    after = f"  timezone: Europe/London\n  ack_timeout: {value}\n  rotation:"
    return CHECKS.replace("ALICE_CAP", "").replace(before, after, 1)


@pytest.fixture
async def h(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    clock.current = SATURDAY_NIGHT
    config = load_config_text(with_timeout("30m"), "checks.yaml")
    async for harness in make_harness(store, clock, twilio, config, settings_for(twilio)):
        yield harness


async def ack(h: Harness, body: str = "ACK 1") -> str:
    status, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": body})
    assert status == 200
    return text


async def expiries(h: Harness) -> list[Any]:
    return [e.at for e in await h.timeline(1) if e.kind == "ack_expired"]


async def test_an_out_of_hours_ack_expires_once_and_the_ladder_starts_again(h: Harness):
    await h.outage()  # Saturday 03:00: SMS to alice, on call
    await h.advance(minutes=2)
    assert "acknowledged by Alice Smith" in await ack(h)
    acked_at = SATURDAY_NIGHT + timedelta(minutes=2)

    await h.advance(minutes=29, seconds=59)  # 03:31:59: still within the 30 minutes
    assert h.twilio.summary() == [("sms", ALICE)]
    assert (await h.incident(1)).status == "acknowledged"

    await h.advance(seconds=1)  # 03:32:00 exactly: expired, triggered, step 1 again at once
    incident = await h.incident(1)
    assert (incident.status, incident.acknowledged_at, incident.acknowledged_by) == (
        "open", None, None,
    )  # fmt: skip
    assert incident.responded_at == acked_at  # the response target stays met
    assert h.twilio.summary() == [("sms", ALICE), ("sms", ALICE)]
    assert await expiries(h) == [acked_at + timedelta(minutes=30)]
    messages = [e.message for e in await h.timeline(1)]
    assert (
        "acknowledgement by Alice Smith expired after 30m, neither resolved nor acknowledged "
        "again: triggered again" in messages
    )
    assert "acknowledgement expired: climbing the escalation ladder again from step 1" in messages

    # Once: more ticks change nothing; the ladder climbs on at its own pace (step 2 at 5m).
    await h.tick()
    await h.advance(minutes=4, seconds=59)
    assert len(h.twilio.sent) == 2 and len(await expiries(h)) == 1
    await h.advance(seconds=1)
    assert h.twilio.summary()[2:] == [("call", ALICE)]

    # A new acknowledgement gets a timeout of its own: it too expires, once.
    await ack(h)
    second = h.clock.now()
    await h.advance(minutes=29)
    assert len(await expiries(h)) == 1 and len(h.twilio.sent) == 3
    await h.advance(minutes=1)
    assert await expiries(h) == [acked_at + timedelta(minutes=30), second + timedelta(minutes=30)]
    assert h.twilio.summary()[3:] == [("sms", ALICE)]  # step 1 once more
    # No response breach: the first acknowledgement (03:02) met the 15-minute target.
    assert (await h.incident(1)).response_breached_at is None


async def test_acknowledging_again_starts_the_timeout_over(h: Harness):
    await h.outage()
    await h.advance(minutes=2)
    await ack(h)
    await h.advance(minutes=20)  # 03:22
    assert "acknowledged again by Alice Smith" in await ack(h)
    kinds = [e.kind for e in await h.timeline(1) if e.kind.startswith("ack")]
    assert kinds == ["acknowledged", "ack_renewed"]  # one public "working on it", not two
    await h.advance(minutes=29, seconds=59)  # 03:51:59: 30 minutes from 03:22 not yet run
    assert await expiries(h) == [] and len(h.twilio.sent) == 1
    await h.advance(seconds=1)
    assert await expiries(h) == [SATURDAY_NIGHT + timedelta(minutes=52)]
    assert len(h.twilio.sent) == 2


async def test_resolved_in_time_nothing_expires(h: Harness):
    await h.outage()
    await ack(h)
    await h.advance(minutes=10)
    await h.incidents.resolve(1, "alice", h.clock.now())
    await h.advance(hours=2)
    assert await expiries(h) == []
    # The page, then the resolution notice: nothing more.
    assert len(h.twilio.sent) == 2 and "resolved by alice" in h.twilio.sent[1].form["Body"]


async def test_an_ack_in_business_hours_never_expires(h: Harness):
    h.clock.current = TUESDAY_10
    await h.outage()  # in hours: the desk is told
    await h.incidents.acknowledge(1, "alice", h.clock.now())
    await h.advance(hours=3)
    assert await expiries(h) == []
    assert (await h.incident(1)).status == "acknowledged"


async def test_off_by_default(store: Store, clock: Any, twilio: FakeTwilio) -> None:
    clock.current = SATURDAY_NIGHT
    config = load_config_text(CHECKS.replace("ALICE_CAP", ""), "checks.yaml")
    assert config.oncall is not None and config.oncall.ack_timeout is None
    async for h in make_harness(store, clock, twilio, config, settings_for(twilio)):
        await h.outage()
        await ack(h)
        await h.advance(hours=3)
        assert await expiries(h) == [] and h.twilio.summary() == [("sms", ALICE)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("30x", "bad duration '30x': "),
        ("0m", "bad duration '0m': must be more than zero"),
        ("soon", "bad duration 'soon': "),
    ],
)
def test_a_bad_ack_timeout_names_the_line(value: str, message: str) -> None:
    text = with_timeout(value)
    line = text.splitlines().index(f"  ack_timeout: {value}") + 1
    with pytest.raises(ConfigError) as raised:
        load_config_text(text, "checks.yaml")
    text = str(raised.value)
    assert text.startswith(f"checks.yaml:{line}:16: {message}"), text
    assert len(text.splitlines()) == 1
