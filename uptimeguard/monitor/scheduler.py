"""When each site is probed: one in-process timing loop over a heap.

The scheduler is behind `ProbeScheduler`; with several nodes the monitor adds only the sites
this node owns (`uptimeguard.cluster.ownership`) and removes those it hands over. APScheduler
is kept for housekeeping (see `uptimeguard.housekeeping`): at 100,000 sites its per-run cost
(FACTS.md: 276 us CPU) would be a third of the probe budget, while a heap costs a few
microseconds a run.

Each site runs at most once at a time: its next run is only pushed when the current one returns.
A site's slots are a stable phase within its interval *of wall-clock time*, so every node (and
every restart) probes it at the same instants, and a hand-over keeps the site's rhythm.

The loop sleeps on one future woken by a `loop.call_at` timer at the earliest due time, or at
once when an earlier entry is pushed: a few microseconds a sleep, where `asyncio.wait_for` on
an event made a task, an event waiter and a timeout each time (measured in bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Hashable, Iterable
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


def loop_time_of(wall: float, loop: asyncio.AbstractEventLoop) -> float:
    """The event loop's time at the Unix instant `wall`."""
    return loop.time() + (wall - time.time())


def next_slot_in(
    key: Hashable,
    interval: float,
    loop: asyncio.AbstractEventLoop,
    not_before: float | None = None,
) -> float:
    """The loop time of the next slot of `key` at or after now, or at or after the loop time
    `not_before` when that is later."""
    phase = phase_of(key, interval)
    now = loop.time()
    start = max(now, not_before) if not_before is not None else now
    wall = time.time() + (start - now)
    return start + (phase - wall) % interval


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
        # Keys scheduled or running, with the sequence number of their one valid heap entry
        # (older entries, left by `reschedule`, are skipped when popped).
        self._active: dict[Hashable, int] = {}
        self._running: set[Hashable] = set()
        self._sooner: dict[Hashable, float] = {}  # asked to run again once the run ends
        self._seq = 0
        # The future `run` sleeps on; resolved by its timer or by `_push` of an earlier entry.
        self._waiter: asyncio.Future[None] | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_lag = on_lag

    def add(self, key: Hashable, interval: float, first_due: float | None = None) -> None:
        if key in self._active:
            return
        if first_due is None:
            first_due = next_slot_in(key, interval, asyncio.get_running_loop())
        self._push(first_due, key)

    def add_many(self, items: Iterable[tuple[Hashable, float, float]]) -> None:
        """`add` for many (key, interval, phase) at once, each at its next slot, with the
        phases (`phase_of`) computed beforehand: one heapify rather than a push each, which
        at 100,000 sites is the difference between a fraction of a second and seconds."""
        loop_now, wall_now = asyncio.get_running_loop().time(), time.time()
        entries: list[tuple[float, int, Hashable]] = []
        for key, interval, phase in items:
            if key in self._active:
                continue
            self._seq += 1
            self._active[key] = self._seq
            entries.append((loop_now + (phase - wall_now) % interval, self._seq, key))
        if not entries:
            return
        if 4 * len(entries) >= len(self._heap):  # many: cheaper to rebuild the heap
            self._heap.extend(entries)
            heapq.heapify(self._heap)
        else:
            for entry in entries:
                heapq.heappush(self._heap, entry)
        _wake(self._waiter)

    def remove(self, key: Hashable) -> None:
        # Lazy removal: the heap entry is skipped when popped, a running job is not rescheduled.
        self._active.pop(key, None)
        self._sooner.pop(key, None)

    def reschedule(self, key: Hashable, due: float) -> None:
        """Run `key` at loop time `due` if that is sooner than planned; a running job runs
        again at `due` once it returns, never twice at once. Unknown keys are ignored."""
        if key not in self._active:
            return
        if key in self._running:
            self._sooner[key] = min(due, self._sooner.get(key, due))
            return
        self._push(due, key)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._active

    def __len__(self) -> int:
        return len(self._active)

    def _push(self, due: float, key: Hashable) -> None:
        self._seq += 1
        self._active[key] = self._seq
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
                _, seq, key = heapq.heappop(heap)
                if self._active.get(key) != seq:
                    continue
                if key in self._running:  # removed and added again while it ran
                    self._sooner[key] = min(due, self._sooner.get(key, due))
                    continue
                self._running.add(key)
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
            self._running.discard(key)
        if key in self._active:
            sooner = self._sooner.pop(key, None)
            self._push(next_due if sooner is None else min(next_due, sooner), key)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
