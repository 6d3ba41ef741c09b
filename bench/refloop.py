"""The timing loop of the two reference drivers (`bench.bare_aiohttp`, `bench.blackbox_driver`).

Each URL is probed every `interval` seconds at a fixed phase (the same spread as uptimeguard's
scheduler), with at most `concurrency` probes at once. Counts go to a small JSON file twice a
second, so the bench reads them without talking to the process.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import os
import signal
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.measure import LagHistogram

Probe = Callable[[str], Awaitable[str]]  # returns an outcome name: "ok", "http_500", ...


def phase(url: str, interval: float) -> float:
    return (zlib.crc32(url.encode()) / 0xFFFFFFFF) * interval


async def run(
    urls: list[str], interval: float, probe: Probe, concurrency: int, stats_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    outcomes: dict[str, int] = {}
    lag = LagHistogram()
    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()

    async def one(url: str) -> None:
        try:
            outcome = await probe(url)
        finally:
            slots.release()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    def write_stats() -> None:
        data = {"probes": sum(outcomes.values()), "outcomes": outcomes, "lag": lag.counts}
        tmp = stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, stats_path)

    async def reporter() -> None:
        while True:
            write_stats()
            await asyncio.sleep(0.5)

    start = loop.time()
    heap = [(start + phase(url, interval), i) for i, url in enumerate(urls)]
    heapq.heapify(heap)
    report = loop.create_task(reporter())
    try:
        while not stop.is_set():
            due, i = heap[0]
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(min(delay, 0.5))  # wakes twice a second to see `stop`
                continue
            heapq.heapreplace(heap, (due + interval, i))
            await slots.acquire()
            lag.observe(max(0.0, loop.time() - due))
            task = loop.create_task(one(urls[i]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        report.cancel()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        write_stats()


def read_urls(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]
