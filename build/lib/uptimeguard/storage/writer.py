"""Batched writes of probe results and site state.

Probes never wait for the database: results are appended to a bounded buffer and written every
`interval` seconds or every `batch_size` rows, in one transaction per batch. While the database
is unreachable the buffer keeps filling; past `limit` the oldest results are dropped and
counted. Site state keeps only the newest row per site, so it never needs dropping.

A flush writes what was queued when it began; what arrives while it writes waits for the next
one. (Chasing the arrivals made a busy monitor write continuously in batches of whatever came
in during the previous write: at 333 probes/s, five small transactions pairs a second instead
of one full one.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from uptimeguard.storage.repository import Store

log = logging.getLogger(__name__)


class ResultWriter:
    def __init__(
        self,
        store: Store,
        batch_size: int = 500,
        interval: float = 1.0,
        limit: int = 100_000,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._interval = interval
        self._results: deque[dict[str, Any]] = deque()
        self._limit = limit
        self._states: dict[tuple[str, str], dict[str, Any]] = {}
        self._flush_now = asyncio.Event()
        self._lock = asyncio.Lock()
        self.dropped = 0
        self.healthy = True  # False while the last write failed
        self._writing = 0  # results of the batch being written now

    def add(self, result: dict[str, Any], state: dict[str, Any] | None = None) -> None:
        """Queue one probe result and, when it changed, the site's state after it (a site's
        newest state replaces any of its states not yet written)."""
        if len(self._results) >= self._limit:
            self._results.popleft()
            self.dropped += 1
        self._results.append(result)
        if state is not None:
            self._states[(state["customer"], state["site"])] = state
        if len(self._results) >= self._batch_size:
            self._flush_now.set()

    @property
    def pending(self) -> int:
        """Results queued, bounded by `limit` (the `uptimeguard_results_buffered` gauge)."""
        return len(self._results)

    @property
    def in_flight(self) -> int:
        """Results of the write under way: off the queue, not yet committed."""
        return self._writing

    async def run(self) -> None:
        """Flush on a timer until cancelled; the final flush happens in `close`."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), self._interval)
            self._flush_now.clear()
            await self.flush()

    async def flush(self) -> bool:
        """Write what is queued now, in batches; False when the database refused it (the rows
        are kept for the next try). Results queued meanwhile wait for the next flush."""
        async with self._lock:
            remaining = len(self._results)
            while remaining or self._states:
                count = min(self._batch_size, remaining, len(self._results))
                remaining -= count
                batch = [self._results.popleft() for _ in range(count)]
                states = list(self._states.values())
                self._writing = len(batch)
                try:
                    await self._store.insert_results(batch, states)
                except Exception as error:  # the database is outside us: keep and retry
                    self._put_back(batch)
                    if self.healthy:
                        log.warning("cannot write probe results (%s); holding them", error)
                    self.healthy = False
                    return False
                finally:
                    self._writing = 0
                for state in states:
                    key = (state["customer"], state["site"])
                    if self._states.get(key) is state:
                        del self._states[key]
                if not self.healthy:
                    log.info("probe results written again")
                self.healthy = True
                if remaining <= 0:
                    break
            return True

    def _put_back(self, batch: list[dict[str, Any]]) -> None:
        """Return an unwritten batch to the front, dropping the oldest past the limit."""
        room = self._limit - len(self._results)
        keep = batch[max(0, len(batch) - room) :] if room > 0 else []
        self.dropped += len(batch) - len(keep)
        self._results.extendleft(reversed(keep))

    async def close(self) -> None:
        """Write everything still queued (stops at the first failure: nothing more to do)."""
        while (self._results or self._states) and await self.flush():
            pass
