"""Twilio misbehaving: 500s, a refused connection, and requests that time out.

The real `twilio` client talks to a fake Twilio on 127.0.0.1 (tests/paging/fake_twilio.py);
the daemon's clock is a fixed one moved by the test, the network is real.

A timeout is the case that matters most. Twilio's API takes no idempotency key, so a request
that timed out may or may not have been taken: sending it again risks the duplicate page the
the README forbids. A request that never left (refused, no connection) is retried with backoff; one
that was written to Twilio and got no answer is marked `interrupted`, as a page caught by a
crash is, and never resent. The ladder goes on at its own pace, so if the page was in fact
lost the next step still comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fake_twilio import FakeTwilio
from paging_support import ALICE, SATURDAY_NIGHT, Harness, checks, make_harness, settings_for
from support import free_port

from uptimeguard.paging.twilio import client as twilio_client
from uptimeguard.paging.twilio.errors import from_network
from uptimeguard.storage.repository import Store

ERIN = "+447700900005"
CLIENT_TIMEOUT = 0.3  # seconds the client waits for Twilio in these tests (15 s in production)


class SlowTwilio(FakeTwilio):
    """A fake Twilio that answers after `hold` seconds, longer than the client waits. With
    `takes=True` it has taken the request (recorded, as Twilio would send it) before the
    wait; with `takes=False` it drops it when the client gives up."""

    hold: float = 0.0
    takes: bool = True
    slow_requests: int = 0  # how many requests are held; later ones are answered at once

    async def _handle(self, request: web.Request, kind: str, prefix: str) -> web.Response:
        if self.slow_requests <= 0:
            return await super()._handle(request, kind, prefix)
        self.slow_requests -= 1
        if self.takes:
            response = await super()._handle(request, kind, prefix)
            await asyncio.sleep(self.hold)
            return response
        await request.post()
        await asyncio.sleep(self.hold)
        return web.Response(status=503)


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twilio_client, "REQUEST_SECONDS", CLIENT_TIMEOUT)


async def harness(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    clock.current = SATURDAY_NIGHT
    async for h in make_harness(store, clock, twilio, checks(), settings_for(twilio)):
        yield h


async def test_500s_are_retried_with_backoff_and_sent_once(store: Store, clock: Any, twilio):
    twilio.fail(500, 20500, "Internal Server Error", times=3)
    async for h in harness(store, clock, twilio):
        await h.outage()
        for seconds in (2, 4, 8):  # the backoff: 2 s, 4 s, 8 s
            assert twilio.sent == []
            await h.advance(seconds=seconds)
        assert twilio.summary() == [("sms", ALICE)]
        (page,) = await h.pages(1)
        assert (page.status, page.attempts) == ("sent", 4)
        await h.advance(minutes=5)  # then_wait 5m: the ladder goes on to the call
        assert twilio.summary() == [("sms", ALICE), ("call", ALICE)]
        assert len(twilio.refused) == 3


async def test_500s_that_never_stop_fail_the_step_and_the_ladder_moves_on(
    store: Store, clock: Any, twilio
):
    twilio.fail(500, 20500, "Internal Server Error", to=ALICE, times=5)
    async for h in harness(store, clock, twilio):
        await h.outage()
        for seconds in (2, 4, 8, 16):
            await h.advance(seconds=seconds)
        # Five tries, then the SMS failed and the next step (the call) is due at once, not
        # 5 minutes after the SMS was planned.
        assert [r["kind"] for r in twilio.refused] == ["sms"] * 5
        assert twilio.summary() == [("call", ALICE)]
        sms, call = await h.pages(1)
        assert (sms.status, sms.attempts) == ("failed", 5)
        assert call.status == "sent"
        assert h.count("sms", "failed") == 1


async def test_refused_then_back_sends_once(store: Store, clock: Any):
    port = free_port()
    twilio = FakeTwilio(url=f"http://127.0.0.1:{port}")  # nothing listens yet
    async for h in harness(store, clock, twilio):
        await h.outage()
        await h.advance(seconds=2)
        (page,) = await h.pages(1)
        assert page.status == "pending" and page.attempts == 2
        assert page.cause == "Twilio unreachable: connection refused"
        await twilio.start(port)  # Twilio is back before the third try
        try:
            await h.advance(seconds=4)
            assert twilio.summary() == [("sms", ALICE)]
            await h.advance(seconds=60)
            assert twilio.summary() == [("sms", ALICE)]  # never twice
            await h.advance(minutes=5)
            assert twilio.summary() == [("sms", ALICE), ("call", ALICE)]
        finally:
            await twilio.stop()


@pytest.mark.parametrize("takes", [True, False], ids=["twilio-took-it", "twilio-dropped-it"])
async def test_a_timed_out_request_is_never_resent(
    store: Store, clock: Any, short_timeout: None, takes: bool
):
    twilio = SlowTwilio()
    twilio.hold, twilio.takes, twilio.slow_requests = 1.0, takes, 1
    await twilio.start()
    try:
        async for h in harness(store, clock, twilio):
            await h.outage()  # the SMS to alice times out after 0.3 s
            (page,) = await h.pages(1)
            assert page.status == "interrupted" and page.attempts == 1
            assert page.cause is not None and "did not answer in time" in page.cause
            await asyncio.sleep(twilio.hold)  # the fake's answer comes, to nobody
            for _ in range(4):
                await h.advance(seconds=30)
            # Whether or not Twilio had it, it is not sent again: at most once.
            assert twilio.summary() == ([("sms", ALICE)] if takes else [])
            await h.advance(minutes=4)  # 5 minutes after the SMS: the ladder carries on
            expected = [("call", ALICE)]
            assert twilio.summary() == ([("sms", ALICE)] if takes else []) + expected
            events = [e.message for e in await h.timeline(1) if e.kind == "page"]
            assert any("not resent" in m and "did not answer in time" in m for m in events)
            assert sum("SMS to Alice Smith" in m for m in events) == 1
    finally:
        await twilio.stop()


async def test_timeouts_mid_ladder_do_not_stop_it(store: Store, clock: Any, short_timeout: None):
    """Carol's SMS and call (step 3) time out after Twilio took them; step 4 still reaches
    erin, and nothing reaches anybody twice."""
    twilio = SlowTwilio()
    twilio.hold, twilio.takes = 1.0, True
    await twilio.start()
    try:
        async for h in harness(store, clock, twilio):
            await h.outage()
            await h.advance(minutes=5)
            twilio.slow_requests = 2
            await h.advance(minutes=10)  # step 3: carol, SMS and call, both time out
            await asyncio.sleep(twilio.hold)
            await h.advance(minutes=15)  # step 4: erin
            ladder = [p for p in await h.pages(1) if p.purpose == "ladder"]
            assert [(p.step, p.person, p.channel, p.status) for p in ladder] == [
                (0, "alice", "sms", "sent"),
                (1, "alice", "voice", "sent"),
                (2, "carol", "sms", "interrupted"),
                (2, "carol", "voice", "interrupted"),
                (3, "erin", "sms", "sent"),
                (3, "erin", "voice", "sent"),
            ]
            # Every request Twilio took is a different message (the SLA escalation's notices
            # to carol and dave are among them): nothing went twice.
            taken = [(s.kind, s.to, s.form.get("Body") or s.form.get("Url")) for s in twilio.sent]
            assert len(taken) == len(set(taken))
            assert ("call", ERIN) in twilio.summary() and ("sms", ERIN) in twilio.summary()
    finally:
        await twilio.stop()


def test_only_a_request_that_left_counts_as_maybe_taken():
    assert from_network(TimeoutError(), written=True).maybe_taken
    assert not from_network(TimeoutError(), written=False).maybe_taken  # e.g. stuck connecting
    reset = aiohttp.ServerDisconnectedError()
    assert not from_network(reset, written=True).maybe_taken  # retried, see from_network
