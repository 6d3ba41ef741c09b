"""Two people acknowledging the same incident at the same moment (issue 12, item 8).

Both requests read the incident unacknowledged, then both write (a gate holds each write
until the other has arrived, so the race happens every run, on SQLite and on PostgreSQL).
The write is a conditional update: exactly one takes. Only its sender is told
"acknowledged"; the other is told who did, and when. Before the fix both were told they
had acknowledged it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_twilio import FROM
from paging_support import ALICE, CAROL, Harness

INCIDENTS = (("acme", "www"), ("acme", "api"), ("beta", "shop"))
NAMES = {ALICE: "Alice Smith", CAROL: "Carol White"}


class Gate:
    """Holds every acknowledging write until `parties` of them are waiting, then lets all go."""

    def __init__(self, store: Any, parties: int) -> None:
        self._update = store.update_incident
        self._parties = parties
        self._waiting = 0
        self._open = asyncio.Event()
        self.held = 0

    def reset(self) -> None:
        self._waiting = 0
        self._open = asyncio.Event()

    async def update_incident(self, incident_id: int, changes: dict[str, Any], *a: Any, **k: Any):
        if "acknowledged_at" in changes:
            self._waiting += 1
            self.held += 1
            if self._waiting >= self._parties:
                self._open.set()
            await asyncio.wait_for(self._open.wait(), timeout=10)
        return await self._update(incident_id, changes, *a, **k)


async def test_of_two_acks_at_once_only_the_one_that_took_is_told_so(
    h: Harness, monkeypatch: pytest.MonkeyPatch
):
    for customer, site in INCIDENTS:
        await h.outage(site, customer)
    await h.advance(minutes=5)  # step 2: alice's call
    await h.advance(minutes=10)  # step 3: carol, the support manager: SMS and call
    for incident_id in (1, 2, 3):
        paged = {p.phone for p in await h.pages(incident_id) if p.status == "sent"}
        assert {ALICE, CAROL} <= paged, incident_id
    gate = Gate(h.store, parties=2)
    monkeypatch.setattr(h.store, "update_incident", gate.update_incident)

    outcomes = []
    for incident_id in (1, 2, 3):
        gate.reset()
        replies = await asyncio.gather(
            *(
                h.post("/twilio/sms", {"From": phone, "To": FROM, "Body": f"ACK {incident_id}"})
                for phone in (ALICE, CAROL)
            )
        )
        assert [status for status, _ in replies] == [200, 200]
        incident = await h.incident(incident_id)
        winner = incident.acknowledged_by
        assert winner in NAMES.values()
        took = [text for _, text in replies if "Escalation stopped" in text]
        told = [text for _, text in replies if "was already acknowledged" in text]
        assert len(took) == 1 and len(told) == 1, replies
        assert f"Incident {incident_id} acknowledged by {winner}. Escalation stopped." in took[0]
        assert (
            f"Incident {incident_id} was already acknowledged by {winner} at 03:15 GMT." in told[0]
        )
        acks = [e for e in await h.timeline(incident_id) if e.kind == "acknowledged"]
        assert len(acks) == 1
        outcomes.append(winner)
    assert gate.held == 6  # every write really was concurrent with the other
    print(f"\n3 races: winners {outcomes}; 3 told acknowledged, 3 told who did")
