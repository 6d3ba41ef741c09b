"""Batched writes of probe results and site state.

Probes never wait for the database: results are appended to a bounded buffer and written every
`interval` seconds or every `batch_size` rows, in one transaction per batch. While the database
is unreachable the buffer keeps filling; past `limit` the oldest results are dropped and
counted. Site state keeps only the newest row per site, so it never needs dropping.

A flush writes what was queued when it began; what arrives while it writes waits for the next
one. (Chasing the arrivals made a busy monitor write continuously in batches of whatever came
in during the previous write: at 333 probes/s, five small transactions pairs a second instead
of one full one.)

With `rollups`, each result is folded into its site's daily rollup as it is queued, and only
the results worth a raw row are queued (failures and changes: `LiveRollups.add`); the days the
fold changed are written every `rollup_interval` seconds, in batches that let the loop run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from uptimeguard.status.live_rollups import LiveRollups
from uptimeguard.storage.repository import Store

log = logging.getLogger(__name__)

ROLLUP_BATCH = 2000  # rollup rows a statement (one of 100,000 held the loop for seconds)


class ResultWriter:
    def __init__(
        self,
        store: Store,
        batch_size: int = 500,
        interval: float = 1.0,
        limit: int = 100_000,
        rollups: LiveRollups | None = None,
        rollup_interval: float = 300.0,
        rollup_clock: Callable[[], datetime] | None = None,
        rollup_grace: timedelta = timedelta(minutes=1),
        keep_all: bool = False,
    ) -> None:
        self._store = store
        self.rollups = rollups
        self._rollup_interval = rollup_interval
        self._rollup_clock = rollup_clock
        self._rollup_grace = rollup_grace
        self._rollups_written_at = time.monotonic()
        self.rollups_healthy = True
        self._keep_all = keep_all  # every result gets a raw row, folded or not
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

    def add(
        self,
        result: dict[str, Any],
        state: dict[str, Any] | None = None,
        span: timedelta | None = None,
        zone: str = "UTC",
    ) -> None:
        """Queue one probe result and, when it changed, the site's state after it (a site's
        newest state replaces any of its states not yet written). With `rollups` the result
        is folded (`span`: how long it speaks for; `zone`: whose days), and queued only when
        it is worth a raw row."""
        rollups = self.rollups
        keep_raw = True
        if rollups is not None and span is not None:
            worth_a_row = rollups.add(
                result["customer"],
                result["site"],
                result["checked_at"],
                result["outcome"],
                result["in_maintenance"],
                span,
                zone,
            )
            keep_raw = worth_a_row or self._keep_all
        if keep_raw:
            if len(self._results) >= self._limit:
                self._results.popleft()
                self.dropped += 1
            self._results.append(result)
        if state is not None:
            self._states[(state["customer"], state["site"])] = state
        if keep_raw and len(self._results) >= self._batch_size:
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
            if time.monotonic() - self._rollups_written_at >= self._rollup_interval:
                await self.write_rollups()

    async def write_rollups(self) -> bool:
        """Write the days the fold changed, every site counted up to a grace period ago;
        False when the database refused them (they are written with the next batch)."""
        rollups, clock = self.rollups, self._rollup_clock
        if rollups is None or clock is None:
            return True
        self._rollups_written_at = time.monotonic()
        rows = rollups.due(clock() - self._rollup_grace)
        for start in range(0, len(rows), ROLLUP_BATCH):
            try:
                await self._store.upsert_rollups(rows[start : start + ROLLUP_BATCH])
            except Exception as error:  # the database is outside us: keep and retry
                rollups.retry(rows[start:])
                if self.rollups_healthy:
                    log.warning("cannot write daily rollups (%s); holding them", error)
                self.rollups_healthy = False
                return False
            await asyncio.sleep(0)
        if not self.rollups_healthy:
            log.info("daily rollups written again")
        self.rollups_healthy = True
        return True

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
        await self.write_rollups()
