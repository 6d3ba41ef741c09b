"""A pause of the SLA clock stops the SLA escalation ladder too: a step falls due as much
later as the pause stopped its target's clock."""

from __future__ import annotations

from datetime import timedelta

from paging_support import CAROL, SATURDAY_NIGHT, Harness


def told_carol_75(h: Harness) -> bool:
    return any(
        s.to == CAROL and "75% of its response target" in s.form.get("Body", "")
        for s in h.twilio.sms()
    )


async def test_the_75_percent_step_waits_for_the_pause(h: Harness) -> None:
    incident = await h.outage()  # mission_critical, 15 min on 24x7: 75% at 03:11:15
    await h.advance(minutes=5)
    await h.incidents.pause(incident.id, "alice", "waiting on the customer", h.clock.now())
    await h.advance(minutes=10)  # 03:15: the clock stood still all along
    assert not told_carol_75(h)
    resumed = await h.incidents.resume(incident.id, "alice", h.clock.now())
    assert resumed.response_due == SATURDAY_NIGHT + timedelta(minutes=25)
    await h.advance(minutes=6, seconds=14)  # 03:21:14
    assert not told_carol_75(h)
    await h.advance(seconds=16)  # past 03:21:15 (the sweep runs every 15 s at most)
    assert told_carol_75(h)
