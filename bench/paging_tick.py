"""CPU of one paging tick (run every second) and one SLA sweep, by the number of open incidents.

    .venv/bin/python -m bench.paging_tick [--incidents 300 3000] [--ticks 30]

Builds a SQLite database with the scale bench's checks file (`bench.targets`), opens that many
monitor incidents (`down`), lets paging decide about them once, then times further ticks of
`PagingService.tick` with nothing new to do: full passes over every open incident, quiet ticks
(what the paging loop runs each second when nothing woke it), and the SLA escalation sweep that
runs every 15 s inside a tick. The scale bench's targets leave 3% of sites failing, so at
10,000 sites paging follows 300 open incidents, at 100,000 sites 3,000.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import targets
from uptimeguard.config import load_config_text
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.paging import paging_service
from uptimeguard.settings import Settings
from uptimeguard.storage.database import make_engine, upgrade_schema
from uptimeguard.storage.repository import Store


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def measure(incidents_open: int, ticks: int) -> tuple[float, float, float]:
    """CPU ms of: a full pass over open incidents, a quiet tick (nothing woke it, nothing
    changed), an SLA sweep."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'paging.db'}")
        await upgrade_schema(engine)
        store = Store(engine)
        config = load_config_text(targets.checks_yaml(max(incidents_open, 100), "30s"), "x.yaml")
        clock = Clock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # a Tuesday, in hours
        incidents = IncidentService(store, config)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        metrics = Metrics(process=False)
        async with paging_service(settings, store, incidents, metrics, clock) as paging:
            for ref in config.site_refs()[:incidents_open]:
                await incidents.site_failing(*ref.key, "down", clock.now(), "refused")
            await paging.tick()  # the decisions, and the first sweep
            started = time.process_time()
            for _ in range(ticks):
                clock.current += timedelta(seconds=1)  # under the 15 s between sweeps
                await paging.tick()
            per_tick = (time.process_time() - started) / ticks
            started = time.process_time()
            for _ in range(ticks):
                clock.current += timedelta(seconds=1)
                await paging.tick(quiet=True)
            per_quiet = (time.process_time() - started) / ticks
            sweeps = 3
            started = time.process_time()
            for _ in range(sweeps):
                clock.current += timedelta(seconds=16)
                await paging.tick()
            per_sweep = (time.process_time() - started) / sweeps - per_tick
        await engine.dispose()
    return per_tick * 1000, per_quiet * 1000, per_sweep * 1000


async def main(arguments: argparse.Namespace) -> None:
    for count in arguments.incidents:
        full, quiet, sweep = await measure(count, arguments.ticks)
        # A quiet tick each second, a full pass every 30 s, a sweep every 15 s.
        per_second = quiet + full / 30 + sweep / 15
        print(
            f"{count:>6} open incidents: full pass {full:6.1f} ms CPU, quiet tick {quiet:5.2f} ms,"
            f" SLA sweep {sweep:5.1f} ms; idle paging {per_second / 10:.2f}% of a core"
            f" (was {(full + sweep / 15) / 10:.1f}% with a full pass every second)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.paging_tick")
    parser.add_argument("--incidents", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--ticks", type=int, default=30)
    asyncio.run(main(parser.parse_args()))
