"""A replayed ACK must not acknowledge a newer incident (issue 12, item 3).

Twilio signs a webhook over its URL and fields, not over a time, so a captured request stays
valid for ever. Each inbound SMS is taken once, by its `MessageSid` (a table keyed by it);
the same request posted again, later or at the same moment, is answered 200 and does
nothing. A bare `ACK` answers the last page told to the number before it came, and is
refused, asking for the number, when another incident told to that number is also
unacknowledged. Before the fix the replayed bare ACK acknowledged the later incident and
stopped its ladder.
"""

from __future__ import annotations

import asyncio

from fake_twilio import FROM
from paging_support import ALICE, Harness, message_sid

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


async def test_a_replayed_bare_ack_acknowledges_nothing(h: Harness):
    await h.outage("www")  # incident 1: alice's SMS
    ack = {"From": ALICE, "To": FROM, "Body": "ACK", "MessageSid": message_sid()}
    status, text = await h.post("/twilio/sms", ack)
    assert status == 200 and "Incident 1 acknowledged by Alice Smith" in text
    h.clock.advance(minutes=20)
    await h.outage("api")  # incident 2: alice's SMS
    assert h.twilio.summary()[-1] == ("sms", ALICE)

    # The captured request, posted again: validly signed, the same MessageSid.
    status, text = await h.post("/twilio/sms", ack)
    assert (status, text) == (200, EMPTY)
    assert (await h.incident(2)).acknowledged_at is None
    await h.advance(minutes=5)  # incident 2's ladder goes on: alice's call
    assert h.twilio.summary()[-1] == ("call", ALICE)
    # Twilio retrying an explicit ACK, twice at once: one of the three takes.
    explicit = {"From": ALICE, "To": FROM, "Body": "ACK 2", "MessageSid": message_sid()}
    replies = await asyncio.gather(*(h.post("/twilio/sms", explicit) for _ in range(3)))
    assert [status for status, _ in replies] == [200] * 3
    assert sum(text == EMPTY for _, text in replies) == 2
    assert sum("Incident 2 acknowledged by Alice Smith" in text for _, text in replies) == 1
    acks = [e for i in (1, 2) for e in await h.timeline(i) if e.kind == "acknowledged"]
    assert len(acks) == 2
    print("\nreplayed bare ACK: incident 2 left unacknowledged; 3 posts of one sid: 1 taken")


async def test_a_bare_ack_is_refused_when_two_incidents_wait(h: Harness):
    await h.outage("www")  # incident 1
    h.clock.advance(minutes=2)
    await h.outage("api")  # incident 2, told to alice 2 minutes later
    status, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": "ACK"})
    assert status == 200
    assert "Not acknowledged: incidents 1, 2 were paged to you and are unacknowledged." in text
    assert "Reply ACK &lt;incident number&gt;, e.g. ACK 2." in text
    assert [(await h.incident(i)).acknowledged_at for i in (1, 2)] == [None, None]
    _, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": "ACK 1"})
    assert "Incident 1 acknowledged" in text
    # Now only incident 2 waits, and it is the last page alice was told: a bare ACK is clear.
    _, text = await h.post("/twilio/sms", {"From": ALICE, "To": FROM, "Body": "ACK"})
    assert "Incident 2 acknowledged by Alice Smith" in text


async def test_a_signed_sms_without_a_message_sid_is_refused(h: Harness):
    await h.outage("www")
    fields = {"From": ALICE, "To": FROM, "Body": "ACK 1", "MessageSid": ""}
    status, text = await h.post("/twilio/sms", fields)
    assert status == 400
    assert "MessageSid: missing or malformed" in text
    fields["MessageSid"] = "SM<script>"
    assert (await h.post("/twilio/sms", fields))[0] == 400
    assert (await h.incident(1)).acknowledged_at is None
