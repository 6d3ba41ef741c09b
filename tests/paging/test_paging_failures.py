"""Twilio failures: readable causes, permanent ones not retried, passing ones retried with
backoff; the hourly cap; and paging without Twilio configured."""

from __future__ import annotations

from typing import Any

from fake_twilio import FakeTwilio
from paging_support import ALICE, CAROL, SATURDAY_NIGHT, Harness, checks, make_harness, settings_for
from support import free_port

from uptimeguard.storage.repository import Store


async def test_a_bad_number_is_not_retried_and_the_ladder_moves_on(h: Harness):
    h.twilio.fail(
        400, 21211, "The 'To' number +447700900001 is not a valid phone number.", to=ALICE, times=5
    )
    await h.outage()
    # The SMS and then at once the call to alice fail; the support manager is next, now.
    assert [r["kind"] for r in h.twilio.refused] == ["sms", "call"]
    assert sorted(h.twilio.summary()) == [("call", CAROL), ("sms", CAROL)]
    first = (await h.pages(1))[0]
    assert first.status == "failed" and first.attempts == 1
    assert first.cause == (
        "invalid phone number: the 'To' number is not a valid phone number "
        "(Twilio error 21211, HTTP 400)"
    )
    await h.advance(minutes=1)
    assert len(h.twilio.refused) == 2  # never retried
    assert h.count("sms", "failed") == 1 and h.count("voice", "failed") == 1
    messages = [e.message for e in await h.timeline(1)]
    assert (
        "SMS to Alice Smith (+447700900001) failed (permanent, not retried): invalid phone "
        "number: the 'To' number is not a valid phone number (Twilio error 21211, HTTP 400) "
        "(escalation, step 1 of 4, round 1 of 3)"
    ) in messages


async def test_a_passing_failure_is_retried_with_backoff(h: Harness):
    h.twilio.fail(503, 20503, "Service Unavailable", times=2)
    await h.outage()
    assert h.twilio.sent == [] and len(h.twilio.refused) == 1
    await h.advance(seconds=1)
    assert len(h.twilio.refused) == 1  # the first retry waits 2 s
    await h.advance(seconds=1)
    assert len(h.twilio.refused) == 2  # then 4 s
    await h.advance(seconds=4)
    assert h.twilio.summary() == [("sms", ALICE)]
    (page, *_) = await h.pages(1)
    assert page.status == "sent" and page.attempts == 3
    messages = [e.message for e in await h.timeline(1) if e.kind == "page"]
    assert messages[0].startswith(
        "SMS to Alice Smith (+447700900001) not sent: Twilio is failing: Service Unavailable "
        "(Twilio error 20503, HTTP 503); retrying in 2s (attempt 1 of 5)"
    )


async def test_twilio_unreachable_is_retried_then_given_up(store: Store, clock: Any):
    clock.current = SATURDAY_NIGHT
    closed = FakeTwilio(url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    async for h in make_harness(store, clock, closed, checks(), settings_for(closed)):
        await h.outage()
        for seconds in (2, 4, 8, 16):
            await h.advance(seconds=seconds)
        first = (await h.pages(1))[0]
        assert first.status == "failed" and first.attempts == 5
        assert first.cause == "Twilio unreachable: connection refused"
        assert "gave up after 5 tries" in (await h.timeline(1))[-1].message or any(
            "gave up after 5 tries" in e.message for e in await h.timeline(1)
        )


async def test_the_hourly_cap_skips_to_the_next_person(store: Store, clock: Any, twilio):
    clock.current = SATURDAY_NIGHT
    async for h in make_harness(store, clock, twilio, checks(alice_cap=1), settings_for(twilio)):
        await h.outage()
        await h.advance(minutes=5)
        # alice had her one page this hour: the call is skipped and carol is paged at once.
        assert h.twilio.summary()[0] == ("sms", ALICE)
        assert sorted(h.twilio.summary()[1:]) == [("call", CAROL), ("sms", CAROL)]
        skipped = (await h.pages(1))[1]
        assert skipped.status == "skipped" and skipped.channel == "voice"
        assert skipped.cause == (
            "hourly limit reached (1 pages in the last hour, max_pages_per_hour 1)"
        )


async def test_without_twilio_pages_are_recorded_as_skipped(store: Store, clock: Any, twilio):
    clock.current = SATURDAY_NIGHT
    async for h in make_harness(store, clock, twilio, checks(), settings_for(None)):
        await h.outage()
        await h.advance(minutes=5)
        pages = await h.pages(1)
        assert [(p.channel, p.status, p.cause) for p in pages] == [
            ("sms", "skipped", "skipped: twilio not configured"),
            ("voice", "skipped", "skipped: twilio not configured"),
        ]
        page_events = [e.message for e in await h.timeline(1) if e.kind == "page"]
        assert page_events[0] == (
            "SMS to Alice Smith (+447700900001) not sent: skipped: twilio not configured "
            "(escalation, step 1 of 4, round 1 of 3)"
        )
        assert twilio.sent == []
