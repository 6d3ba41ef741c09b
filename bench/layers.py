"""CPU per probe, layer by layer, in one process: where our cost over a bare aiohttp request goes.

    .venv/bin/python -m bench.layers [--probes 12000] [--rounds 5] [--sites 1000] [--uvloop]

Serves the bench's nginx targets (`bench.nginx`) and probes the healthy ones back to back, a
new connection each, `--concurrency` at a time, measuring this process's CPU
(`time.process_time`, every thread) per probe for:

- `bare`: `session.get(url)` and `read()` on a plain `aiohttp.ClientSession` (force_close);
- `prober`: `uptimeguard.probe.Prober.probe` (tracing, timings, classification, TLS expiry);
- `monitor`: `Monitor.probe_site`: the prober plus judging, metrics, and queueing the result
  and state for the writer, which writes them to SQLite in batches as in `uptimeguard run`.

Plain HTTP and TLS are measured apart. `--sites` distinct sites are each probed once by every
layer to warm up (the monitor makes a site's metric series on its first probe); then the layers
take turns, `--rounds` rounds of `--probes / --rounds` probes each, and the median round is
shown, so a noisy moment on the machine does not land on one layer alone. The writer's batches
are written by its own task as in `uptimeguard run`, inside the rounds. The scheduler is not
involved (see `bench.scale`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from bench import nginx, targets


def healthy_urls(tls: bool, count: int) -> list[str]:
    urls = []
    i = 1 if tls else 0
    while len(urls) < count:
        if targets.kind_of(i) == "ok":
            urls.append(targets.url_of(i))
        i += 2
    return urls


Probe = Callable[[str], Awaitable[None]]


async def drive(urls: list[str], concurrency: int, probe: Probe, total: int) -> float:
    """CPU seconds per probe over `urls` (repeated until `total` probes), `concurrency` at a
    time."""
    queue = (urls[i % len(urls)] for i in range(total))

    async def worker() -> None:
        for url in queue:
            await probe(url)

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - cpu) / total


@contextlib.asynccontextmanager
async def bare(ca: Path, urls: list[str], workdir: Path) -> AsyncIterator[Probe]:
    context = ssl.create_default_context(cafile=str(ca))
    connector = aiohttp.TCPConnector(limit=1000, force_close=True, ssl=context)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def probe(url: str) -> None:
            async with session.get(url) as response:
                await response.read()

        yield probe


@contextlib.asynccontextmanager
async def prober(ca: Path, urls: list[str], workdir: Path) -> AsyncIterator[Probe]:
    from uptimeguard.config.models import Expect
    from uptimeguard.probe import Prober

    expect = Expect()
    async with Prober(ssl_context=ssl.create_default_context(cafile=str(ca))) as p:

        async def probe(url: str) -> None:
            result = await p.probe(url, timeout=10.0, expect=expect)
            assert result.outcome == "up", result

        yield probe


@contextlib.asynccontextmanager
async def monitor(ca: Path, urls: list[str], workdir: Path) -> AsyncIterator[Probe]:
    from uptimeguard.clock import SystemClock
    from uptimeguard.config import load_config_text
    from uptimeguard.incidents.service import IncidentService
    from uptimeguard.metrics import Metrics
    from uptimeguard.monitor.service import Monitor
    from uptimeguard.probe import Prober
    from uptimeguard.storage.database import make_engine, upgrade_schema
    from uptimeguard.storage.repository import Store
    from uptimeguard.storage.writer import ResultWriter

    lines = [
        "calendars:",
        "  c: {timezone: UTC, hours: {mon-sun: '00:00-24:00'}}",
        "plans:",
        "  p: {calendar: c, severities: {s: {response: 1h, resolution: 1d}},",
        "      causes: {down: s}}",
        "customers:",
        "  - {id: c1, name: C, plan: p, sites: [",
    ]
    lines += [f"      {{id: s{i}, url: '{url}'}}," for i, url in enumerate(urls)]
    lines.append("    ]}")
    config = load_config_text("\n".join(lines))
    db = workdir / "layers.db"
    for path in workdir.glob("layers.db*"):
        path.unlink()
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await upgrade_schema(engine)
    store = Store(engine)
    writer = ResultWriter(store)
    writer_task = asyncio.create_task(writer.run())
    metrics = Metrics(CollectorRegistry())
    try:
        async with Prober(ssl_context=ssl.create_default_context(cafile=str(ca))) as p:
            m = Monitor(
                config, p, IncidentService(store, config), writer, store, metrics, SystemClock()
            )
            m._apply(config, {})
            keys = {url: ref.key for url, ref in zip(urls, config.site_refs(), strict=True)}
            loop = asyncio.get_running_loop()

            async def probe(url: str) -> None:
                await m.probe_site(keys[url], loop.time())

            yield probe
    finally:
        writer_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer_task
        await writer.close()
        await engine.dispose()


LAYERS = {"bare": bare, "prober": prober, "monitor": monitor}


async def measure_mode(
    tls: bool, ca: Path, workdir: Path, args: argparse.Namespace
) -> dict[str, float]:
    """Median CPU per probe of each layer over `args.rounds` interleaved rounds."""
    urls = healthy_urls(tls, args.sites)
    per_round = max(args.probes // args.rounds, len(urls))
    costs: dict[str, list[float]] = {name: [] for name in LAYERS}
    async with contextlib.AsyncExitStack() as stack:
        probes = {
            name: await stack.enter_async_context(layer(ca, urls, workdir))
            for name, layer in LAYERS.items()
        }
        for probe in probes.values():  # every site once: connections, metric series, rows
            await drive(urls, args.concurrency, probe, len(urls))
        for _ in range(args.rounds):
            for name, probe in probes.items():
                costs[name].append(await drive(urls, args.concurrency, probe, per_round))
                await asyncio.sleep(0.2)
    return {name: statistics.median(values) for name, values in costs.items()}


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, nginx.serving(Path(tmp)) as ca:
        for tls in (False, True):
            row = await measure_mode(tls, ca, Path(tmp), args)
            cells = ", ".join(
                f"{k} {v * 1e6:.0f} us ({v / row['bare']:.2f}x)" for k, v in row.items()
            )
            print(f"{'TLS  ' if tls else 'plain'}: {cells}", flush=True)
    print(
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, median of {args.rounds} rounds,"
        f" {args.probes} probes per layer, {args.sites} sites, concurrency {args.concurrency},"
        f" uvloop {'on' if args.uvloop else 'off'})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.layers")
    parser.add_argument("--probes", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--uvloop", action="store_true")
    arguments = parser.parse_args()
    if arguments.uvloop:
        import uvloop

        uvloop.run(main(arguments))
    else:
        asyncio.run(main(arguments))
