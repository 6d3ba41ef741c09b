"""Out of hours: the on-call ladder, exactly as the real twilio client sends it to Twilio."""

from __future__ import annotations

from fake_twilio import FROM
from paging_support import ALICE, CAROL, DAVE, PUBLIC_URL, Harness

SMS_BODY = (
    "[uptimeguard] Incident 1: Acme Ltd site www is down (connection refused). "
    "Severity mission_critical. Reply ACK 1 to acknowledge."
)


async def test_outage_pages_oncall_by_sms_then_voice_then_the_support_manager(h: Harness):
    incident = await h.outage()
    assert incident.id == 1
    # At once: SMS to alice, on call this week.
    (sms,) = h.twilio.sent
    assert sms.kind == "sms"
    assert sms.form == {
        "To": ALICE,
        "From": FROM,
        "Body": SMS_BODY,
        "StatusCallback": f"{PUBLIC_URL}/twilio/status/1",
    }
    # Nothing more until the step's then_wait (5m) has passed.
    await h.advance(minutes=4, seconds=59)
    assert len(h.twilio.sent) == 1

    await h.advance(seconds=1)
    call = h.twilio.sent[1]
    assert call.kind == "call"
    assert call.form == {
        "To": ALICE,
        "From": FROM,
        "Url": f"{PUBLIC_URL}/twilio/voice/2",
        "Method": "POST",
        "MachineDetection": "Enable",
        "Timeout": "30",
        "StatusCallback": f"{PUBLIC_URL}/twilio/status/2",
        "StatusCallbackMethod": "POST",
    }
    # Twilio fetches the call's TwiML: it reads the incident and gathers one digit.
    status, text = await h.post("/twilio/voice/2", {"CallSid": "CA1", "From": FROM, "To": ALICE})
    assert status == 200
    assert text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Gather action="{PUBLIC_URL}/twilio/voice/2/gather" method="POST" numDigits="1" '
        'timeout="8">'
        "<Say>This is uptimeguard. Incident 1. Acme Ltd, site www, is down: connection refused. "
        "Severity mission critical.</Say>"
        "<Say>Press 1 to acknowledge. Press any other key to hear this again.</Say></Gather>"
        f'<Redirect method="POST">{PUBLIC_URL}/twilio/voice/2?play=2</Redirect></Response>'
    )

    # 11m15s: 75% of the 15m response target: the SLA ladder tells the support manager.
    await h.advance(minutes=6, seconds=15)
    assert h.twilio.summary()[2:] == [("sms", CAROL)]
    assert "has reached 75% of its response target" in h.twilio.sent[2].form["Body"]

    # 15m: the ladder's third step (support manager, SMS and voice); the SLA's 100% step.
    await h.advance(minutes=3, seconds=45)
    assert sorted(h.twilio.summary()[3:]) == [("call", CAROL), ("sms", CAROL), ("sms", DAVE)]
    ladder_sms = [s for s in h.twilio.sent[3:] if s.kind == "sms" and s.to == CAROL]
    assert ladder_sms[0].form["Body"] == SMS_BODY

    assert h.count("sms", "sent") == 4 and h.count("voice", "sent") == 2
    events = [e.message for e in await h.timeline(1) if e.kind == "page"]
    assert events[0] == (
        "SMS to Alice Smith (+447700900001) sent (escalation, step 1 of 4, round 1 of 3)"
    )
    assert len(events) == 6


async def test_ack_reply_stops_the_ladder(h: Harness):
    await h.outage()
    status, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": "ACK 1"})
    assert status == 200
    assert text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        "Incident 1 acknowledged by Alice Smith. Escalation stopped.</Message></Response>"
    )
    incident = await h.incident(1)
    assert incident.status == "acknowledged" and incident.acknowledged_by == "Alice Smith"
    await h.advance(hours=3)
    # Only the first SMS: no call, no support manager, no SLA response escalation.
    assert h.twilio.summary() == [("sms", ALICE)]
    messages = [e.message for e in await h.timeline(1)]
    assert "escalation stopped: acknowledged by Alice Smith" in messages
    assert h.metrics.registry.get_sample_value("uptimeguard_page_ack_seconds_count") == 1


async def test_bare_ack_acknowledges_the_latest_page(h: Harness):
    await h.outage()
    status, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": " ack "})
    assert status == 200 and "Incident 1 acknowledged by Alice Smith" in text
    assert (await h.incident(1)).acknowledged_by == "Alice Smith"


async def test_keypress_1_acknowledges_and_other_keys_repeat(h: Harness):
    await h.outage()
    await h.advance(minutes=5)
    assert h.twilio.summary() == [("sms", ALICE), ("call", ALICE)]
    status, text = await h.post(
        "/twilio/voice/2/gather", {"Digits": "7", "CallSid": await h.sid(2)}
    )
    assert status == 200 and "<Gather" in text and "Press 1 to acknowledge" in text
    assert (await h.incident(1)).acknowledged_at is None

    status, text = await h.post(
        "/twilio/voice/2/gather", {"Digits": "1", "CallSid": await h.sid(2)}
    )
    assert status == 200
    assert text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Incident 1 acknowledged by '
        "Alice Smith. Escalation stopped. Goodbye.</Say><Hangup /></Response>"
    )
    assert (await h.incident(1)).acknowledged_by == "Alice Smith"
    await h.advance(hours=2)
    assert h.twilio.summary() == [("sms", ALICE), ("call", ALICE)]


async def test_no_answer_moves_the_ladder_on_at_once(h: Harness):
    await h.outage()
    await h.advance(minutes=5)
    status, _ = await h.post(
        "/twilio/status/2", {"CallSid": "CA1", "CallStatus": "no-answer", "To": ALICE}
    )
    assert status == 204
    await h.tick()  # still 5m after opening, not 15m
    assert sorted(h.twilio.summary()[2:]) == [("call", CAROL), ("sms", CAROL)]
    pages = await h.pages(1)
    assert pages[1].status == "no_answer" and pages[1].cause == "no answer"
    assert h.count("voice", "no_answer") == 1
    messages = [e.message for e in await h.timeline(1)]
    assert "Call to Alice Smith (+447700900001) not answered: no answer" in messages
    assert "nobody reached at that step: escalating now" in messages


async def test_delivered_status_is_recorded_once(h: Harness):
    await h.outage()
    for _ in range(2):  # Twilio retries callbacks: the second changes nothing
        status, _ = await h.post(
            "/twilio/status/1", {"MessageSid": "SM1", "MessageStatus": "delivered"}
        )
        assert status == 204
    assert (await h.pages(1))[0].status == "delivered"
    assert h.count("sms", "delivered") == 1
    statuses = [e for e in await h.timeline(1) if e.kind == "page_status"]
    assert [e.message for e in statuses] == ["SMS to Alice Smith (+447700900001) delivered"]


async def test_resolution_tells_everyone_paged_once(h: Harness):
    await h.outage()
    await h.advance(minutes=5)
    await h.incidents.site_recovered("acme", "www", h.clock.now())
    await h.tick()
    await h.advance(hours=1)
    resolved = [s for s in h.twilio.sent if "resolved" in s.form.get("Body", "")]
    assert [s.to for s in resolved] == [ALICE]
    assert resolved[0].form["Body"] == (
        "[uptimeguard] Incident 1 resolved by monitor: Acme Ltd site www "
        "(down: connection refused). No action needed."
    )
    assert len(h.twilio.sent) == 3
