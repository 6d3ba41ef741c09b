"""Voicemail is not an answer: calls go out with Twilio's answering-machine detection, and a
call a machine took (or that nobody pressed a key on) is `no_answer`: the ladder goes on at
once, at the fake Twilio."""

from __future__ import annotations

from typing import Any

import pytest
from fake_twilio import FROM, FakeTwilio
from paging_support import (
    ALICE,
    CAROL,
    CHECKS,
    PUBLIC_URL,
    SATURDAY_NIGHT,
    Harness,
    make_harness,
    settings_for,
)

from uptimeguard.config import ConfigError, load_config_text
from uptimeguard.storage.repository import Store

HANG_UP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


async def called_alice(h: Harness) -> None:
    """The outage, and five minutes on: the ladder's second step calls alice."""
    await h.outage()
    await h.advance(minutes=5)
    assert h.twilio.summary() == [("sms", ALICE), ("call", ALICE)]


def completed(answered_by: str) -> dict[str, str]:
    return {"CallSid": "CA1", "CallStatus": "completed", "To": ALICE, "AnsweredBy": answered_by}


async def test_calls_ask_twilio_who_answered(h: Harness) -> None:
    await called_alice(h)
    call = h.twilio.calls()[0].form
    assert call["MachineDetection"] == "Enable"
    assert call["Url"] == f"{PUBLIC_URL}/twilio/voice/2"


async def test_voicemail_taking_the_call_moves_the_ladder_on_at_once(h: Harness) -> None:
    await called_alice(h)
    # Twilio fetches the TwiML once it knows a machine answered: we hang up, and say so.
    fields = {"CallSid": "CA1", "From": FROM, "To": ALICE, "AnsweredBy": "machine_start"}
    status, text = await h.post("/twilio/voice/2", fields)
    assert (status, text) == (200, HANG_UP)
    await h.tick()  # still 5 minutes after the opening, not the step's 10
    assert sorted(h.twilio.summary()[2:]) == [("call", CAROL), ("sms", CAROL)]
    call = (await h.pages(1))[1]
    assert (call.status, call.cause) == (
        "no_answer", "answered by a machine (machine_start), not a person",
    )  # fmt: skip
    # The call's end is reported as completed: it changes nothing, and is never "delivered".
    status, _ = await h.post("/twilio/status/2", completed("machine_start"))
    assert status == 204
    assert (await h.pages(1))[1].status == "no_answer"
    assert h.count("voice", "no_answer") == 1 and h.count("voice", "delivered") == 0
    messages = [e.message for e in await h.timeline(1)]
    assert (
        "Call to Alice Smith (+447700900001) not answered: answered by a machine "
        "(machine_start), not a person" in messages
    )
    assert "nobody reached at that step: escalating now" in messages
    assert (await h.incident(1)).acknowledged_at is None


@pytest.mark.parametrize(
    "answered_by", ["machine_end_beep", "machine_end_silence", "machine_end_other", "fax"]
)
async def test_a_machine_in_the_status_callback_is_no_answer(h: Harness, answered_by: str) -> None:
    await called_alice(h)
    status, _ = await h.post("/twilio/status/2", completed(answered_by))
    assert status == 204
    await h.tick()
    assert sorted(h.twilio.summary()[2:]) == [("call", CAROL), ("sms", CAROL)]
    call = (await h.pages(1))[1]
    assert call.status == "no_answer" and answered_by in (call.cause or "")
    assert h.count("voice", "delivered") == 0


async def test_answered_without_a_keypress_is_no_answer(h: Harness) -> None:
    await called_alice(h)
    status, _ = await h.post("/twilio/status/2", completed("human"))
    assert status == 204
    await h.tick()
    assert sorted(h.twilio.summary()[2:]) == [("call", CAROL), ("sms", CAROL)]
    call = (await h.pages(1))[1]
    assert (call.status, call.cause) == ("no_answer", "answered, but no key was pressed")


async def test_a_keypress_makes_the_call_answered(h: Harness) -> None:
    await called_alice(h)
    status, _ = await h.post("/twilio/voice/2/gather", {"Digits": "7", "CallSid": await h.sid(2)})
    assert status == 200
    status, _ = await h.post("/twilio/status/2", completed("human"))
    assert status == 204
    await h.tick()
    assert len(h.twilio.sent) == 2  # the step's 10 minutes are waited as usual
    assert (await h.pages(1))[1].status == "delivered"
    assert h.count("voice", "delivered") == 1


async def test_a_plan_may_count_an_answer_without_a_key(
    store: Store, clock: Any, twilio: FakeTwilio
) -> None:
    clock.current = SATURDAY_NIGHT
    text = CHECKS.replace("ALICE_CAP", "").replace(
        "    calendar: uk-office\n", "    calendar: uk-office\n    call_needs_keypress: false\n", 1
    )
    config = load_config_text(text, "checks.yaml")
    assert config.plans["standard"].call_needs_keypress is False
    async for h in make_harness(store, clock, twilio, config, settings_for(twilio)):
        await called_alice(h)
        status, _ = await h.post("/twilio/status/2", completed("human"))
        assert status == 204
        await h.tick()
        assert len(h.twilio.sent) == 2
        assert (await h.pages(1))[1].status == "delivered"
        # A machine is still no answer.
        await h.advance(minutes=10)
        carol_call = next(
            p for p in await h.pages(1) if p.channel == "voice" and p.person == "carol"
        )
        status, _ = await h.post(f"/twilio/status/{carol_call.id}", completed("machine_start"))
        assert status == 204
        refreshed = next(p for p in await h.pages(1) if p.id == carol_call.id)
        assert refreshed.status == "no_answer"


def test_call_needs_keypress_must_be_a_boolean() -> None:
    text = CHECKS.replace("ALICE_CAP", "").replace(
        "    calendar: uk-office\n", "    calendar: uk-office\n    call_needs_keypress: maybe\n", 1
    )
    with pytest.raises(ConfigError) as raised:
        load_config_text(text, "checks.yaml")
    assert str(raised.value) == "checks.yaml:10:26: bad value 'maybe': use true or false"
