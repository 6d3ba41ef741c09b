"""A probe made off its slot (a missed slot caught up after a hand-over) does not run again
at a slot a few milliseconds later: the next slot is taken at or after `not_before`.

Seen in a SIGKILL hand-over: the new owner caught up a missed slot 7 ms before the site's
regular slot, and probed it again at that slot, twice at once."""

from __future__ import annotations

import asyncio
import time

from uptimeguard.monitor.scheduler import next_slot_in, phase_of


async def test_the_next_slot_is_at_or_after_not_before() -> None:
    loop = asyncio.get_running_loop()
    key, interval = ("acme", "www"), 2.0
    phase = phase_of(key, interval)
    plain = next_slot_in(key, interval, loop)
    now = loop.time()
    assert now <= plain <= now + interval + 0.01
    # not_before just after the next slot: that slot is skipped, the one after is taken.
    later = next_slot_in(key, interval, loop, not_before=plain + 0.001)
    assert abs(later - (plain + interval)) < 0.01
    # on the phase of wall-clock time, whoever computes it
    wall = time.time() + (later - loop.time())
    assert abs(((wall - phase) % interval + 0.005) % interval - 0.005) < 0.01
    # a not_before in the past changes nothing
    assert abs(next_slot_in(key, interval, loop, not_before=now - 10) - plain) < 0.01
