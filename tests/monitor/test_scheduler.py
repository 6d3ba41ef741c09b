"""The heap scheduler: runs each key when due, wakes early for an earlier entry, respects the
concurrency limit, reports lag, and lets running jobs finish when cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

import pytest

from uptimeguard.monitor.scheduler import HeapScheduler, phase_of


async def run_for(scheduler: HeapScheduler, seconds: float) -> None:
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(seconds)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_runs_each_key_when_due_in_order_and_reschedules() -> None:
    loop = asyncio.get_running_loop()
    runs: list[tuple[Hashable, float]] = []

    async def job(key: Hashable, due: float) -> float:
        runs.append((key, loop.time() - due))
        return due + 0.2

    scheduler = HeapScheduler(job)
    start = loop.time()
    scheduler.add("b", 0.2, first_due=start + 0.1)
    scheduler.add("a", 0.2, first_due=start + 0.05)
    await run_for(scheduler, 0.32)
    assert [key for key, _ in runs] == ["a", "b", "a", "b"]
    assert all(0 <= late < 0.05 for _, late in runs)


async def test_an_earlier_entry_wakes_a_sleeping_loop() -> None:
    loop = asyncio.get_running_loop()
    ran: list[float] = []

    async def job(key: Hashable, due: float) -> float:
        ran.append(loop.time())
        return due + 3600

    scheduler = HeapScheduler(job)
    scheduler.add("late", 3600, first_due=loop.time() + 3600)
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(0.05)  # the loop now sleeps until the late entry
    added = loop.time()
    scheduler.add("soon", 3600, first_due=added + 0.05)
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(ran) == 1 and added + 0.05 <= ran[0] < added + 0.1


async def test_an_empty_scheduler_waits_for_its_first_key() -> None:
    loop = asyncio.get_running_loop()
    ran: list[Hashable] = []

    async def job(key: Hashable, due: float) -> float:
        ran.append(key)
        return due + 3600

    scheduler = HeapScheduler(job)
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(0.02)
    scheduler.add("first", 3600, first_due=loop.time())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ran == ["first"]


async def test_removed_keys_stop_and_lag_is_reported() -> None:
    loop = asyncio.get_running_loop()
    ran: list[Hashable] = []
    lags: list[float] = []

    async def job(key: Hashable, due: float) -> float:
        ran.append(key)
        return due + 0.05

    scheduler = HeapScheduler(job, on_lag=lags.append)
    now = loop.time()
    scheduler.add("kept", 0.05, first_due=now)
    scheduler.add("gone", 0.05, first_due=now)
    scheduler.remove("gone")
    await run_for(scheduler, 0.12)
    assert "gone" not in ran and ran.count("kept") >= 2
    assert len(lags) == len(ran) and all(0 <= lag < 0.05 for lag in lags)
    assert len(scheduler) == 1


async def test_at_most_concurrency_jobs_at_once_and_drain_on_cancel() -> None:
    loop = asyncio.get_running_loop()
    gate = asyncio.Event()
    started: list[Hashable] = []
    finished: list[Hashable] = []

    async def job(key: Hashable, due: float) -> float:
        started.append(key)
        await gate.wait()
        finished.append(key)
        return due + 3600

    scheduler = HeapScheduler(job, concurrency=3)
    for i in range(10):
        scheduler.add(i, 3600, first_due=loop.time())
    task = asyncio.create_task(scheduler.run())
    for _ in range(100):  # let the loop turn until it can start no more
        await asyncio.sleep(0)
    assert len(started) == 3  # every job is due, but only three slots
    task.cancel()
    for _ in range(10):
        await asyncio.sleep(0)
    assert not task.done()  # cancelled, it waits for the running jobs
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == started and len(started) == 3  # let finish, no new ones started


async def test_a_failing_job_is_retried_later_not_lost() -> None:
    loop = asyncio.get_running_loop()
    calls = 0

    async def job(key: Hashable, due: float) -> float:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    scheduler = HeapScheduler(job)
    scheduler.add("k", 60, first_due=loop.time())
    await run_for(scheduler, 0.05)
    assert calls == 1
    (due, _, key), *_ = scheduler._heap
    assert key == "k" and due > loop.time() + 25


def test_phase_is_stable_and_inside_the_interval() -> None:
    assert phase_of(("acme", "www"), 300) == phase_of(("acme", "www"), 300)
    assert all(0 <= phase_of(("c", f"s{i}"), 300) < 300 for i in range(1000))


async def test_add_many_puts_each_key_at_the_slot_add_would() -> None:
    from uptimeguard.monitor.scheduler import next_slot_in

    async def job(key: Hashable, due: float) -> float:
        return due + 60

    loop = asyncio.get_running_loop()
    many = HeapScheduler(job)
    keys = [("acme", f"s{i}") for i in range(50)]
    many.add("already", 60.0, first_due=loop.time() + 1)
    many.add_many([(key, 60.0, phase_of(key, 60.0)) for key in [*keys, "already"]])
    assert len(many) == 51  # a key already scheduled is left as it is
    slots = {key: due for due, _, key in many._heap}
    for key in keys:
        assert abs(slots[key] - next_slot_in(key, 60.0, loop)) < 0.05
    assert sorted(many._heap)[0] == many._heap[0]  # still a heap
