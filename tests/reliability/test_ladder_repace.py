"""After the database is back from an outage (a full disk), the ladder keeps its pace.

A rung's pages were planned, then the disk filled before they could be sent. Before the fix,
when writes worked again ten minutes later the next rung was overdue too: the SMS and the
call that should follow it five minutes later went out in the same second. The next rung now
counts its wait from when the rung before it actually went out.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from fake_twilio import FakeTwilio
from paging_support import ALICE, SATURDAY_NIGHT, checks, make_harness, settings_for
from sqlalchemy.exc import OperationalError

from uptimeguard.paging.outbox import Outbox
from uptimeguard.storage.repository import Store


async def test_the_ladder_re_paces_after_the_disk_was_full(
    store: Store, clock: Any, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
):
    clock.current = SATURDAY_NIGHT
    real_claim = Outbox.claim_next
    disk_full = True

    async def claim_next(self: Outbox, now: Any, candidates: int = 20) -> Any:
        if disk_full:
            raise OperationalError("UPDATE pages", {}, Exception("database or disk is full"))
        return await real_claim(self, now, candidates)

    monkeypatch.setattr(Outbox, "claim_next", claim_next)

    async def ladder_sent() -> list[tuple[str, str]]:
        # The on-call ladder's pages that went out (the SLA escalation's are its own).
        pages = sorted(await h.pages(), key=lambda p: p.id)
        return [(p.channel, p.phone) for p in pages if p.purpose == "ladder" and p.sent_at]

    async for h in make_harness(store, clock, twilio, checks(), settings_for(twilio)):
        with contextlib.suppress(OperationalError):
            await h.outage()  # the SMS is planned; sending it fails
        for _ in range(10):  # ten minutes of a full disk, a tick a minute
            clock.advance(minutes=1)
            with contextlib.suppress(OperationalError):
                await h.tick()
        assert twilio.sent == []
        assert await h.pages() != []  # planned before the disk filled, never sent
        disk_full = False
        back = clock.now()
        await h.tick()
        assert await ladder_sent() == [("sms", ALICE)]  # the overdue SMS, alone
        clock.advance(minutes=4, seconds=59)
        await h.tick()
        assert await ladder_sent() == [("sms", ALICE)]
        clock.advance(seconds=1)  # five minutes after the SMS went: the call
        await h.tick()
        assert await ladder_sent() == [("sms", ALICE), ("voice", ALICE)]
        [sms, call] = sorted(
            [p for p in await h.pages() if p.purpose == "ladder"], key=lambda p: p.id
        )
        assert sms.sent_at == back
        assert call.sent_at == back + timedelta(minutes=5)
