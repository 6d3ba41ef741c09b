"""Who hears of an incident: the desk in hours, held-over incidents at opening, overrides."""

from __future__ import annotations

from datetime import UTC, datetime

from fake_twilio import FROM
from paging_support import ALICE, BOB, DESK, Harness

from uptimeguard.paging.models import LADDER


async def test_in_hours_the_desk_is_told_and_nobody_is_paged(h: Harness):
    h.clock.current = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday, in hours
    await h.outage()
    (sms,) = h.twilio.sent
    assert sms.form == {
        "To": DESK,
        "From": FROM,
        "Body": (
            "[uptimeguard] Incident 1: Acme Ltd site www is down (connection refused). "
            "Severity mission_critical. Reply ACK 1 to acknowledge."
        ),
        "StatusCallback": "https://guard.example.com/twilio/status/1",
    }
    await h.advance(minutes=10)
    assert len(h.twilio.sent) == 1
    await h.advance(hours=2)
    # The SLA ladder still runs (support manager at 75% of the response target) but the
    # on-call ladder never starts in hours.
    assert not [p for p in await h.pages(1) if p.purpose == LADDER]
    assert ALICE not in {s.to for s in h.twilio.sent} and BOB not in {s.to for s in h.twilio.sent}
    assert "in business hours: the desk is told" in [e.message for e in await h.timeline(1)]


async def test_held_over_incidents_are_told_at_0800_in_one_message_per_customer(h: Harness):
    h.clock.current = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # Saturday night
    await h.outage("www", cause="http_5xx", detail="HTTP 503 Service Unavailable")
    await h.outage("api", cause="content", detail="'Welcome' not found")
    await h.outage("shop", customer="beta", cause="http_4xx", detail="HTTP 404 Not Found")
    for incident_id in (1, 2, 3):
        assert (await h.incident(incident_id)).held_over
    h.clock.current = datetime(2026, 11, 30, 7, 59, 59, tzinfo=UTC)  # Monday, just before
    await h.tick()
    assert h.twilio.sent == []

    await h.advance(seconds=1)  # 08:00: the calendar opens
    assert [s.to for s in h.twilio.sent] == [DESK, DESK]
    acme, beta = (s.form["Body"] for s in h.twilio.sent)
    assert acme == (
        "[uptimeguard] Acme Ltd: 2 incidents held over from out of hours: "
        "#1 www returns server errors (HTTP 503 Service Unavailable), bug_fix, "
        "opened Sat 28 Nov 23:00 GMT; "
        "#2 api does not show the expected content ('Welcome' not found), bug_fix, "
        "opened Sat 28 Nov 23:00 GMT. Reply ACK <id> to acknowledge."
    )
    assert beta == (
        "[uptimeguard] Beta plc: 1 incident held over from out of hours: "
        "#3 shop returns client errors (HTTP 404 Not Found), bug_fix, "
        "opened Sat 28 Nov 23:00 GMT. Reply ACK 3 to acknowledge."
    )
    await h.advance(minutes=5)
    assert len(h.twilio.sent) == 2  # told once

    # A bare ACK from the desk: two messages wait for an answer, so it is not clear which it
    # answers; the desk is asked for the number, and nothing is acknowledged.
    _, text = await h.post("/twilio/sms", {"From": DESK, "To": FROM, "Body": "ACK"})
    assert "incidents 1, 2, 3 were paged to you and are unacknowledged" in text
    assert all([(await h.incident(i)).acknowledged_at is None for i in (1, 2, 3)])
    _, text = await h.post("/twilio/sms", {"From": DESK, "To": FROM, "Body": "ACK 3"})
    assert "Incident 3 acknowledged by the desk" in text
    assert (await h.incident(3)).acknowledged_by == "the desk"
    assert (await h.incident(1)).acknowledged_at is None


async def test_a_bare_ack_to_one_held_over_message_acknowledges_all_it_lists(h: Harness):
    h.clock.current = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # Saturday night
    await h.outage("www", cause="http_5xx", detail="HTTP 503 Service Unavailable")
    await h.outage("api", cause="content", detail="'Welcome' not found")
    h.clock.current = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday: the calendar opens
    await h.tick()
    assert [s.to for s in h.twilio.sent] == [DESK]
    _, text = await h.post("/twilio/sms", {"From": DESK, "To": FROM, "Body": "ACK"})
    assert "Incident 1 acknowledged by the desk" in text
    assert "Incident 2 acknowledged by the desk" in text


async def test_held_over_incident_upgraded_to_a_covered_severity_starts_the_ladder(h: Harness):
    h.clock.current = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    await h.outage("www", cause="http_5xx", detail="HTTP 503")
    assert h.twilio.sent == []
    await h.advance(minutes=10)
    await h.incidents.site_failing("acme", "www", "down", h.clock.now(), "connection refused")
    await h.tick()
    assert h.twilio.summary() == [("sms", ALICE)]


async def test_an_override_wins_over_the_rotation(h: Harness):
    # Christmas Day, 03:00: alice's week on the rotation, but bob's override (24th 18:00 to
    # 27th 09:00) puts bob on call.
    h.clock.current = datetime(2026, 12, 25, 3, 0, tzinfo=UTC)
    await h.outage()
    assert h.twilio.summary() == [("sms", BOB)]
    await h.advance(minutes=5)
    assert h.twilio.summary() == [("sms", BOB), ("call", BOB)]


async def test_after_the_override_the_rotation_is_back(h: Harness):
    h.clock.current = datetime(2026, 12, 27, 9, 0, tzinfo=UTC)  # the override has just ended
    await h.outage()
    assert h.twilio.summary() == [("sms", ALICE)]


async def test_unacknowledged_covered_incident_is_handed_to_oncall_at_closing(h: Harness):
    h.clock.current = datetime(2026, 11, 24, 17, 50, tzinfo=UTC)  # Tuesday, ten to closing
    await h.outage()
    assert [s.to for s in h.twilio.sent] == [DESK]
    await h.advance(minutes=9, seconds=59)
    assert not [p for p in await h.pages(1) if p.purpose == LADDER]

    await h.advance(seconds=1)  # 18:00: the desk has gone home and nobody acknowledged
    ladder = [p for p in await h.pages(1) if p.purpose == LADDER]
    assert [(p.phone, p.channel) for p in ladder] == [(ALICE, "sms")]
    messages = [e.message for e in await h.timeline(1)]
    assert "still unacknowledged when business hours ended: paging the on-call ladder" in messages


async def test_acknowledged_incident_is_not_handed_over_at_closing(h: Harness):
    h.clock.current = datetime(2026, 11, 24, 17, 50, tzinfo=UTC)
    await h.outage()
    await h.incidents.acknowledge(1, "desk", h.clock.current)
    await h.advance(minutes=20)
    assert not [p for p in await h.pages(1) if p.purpose == LADDER]
