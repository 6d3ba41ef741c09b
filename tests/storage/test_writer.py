import asyncio
from datetime import UTC, datetime

from uptimeguard.storage.writer import ResultWriter

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class FlakyStore:
    def __init__(self) -> None:
        self.down = False
        self.results: list[dict] = []
        self.states: dict = {}
        self.calls = 0

    async def insert_results(self, rows, states=()):
        self.calls += 1
        if self.down:
            raise ConnectionError("database unreachable")
        self.results.extend(rows)
        for state in states:
            self.states[(state["customer"], state["site"])] = state


def pair(n: int) -> tuple[dict, dict]:
    return (
        {"customer": "acme", "site": f"s{n % 3}", "n": n, "checked_at": T0},
        {"customer": "acme", "site": f"s{n % 3}", "n": n},
    )


async def test_writes_in_batches():
    store = FlakyStore()
    writer = ResultWriter(store, batch_size=10, limit=1000)  # type: ignore[arg-type]
    for n in range(25):
        writer.add(*pair(n))
    assert await writer.flush()
    assert [r["n"] for r in store.results] == list(range(25))
    assert store.calls == 3
    # Only the newest state per site is written.
    assert {k: v["n"] for k, v in store.states.items()} == {
        ("acme", "s0"): 24,
        ("acme", "s1"): 22,
        ("acme", "s2"): 23,
    }


async def test_holds_results_while_database_is_down_then_writes_them():
    store = FlakyStore()
    store.down = True
    writer = ResultWriter(store, batch_size=10, limit=1000)  # type: ignore[arg-type]
    for n in range(15):
        writer.add(*pair(n))
    assert not await writer.flush()
    assert not writer.healthy and writer.pending == 15
    store.down = False
    assert await writer.flush()
    assert [r["n"] for r in store.results] == list(range(15))
    assert writer.healthy and writer.dropped == 0


async def test_buffer_is_bounded_and_drops_the_oldest():
    store = FlakyStore()
    store.down = True
    writer = ResultWriter(store, batch_size=10, limit=100)  # type: ignore[arg-type]
    for n in range(150):
        writer.add(*pair(n))
        if n % 20 == 0:
            await writer.flush()
    assert writer.pending == 100 and writer.dropped == 50
    store.down = False
    await writer.flush()
    assert [r["n"] for r in store.results] == list(range(50, 150))


async def test_a_batch_being_written_is_in_flight_until_it_commits():
    store = FlakyStore()
    gate = asyncio.Event()
    insert = store.insert_results

    async def slow_insert(rows, states=()):
        await gate.wait()
        await insert(rows, states)

    store.insert_results = slow_insert  # type: ignore[method-assign]
    writer = ResultWriter(store, batch_size=10, limit=1000)  # type: ignore[arg-type]
    for n in range(3):
        writer.add(*pair(n))
    flushing = asyncio.create_task(writer.flush())
    await asyncio.sleep(0)
    assert (writer.pending, writer.in_flight) == (0, 3)  # off the queue, not yet stored
    gate.set()
    assert await flushing
    assert (writer.pending, writer.in_flight, len(store.results)) == (0, 0, 3)
