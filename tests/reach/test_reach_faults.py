"""Faults around the channels: a recording handled half-way when the daemon died is taken up
by Twilio's next post (and only then), the same recording posted at once from two requests
opens one incident, and two resolutions surveying the same contacts at the same moment send
one survey each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from paging.fake_twilio import FakeTwilio
from reach_support import CHARLIE, Harness, bundled, make_harness, recording, settings_for, smtp
from smtp_sink import SmtpSink

from uptimeguard.reach.phone import RETAKE_AFTER
from uptimeguard.reach.store import ReachStore
from uptimeguard.storage.repository import Store

SATURDAY_3 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
SID = "RE" + "c" * 32


async def _half_handled(h: Harness, at: datetime) -> None:
    """What a daemon killed after claiming the recording, before opening its incident, left."""
    row = await ReachStore(h.store).claim_message(
        {
            "recording_sid": SID,
            "call_sid": "CA" + "1" * 32,
            "caller": CHARLIE,
            "customer": "wonka",
            "contact": "Charlie Bucket",
            "recording_url": "https://api.twilio.com/x/Recordings/" + SID,
            "received_at": at,
        }
    )
    assert row is not None


async def test_a_claim_left_by_a_crash_is_taken_up_by_the_next_post(h: Harness):
    h.clock.current = SATURDAY_3
    await _half_handled(h, SATURDAY_3 - RETAKE_AFTER - timedelta(seconds=1))
    assert (await h.post("/twilio/voice/inbound/recording", recording(CHARLIE, sid=SID)))[0] == 200
    [incident] = await h.incidents_of("wonka")
    assert incident.severity == "mission_critical"
    [row] = await ReachStore(h.store).messages()
    assert (row.incident_id, row.handled_at) == (incident.id, SATURDAY_3)
    await h.post("/twilio/voice/inbound/recording", recording(CHARLIE, sid=SID))
    assert len(await h.incidents_of("wonka")) == 1


async def test_a_claim_still_being_handled_is_left_alone(h: Harness):
    h.clock.current = SATURDAY_3
    await _half_handled(h, SATURDAY_3 - timedelta(seconds=5))
    assert (await h.post("/twilio/voice/inbound/recording", recording(CHARLIE, sid=SID)))[0] == 200
    assert await h.incidents_of("wonka") == []


async def test_the_same_recording_posted_twice_at_once_opens_one_incident(h: Harness):
    h.clock.current = SATURDAY_3
    path = "/twilio/voice/inbound/recording"
    results = await asyncio.gather(
        h.post(path, recording(CHARLIE, sid=SID)),
        h.post(f"{path}?caller=447700900151", recording(None, sid=SID)),
    )
    assert [status for status, _ in results] == [200, 200]
    assert len(await h.incidents_of("wonka")) == 1


@pytest.fixture
async def hm(
    store: Store, clock: Any, twilio: FakeTwilio, sink: SmtpSink
) -> AsyncIterator[Harness]:
    settings = settings_for(twilio, **smtp(sink.port))
    async for harness in make_harness(store, clock, twilio, bundled(), settings):
        yield harness


async def test_two_resolutions_at_once_send_one_survey_per_contact(hm: Harness, sink: SmtpSink):
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    hm.clock.current = at
    www = await hm.incidents.site_failing("acme", "www", "down", at - timedelta(hours=1))
    api = await hm.incidents.site_failing("acme", "api", "down", at - timedelta(hours=1))
    assert www is not None and api is not None
    await asyncio.gather(
        hm.incidents.resolve(www.id, "alice", at), hm.incidents.resolve(api.id, "bob", at)
    )
    assert await hm.send_mail() == 2  # Jo and Sam, once each
    assert sorted(m.to for m in await sink.wait(2)) == ["jo@acme.example", "sam@acme.example"]
    assert len(await ReachStore(hm.store).surveys("acme")) == 2
