"""When each site is probed: one in-process timing loop over a heap.

The scheduler is behind `ProbeScheduler` so a later multi-node mode can shard sites between
processes without the monitor knowing. APScheduler is kept for housekeeping (see
`uptimeguard.housekeeping`): at 100,000 sites its per-run cost (FACTS.md: 276 us CPU) would be a
third of the probe budget, while a heap costs a few microseconds a run.

Each site runs at most once at a time: its next run is only pushed when the current one returns.

The loop sleeps on one future woken by a `loop.call_at` timer at the earliest due time, or at
once when an earlier entry is pushed: a few microseconds a sleep, where `asyncio.wait_for` on
an event made a task, an event waiter and a timeout each time (measured in bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import zlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Protocol

log = logging.getLogger(__name__)

# Called with the site key and the loop time it was due; returns the loop time of its next run.
Job = Callable[[Hashable, float], Awaitable[float]]
LagObserver = Callable[[float], None]


class ProbeScheduler(Protocol):
    def add(self, key: Hashable, interval: float, first_due: float | None = None) -> None:
        """Run `key` every so often; the first run at `first_due` or at a stable phase."""
        ...

    def remove(self, key: Hashable) -> None: ...

    async def run(self) -> None:
        """Run jobs until cancelled."""
        ...


def phase_of(key: Hashable, interval: float) -> float:
    """A stable offset in [0, interval) for `key`, so sites spread over the interval and keep
    their slot across restarts (no thundering herd at :00)."""
    digest = zlib.crc32(repr(key).encode())
    return (digest / 0xFFFFFFFF) * interval


class HeapScheduler:
    """Runs `job` for each key when due, with at most `concurrency` jobs at once."""

    def __init__(
        self,
        job: Job,
        concurrency: int = 1000,
        on_lag: LagObserver | None = None,
    ) -> None:
        self._job = job
        self._heap: list[tuple[float, int, Hashable]] = []
        self._active: set[Hashable] = set()  # keys that are scheduled or running
        self._seq = 0
        # The future `run` sleeps on; resolved by its timer or by `_push` of an earlier entry.
        self._waiter: asyncio.Future[None] | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_lag = on_lag

    def add(self, key: Hashable, interval: float, first_due: float | None = None) -> None:
        if key in self._active:
            return
        loop = asyncio.get_running_loop()
        if first_due is None:
            now = loop.time()
            first_due = now + phase_of(key, interval)
        self._active.add(key)
        self._push(first_due, key)

    def remove(self, key: Hashable) -> None:
        # Lazy removal: the heap entry is skipped when popped, a running job is not rescheduled.
        self._active.discard(key)

    def __len__(self) -> int:
        return len(self._active)

    def _push(self, due: float, key: Hashable) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, key))
        if self._heap[0][1] == self._seq:  # the new entry is now the earliest
            _wake(self._waiter)

    async def _sleep(self, loop: asyncio.AbstractEventLoop, until: float | None) -> None:
        """Sleep until loop time `until` (None: until woken) or until `_push` wakes us."""
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_at(until, _wake, waiter) if until is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        heap = self._heap
        try:
            while True:
                if not heap:
                    await self._sleep(loop, None)
                    continue
                due = heap[0][0]
                if due > loop.time():
                    await self._sleep(loop, due)
                    continue
                _, _, key = heapq.heappop(heap)
                if key not in self._active:
                    continue
                await self._slots.acquire()
                if self._on_lag is not None:
                    self._on_lag(max(0.0, loop.time() - due))
                task = loop.create_task(self._run_one(key, due))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            await self.drain()

    async def drain(self) -> None:
        """Wait for running jobs to finish (used on shutdown so in-flight work is kept)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run_one(self, key: Hashable, due: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            next_due = await self._job(key, due)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("probe job for %s failed; retrying in 30s", key)
            next_due = loop.time() + 30.0
        finally:
            self._slots.release()
        if key in self._active:
            self._push(next_due, key)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
