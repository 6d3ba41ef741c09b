"""A crash while a burst of pages goes out strands only the page on the wire.

The sender claims a page (`sending`) only when the one before it is done. Killed halfway
through a burst, the daemon leaves one page `sending`: after the restart that one is marked
`interrupted` (it may have reached Twilio, so it is never resent) and every other page of the
burst is sent, once. Claiming the whole batch first, as the sender once did, lost every page
of the batch still waiting its turn.
"""

from __future__ import annotations

from typing import Any

import pytest
from fake_twilio import FakeTwilio
from paging_support import SATURDAY_NIGHT, checks, make_harness, settings_for

from uptimeguard.paging.dispatch import Dispatcher
from uptimeguard.paging.models import INTERRUPTED, PENDING, SENDING, SENT
from uptimeguard.storage.repository import Store


class Killed(BaseException):
    """SIGKILL, as far as the code in flight can tell: nothing after it runs."""


async def test_a_kill_mid_burst_strands_only_the_page_being_sent(
    store: Store, clock: Any, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
):
    clock.current = SATURDAY_NIGHT
    config, settings = checks(), settings_for(twilio)
    real_hand_over = Dispatcher._hand_over
    calls = 0

    async def dies_on_the_second_page(self: Dispatcher, page: Any, sender: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Killed
        return await real_hand_over(self, page, sender)

    async for h in make_harness(store, clock, twilio, config, settings):
        for customer, site in (("acme", "www"), ("acme", "api"), ("beta", "shop")):
            await h.incidents.site_failing(customer, site, "down", clock.now(), "refused")
        monkeypatch.setattr(Dispatcher, "_hand_over", dies_on_the_second_page)
        with pytest.raises(Killed):
            await h.tick()
        statuses = [p.status for p in await h.pages()]
        assert statuses.count(SENT) == 1
        assert statuses.count(SENDING) == 1  # only the page on the wire is in doubt
        assert statuses.count(PENDING) == len(statuses) - 2 >= 1
        burst = len(statuses)
        break

    monkeypatch.setattr(Dispatcher, "_hand_over", real_hand_over)
    clock.advance(seconds=1)  # the daemon starts again a second later
    async for h in make_harness(store, clock, twilio, config, settings):
        await h.paging.recover()  # what the daemon's paging loop does first
        await h.tick()
        burst_pages = sorted(await h.pages(), key=lambda p: p.id)[:burst]
        statuses = [p.status for p in burst_pages]
        assert statuses.count(INTERRUPTED) == 1
        assert statuses.count(SENT) == burst - 1
        # Every page of the burst but the one in doubt reached Twilio, each exactly once.
        assert len(twilio.sent) == burst - 1
        sent = {(s.kind, s.to, s.form.get("Body", s.form.get("Url", ""))) for s in twilio.sent}
        assert len(sent) == burst - 1
