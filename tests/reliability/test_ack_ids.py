"""Incident ids come back after a lost database; an old `ACK 3` must not reach the new
incident 3 (issue 12, item 10), and who may acknowledge by SMS (issue 12).

By SMS only a number that was sent a page about the incident (a ladder step, an SLA
escalation, a desk notice) may acknowledge it; an `ACK N` for an incident never paged to the
number is refused, and the reply says so. Before the fix any number in the checks file could
acknowledge any incident, and after the database was lost alice's `ACK 3`, meant for the
incident 3 she had been paged about, acknowledged a different customer's new incident 3.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fake_twilio import FROM, FakeTwilio
from paging_support import (
    ALICE,
    BOB,
    DESK,
    SATURDAY_NIGHT,
    Harness,
    checks,
    make_harness,
    settings_for,
)

from uptimeguard.storage.database import make_engine, upgrade_schema
from uptimeguard.storage.repository import Store

NOT_TOLD = "Not acknowledged: incident {} was never paged to this number."
MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # in hours: only the desk is told


async def test_only_a_number_paged_about_an_incident_may_acknowledge_it(h: Harness):
    async def ack(phone: str, incident_id: int) -> str:
        body = {"From": phone, "To": FROM, "Body": f"ACK {incident_id}"}
        status, text = await h.post("/twilio/sms", body)
        assert status == 200
        return text

    await h.outage("www")  # incident 1: alice is on call; bob is on the rota, not paged
    assert NOT_TOLD.format(1) in await ack(BOB, 1)
    assert (await h.incident(1)).acknowledged_at is None
    assert "Incident 1 acknowledged by Alice Smith" in await ack(ALICE, 1)
    h.clock.current = MONDAY_MORNING
    await h.outage("shop", customer="beta")  # incident 2: in hours, the desk is told
    assert NOT_TOLD.format(2) in await ack(ALICE, 2)
    assert NOT_TOLD.format(2) in await ack(BOB, 2)
    assert (await h.incident(2)).acknowledged_at is None
    assert "Incident 2 acknowledged by the desk" in await ack(DESK, 2)


async def _fresh(path: Path) -> Store:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_schema(engine)
    return Store(engine)


async def test_an_old_ack_after_the_database_was_lost_hits_nothing(
    tmp_path: Path, clock: Any, twilio: FakeTwilio
):
    """SQLite: the file is lost and a new one starts at incident 1 again."""
    lost = await _fresh(tmp_path / "lost.db")
    clock.current = SATURDAY_NIGHT
    async for h in make_harness(lost, clock, twilio, checks(), settings_for(twilio)):
        for customer, site in (("acme", "www"), ("acme", "api"), ("beta", "shop")):
            await h.outage(site, customer)  # incidents 1-3, each paged to alice
        assert [s.to for s in twilio.sent] == [ALICE] * 3
    await lost.engine.dispose()
    (tmp_path / "lost.db").unlink()

    fresh = await _fresh(tmp_path / "guard.db")
    clock.current = MONDAY_MORNING
    try:
        async for h in make_harness(fresh, clock, twilio, checks(), settings_for(twilio)):
            for customer, site in (("beta", "shop"), ("acme", "api"), ("acme", "www")):
                await h.outage(site, customer)  # incidents 1-3 again, told to the desk
            # Alice answers the page she had about incident 3 (beta's shop, in the lost file).
            status, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": "ACK 3"})
            assert status == 200 and NOT_TOLD.format(3) in text
            assert (await h.incident(3)).acknowledged_at is None  # acme's www, another outage
            _, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": "ACK"})
            assert "Nothing to acknowledge: no page was sent to this number." in text
            assert (await h.incident(3)).acknowledged_at is None
    finally:
        await fresh.engine.dispose()


async def test_a_keypress_on_a_call_from_before_acknowledges_nothing(h: Harness):
    """Page ids start again at 1 too: a keypress on a call made from the lost database names
    a page id that is now another call. It names its call (`CallSid`): one that is not the
    page's acknowledges nothing."""
    await h.outage("www")  # page 1: alice's SMS
    await h.advance(minutes=5)  # page 2: alice's call
    call = (await h.pages(1))[1]
    assert call.channel == "voice" and call.sid
    old_call = "CA" + "9" * 32
    status, text = await h.post("/twilio/voice/2/gather", {"Digits": "1", "CallSid": old_call})
    assert status == 200 and "This call is not known to uptimeguard." in text
    assert (await h.incident(1)).acknowledged_at is None
    # A keypress on the call itself acknowledges.
    status, text = await h.post("/twilio/voice/2/gather", {"Digits": "1", "CallSid": call.sid})
    assert status == 200 and "Incident 1 acknowledged by Alice Smith" in text
