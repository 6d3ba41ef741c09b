"""When each site is probed: one in-process timing loop over a heap.

The scheduler is behind `ProbeScheduler` so a later multi-node mode can shard sites between
processes without the monitor knowing. APScheduler is kept for housekeeping (see
`uptimeguard.housekeeping`): at 100,000 sites its per-run cost (FACTS.md: 276 us CPU) would be a
third of the probe budget, while a heap costs a few microseconds a run.

Each site runs at most once at a time: its next run is only pushed when the current one returns.
"""

from __future__ import annotations

import asyncio
import contextlib
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
        self._wakeup = asyncio.Event()
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
            self._wakeup.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self._heap:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                due = self._heap[0][0]
                delay = due - loop.time()
                if delay > 0:
                    self._wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), delay)
                    continue
                _, _, key = heapq.heappop(self._heap)
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
