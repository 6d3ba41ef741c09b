"""The outbox on every database: a page is claimed by one worker only, a step is planned once,
and a page left half-sent by a crash is never sent again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from uptimeguard.paging.models import PENDING, SENDING
from uptimeguard.paging.outbox import Conflict, NewPage, Outbox
from uptimeguard.storage.repository import NewEvent, Store

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


async def _incident(store: Store) -> int:
    row = await store.create_incident(
        {
            "customer": "acme",
            "site": "www",
            "plan": "standard",
            "severity": "mission_critical",
            "cause": "down",
            "status": "open",
            "source": "monitor",
            "summary": "www down",
            "opened_at": NOW,
            "held_over": False,
        },
        NewEvent("opened", NOW),
    )
    return row.id


def _page(step: int, person: str = "alice") -> NewPage:
    return NewPage("ladder", person, person.title(), "+447700900001", "sms", "hi", NOW, step=step)


async def test_each_page_is_claimed_by_exactly_one_worker(store: Store):
    outbox = Outbox(store)
    incident = await _incident(store)
    await outbox.add(incident, [_page(i) for i in range(20)], NOW)
    claims = await asyncio.gather(*(outbox.claim_due(NOW, limit=20) for _ in range(4)))
    ids = [page.id for claim in claims for page in claim]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert await outbox.claim_due(NOW + timedelta(hours=1)) == []
    assert {p.status for p in await outbox.pages(incident)} == {SENDING}


async def test_a_page_not_yet_due_is_not_claimed(store: Store):
    outbox = Outbox(store)
    incident = await _incident(store)
    later = NewPage("ladder", "bob", "Bob", "+4477", "sms", "x", NOW + timedelta(minutes=5))
    await outbox.add(incident, [later], NOW)
    assert await outbox.claim_due(NOW) == []
    assert len(await outbox.claim_due(NOW + timedelta(minutes=5))) == 1


async def test_a_step_is_planned_once(store: Store):
    outbox = Outbox(store)
    incident = await _incident(store)
    await outbox.begin(
        incident, {"decision": "page", "severity": "x", "ladder": "running"}, [], NOW
    )
    expect = {"ladder": "running", "next_position": 0}

    async def plan() -> bool:
        try:
            await outbox.move(incident, expect, {"next_position": 1}, [_page(0)], NOW)
        except Conflict:
            return False
        return True

    results = await asyncio.gather(*(plan() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert len(await outbox.pages(incident)) == 1
    with pytest.raises(Conflict):  # the unique key holds even past the state check
        await outbox.add(incident, [_page(0)], NOW)
    with pytest.raises(Conflict):
        await outbox.begin(incident, {"decision": "desk", "severity": "x"}, [], NOW)


async def test_a_half_sent_page_is_marked_interrupted_not_resent(store: Store):
    outbox = Outbox(store)
    incident = await _incident(store)
    await outbox.add(incident, [_page(0), _page(1)], NOW)
    claimed, other = await outbox.claim_due(NOW, limit=2)
    # The process dies here; a new one starts a second later.
    restarted = NOW + timedelta(seconds=1)
    interrupted = await outbox.interrupted(restarted, restarted)
    assert {p.id for p in interrupted} == {claimed.id, other.id}
    assert await outbox.claim_due(restarted + timedelta(hours=1)) == []
    assert {p.status for p in await outbox.pages(incident)} == {"interrupted"}
    # A delivery status for it still arrives and is kept.
    row = await outbox.finish(claimed.id, "delivered", None, restarted, ("interrupted",))
    assert row is not None and row.status == "delivered"
    assert PENDING not in {p.status for p in await outbox.pages(incident)}
