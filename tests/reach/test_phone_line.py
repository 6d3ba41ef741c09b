"""The phone line, driven as Twilio drives it: signed posts of an inbound call, the `<Dial>`
action and the recording callbacks, against the bundled checks file.

Wonka Confectionery is on the three-level service: the office is in weekdays 09:00-17:00
(London, GMT in November 2026, so London time is UTC); a phone message opens a
mission_critical incident (30 minutes to respond, 4 hours to resolve, round the clock, worked
out of hours). Acme is on Azzure IT's standard hours (08:00-18:00).
"""

from __future__ import annotations

from datetime import UTC, datetime

from reach_support import (
    ALICE,
    CHARLIE,
    DESK,
    JO,
    PUBLIC_URL,
    STRANGER,
    Harness,
    call,
    recording,
    sign,
)

from uptimeguard.reach.store import ReachStore

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TUESDAY_20 = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
SATURDAY_3 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
RECORD = (
    f'<Record action="{PUBLIC_URL}/twilio/voice/inbound/recording?caller={{digits}}" '
    'finishOnKey="#" maxLength="120" method="POST" playBeep="true" '
    f'recordingStatusCallback="{PUBLIC_URL}/twilio/voice/inbound/recording?caller={{digits}}" '
    'recordingStatusCallbackEvent="completed" recordingStatusCallbackMethod="POST" '
    'timeout="5" />'
)


def record_verb(phone: str) -> str:
    return RECORD.format(digits=phone.removeprefix("+"))


async def test_in_hours_the_call_is_put_through_to_the_desk(h: Harness):
    h.clock.current = TUESDAY_10
    status, twiml = await h.post("/twilio/voice/inbound", call(CHARLIE))
    assert status == 200
    assert twiml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        "<Say>Thank you for calling. Putting you through to the support desk.</Say>"
        f'<Dial action="{PUBLIC_URL}/twilio/voice/inbound/dialled" answerOnBridge="true" '
        f'method="POST" timeout="30"><Number>{DESK}</Number></Dial></Response>'
    )
    # Nobody answered in 30 s: the caller may leave a message.
    _, twiml = await h.post(
        "/twilio/voice/inbound/dialled", call(CHARLIE, DialCallStatus="no-answer")
    )
    assert "<Say>Sorry, nobody could take your call." in twiml
    assert record_verb(CHARLIE) in twiml
    # The desk answered and the call ended: nothing more.
    _, twiml = await h.post(
        "/twilio/voice/inbound/dialled", call(CHARLIE, DialCallStatus="completed")
    )
    assert twiml == '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


async def test_an_unknown_caller_is_put_through_while_any_office_is_open(h: Harness):
    h.clock.current = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)  # Wonka shut, Azzure open
    _, twiml = await h.post("/twilio/voice/inbound", call(STRANGER))
    assert "<Dial" in twiml
    _, twiml = await h.post("/twilio/voice/inbound", call(CHARLIE))  # his office is shut
    assert "<Dial" not in twiml and "<Record" in twiml


async def test_out_of_hours_a_known_caller_hears_of_the_open_incident(h: Harness):
    opened = datetime(2026, 11, 24, 2, 14, tzinfo=UTC)
    await h.incidents.site_failing("wonka", "shop", "down", opened, "connection refused")
    h.clock.current = TUESDAY_20
    status, twiml = await h.post("/twilio/voice/inbound", call(CHARLIE))
    assert status == 200
    assert twiml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say>'
        "Hello Charlie Bucket, thank you for calling about Wonka Confectionery. Our office is "
        "closed at the moment. We know the shop site is down since 02:14 and we are working "
        "on it. Please leave a message after the tone, with your name and number, and press "
        "the hash key or hang up when you have finished. It will be passed to our team at "
        f"once.</Say>{record_verb(CHARLIE)}<Say>We did not get a message. Goodbye.</Say>"
        "<Hangup /></Response>"
    )


async def test_out_of_hours_without_an_incident_and_on_another_day(h: Harness):
    h.clock.current = TUESDAY_20
    _, twiml = await h.post("/twilio/voice/inbound", call(CHARLIE))
    assert "We are not aware of any problem with your sites right now." in twiml
    await h.incidents.site_failing("wonka", "shop", "http_5xx", TUESDAY_20)
    h.clock.current = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    _, twiml = await h.post("/twilio/voice/inbound", call(CHARLIE))
    assert (
        "We know the shop site is returning server errors since Tuesday 24 November at 20:00"
        in twiml
    )


async def test_out_of_hours_an_unknown_caller_may_leave_a_message(h: Harness):
    await h.incidents.site_failing("wonka", "shop", "down", TUESDAY_20)
    h.clock.current = SATURDAY_3
    _, twiml = await h.post("/twilio/voice/inbound", call(STRANGER))
    assert "<Say>Thank you for calling. Our office is closed at the moment. Please leave" in twiml
    assert "We know" not in twiml and "Wonka" not in twiml
    assert record_verb(STRANGER) in twiml


async def test_unsigned_or_forged_posts_are_refused(h: Harness):
    h.clock.current = SATURDAY_3
    for path, fields in (
        ("/twilio/voice/inbound", call(CHARLIE)),
        ("/twilio/voice/inbound/dialled", call(CHARLIE, DialCallStatus="no-answer")),
        ("/twilio/voice/inbound/recording?caller=447700900151", recording(None)),
        ("/twilio/voice/inbound/recording", recording(CHARLIE)),
    ):
        status, _ = await h.post(path, fields, signed=False)
        assert status == 403, path
        forged = {"X-Twilio-Signature": "bm90IFR3aWxpbw=="}
        response = await h.client.post(path, data=fields, headers=forged)
        assert response.status == 403, path
    # A signed post whose caller was changed in the URL does not verify either.
    fields = recording(None)
    signature = sign("/twilio/voice/inbound/recording?caller=447700900151", fields)
    response = await h.client.post(
        "/twilio/voice/inbound/recording?caller=447700900101",
        data=fields,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status == 403
    assert await h.incidents_of("wonka") == [] and await h.incidents_of("acme") == []


async def test_a_message_out_of_hours_opens_a_paged_incident_once(h: Harness):
    h.clock.current = SATURDAY_3
    status, twiml = await h.post("/twilio/voice/inbound/recording", recording(CHARLIE))
    assert status == 200
    assert "Thank you. Your message has been passed to our team. Goodbye." in twiml
    [incident] = await h.incidents_of("wonka")
    assert (incident.severity, incident.source, incident.cause, incident.site) == (
        "mission_critical", "phone", "phone", None,
    )  # fmt: skip
    assert incident.summary == f"Charlie Bucket on {CHARLIE}"
    assert not incident.held_over
    assert incident.response_due == datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
    assert incident.resolution_due == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    message = (await h.timeline(incident.id))[1]
    assert message.kind == "phone_message"
    link = (
        "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/"
        "Recordings/RE" + "a" * 32 + ".mp3"
    )
    assert message.message == f"message left by Charlie Bucket on {CHARLIE} (17 s): {link}"
    assert message.data == {
        "caller": CHARLIE,
        "recording_url": link,
        "recording_sid": "RE" + "a" * 32,
        "duration_seconds": 17,
    }
    # Out of hours and covered: the on-call person is paged, by SMS first.
    await h.paging.tick()
    assert h.twilio.summary() == [("sms", ALICE)]
    sms = h.twilio.sms()[0].form["Body"]
    assert f"Incident {incident.id}: Wonka Confectionery has a phone message" in sms
    # Twilio's status callback for the same recording (no From: the caller is in the URL),
    # then a retry of the action: still one incident, one page.
    path = "/twilio/voice/inbound/recording?caller=447700900151"
    assert (await h.post(path, recording(None)))[0] == 200
    assert (await h.post("/twilio/voice/inbound/recording", recording(CHARLIE)))[0] == 200
    await h.paging.tick()
    assert len(await h.incidents_of("wonka")) == 1
    assert h.twilio.summary() == [("sms", ALICE)]
    [row] = await ReachStore(h.store).messages()
    assert (row.customer, row.contact, row.incident_id) == ("wonka", "Charlie Bucket", incident.id)
    assert row.handled_at == SATURDAY_3
    # The message stays between the customer and the desk: not on the public page.
    page = await (await h.client.get("/status/wonka.json")).json()
    assert page["incidents"] == {"open": [], "resolved_recently": []}
    assert page["status"]["indicator"] != "incident"


async def test_the_status_callback_alone_opens_the_incident(h: Harness):
    h.clock.current = SATURDAY_3
    path = "/twilio/voice/inbound/recording?caller=447700900151"
    assert (await h.post(path, recording(None, sid="RE" + "b" * 32)))[0] == 200
    [incident] = await h.incidents_of("wonka")
    assert incident.summary == f"Charlie Bucket on {CHARLIE}"


async def test_a_message_in_hours_tells_the_desk(h: Harness):
    h.clock.current = TUESDAY_10
    await h.post("/twilio/voice/inbound/recording", recording(JO))
    [incident] = await h.incidents_of("acme")
    # Azzure IT's plan names no phone severity: the most urgent.
    assert incident.severity == "mission_critical"
    await h.paging.tick()
    assert h.twilio.summary() == [("sms", DESK)]


async def test_a_message_during_cover_uses_the_cover_plan(h: Harness):
    h.clock.current = datetime(2026, 12, 26, 10, 0, tzinfo=UTC)
    await h.post("/twilio/voice/inbound/recording", recording(JO))
    [incident] = await h.incidents_of("acme")
    assert (incident.plan, incident.cover) == ("enhanced", "2026-12-20..2027-01-04")


async def test_an_unknown_callers_message_opens_nothing(h: Harness):
    h.clock.current = SATURDAY_3
    status, _ = await h.post("/twilio/voice/inbound/recording", recording(STRANGER))
    assert status == 200
    assert await h.store.incidents() == []
    [row] = await ReachStore(h.store).messages()
    assert (row.customer, row.caller, row.incident_id) == (None, STRANGER, None)


async def test_nothing_recorded_opens_nothing(h: Harness):
    h.clock.current = SATURDAY_3
    for fields in (
        recording(CHARLIE, RecordingDuration="0"),
        recording(CHARLIE, sid="not-a-sid"),
        recording(CHARLIE, RecordingUrl="javascript:alert(1)"),
        {**recording(None), "RecordingStatus": "failed"},
    ):
        status, twiml = await h.post("/twilio/voice/inbound/recording", fields)
        assert status == 200 and "We did not get a message" in twiml
    assert await h.store.incidents() == []
