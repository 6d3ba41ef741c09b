"""Twilio webhooks are refused with 403, and change nothing, unless their signature verifies
against TWILIO_AUTH_TOKEN and PUBLIC_URL."""

from __future__ import annotations

from typing import Any

import pytest
from fake_twilio import FROM
from paging_support import ALICE, SATURDAY_NIGHT, Harness, checks, make_harness, settings_for, sign
from twilio.request_validator import RequestValidator

from uptimeguard.storage.repository import Store

ACK = {"From": ALICE, "To": FROM, "Body": "ACK 1"}


async def _state(h: Harness) -> tuple[Any, ...]:
    incident = await h.incident(1)
    pages = [(p.id, p.status, p.cause) for p in await h.pages(1)]
    events = len(await h.timeline(1))
    return incident.status, incident.acknowledged_at, pages, events, len(h.twilio.sent)


@pytest.mark.parametrize(
    "signature",
    [
        None,  # no header
        "",
        "bm90IGEgc2lnbmF0dXJl",
        sign("/twilio/sms", ACK, token="another-accounts-token"),
        RequestValidator("fake-auth-token-1234").compute_signature(
            "http://127.0.0.1:8080/twilio/sms",
            ACK,  # not the PUBLIC_URL Twilio was given
        ),
        sign("/twilio/sms", {**ACK, "Body": "hello"}),  # signed for another body
    ],
    ids=["missing", "empty", "garbage", "wrong-token", "wrong-url", "tampered-body"],
)
async def test_unsigned_sms_is_refused_and_changes_nothing(h: Harness, signature: str | None):
    await h.outage()
    before = await _state(h)
    status, text = await h.post("/twilio/sms", ACK, signature=signature)
    assert status == 403
    assert "signature" in text
    await h.tick()
    assert await _state(h) == before


async def test_unsigned_keypress_and_status_are_refused(h: Harness):
    await h.outage()
    await h.advance(minutes=5)
    before = await _state(h)
    for path, fields in (
        ("/twilio/voice/2/gather", {"Digits": "1"}),
        ("/twilio/status/2", {"CallStatus": "no-answer"}),
        ("/twilio/status/1", {"MessageStatus": "failed", "ErrorCode": "30003"}),
        ("/twilio/voice/2", {"CallSid": "CA1"}),
    ):
        status, _ = await h.post(path, fields, signature=None)
        assert status == 403, path
        status, _ = await h.post(path, fields, signature=sign(path, {**fields, "x": "1"}))
        assert status == 403, path
    await h.tick()
    assert await _state(h) == before


async def test_a_query_string_is_part_of_what_is_signed(h: Harness):
    await h.outage()
    await h.advance(minutes=5)
    status, _ = await h.post("/twilio/voice/2?play=2", {}, signature=sign("/twilio/voice/2", {}))
    assert status == 403
    status, text = await h.post("/twilio/voice/2?play=2", {})
    assert status == 200 and "play=3" in text


async def test_without_an_auth_token_every_webhook_is_refused(store: Store, clock: Any, twilio):
    clock.current = SATURDAY_NIGHT
    async for h in make_harness(store, clock, twilio, checks(), settings_for(None)):
        await h.outage()
        status, _ = await h.post("/twilio/sms", ACK)  # signed with the fake's token
        assert status == 403
        assert (await h.incident(1)).acknowledged_at is None


async def test_sms_from_a_stranger_gets_no_reply_and_changes_nothing(h: Harness):
    await h.outage()
    before = await _state(h)
    status, text = await h.post("/twilio/sms", {**ACK, "From": "+15551234567"})
    assert status == 200
    assert text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert await _state(h) == before


async def test_other_replies_get_help(h: Harness):
    await h.outage()
    _, text = await h.post("/twilio/sms", {**ACK, "Body": "what?"})
    assert "Reply ACK &lt;incident number&gt; to acknowledge, e.g. ACK 12." in text
    _, text = await h.post("/twilio/sms", {**ACK, "Body": "ACK 99"})
    assert "No incident 99." in text
    assert (await h.incident(1)).acknowledged_at is None
