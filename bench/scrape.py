"""What one `/metrics` scrape costs at N sites: its size (plain text and gzipped) and the CPU
the daemon's process spends serving it.

    .venv/bin/python -m bench.scrape --sites 100000
    .venv/bin/python -m bench.scrape --sites 100000 --per-site-histogram

The per-site series are filled as the monitor fills them, for the bench's sites
(`bench.targets`: 100 sites per customer, odd sites over TLS, 2% answering 500 and 1% never
answering), each with a probe time of its own, then served by the daemon's own `/metrics`
route on 127.0.0.1. A child process scrapes it (so its CPU is not counted) as Prometheus
does, asking for gzip. Between scrapes `--probes` results land (10,000: 30 s of 100,000 sites
every 5 minutes), as between two scrapes 30 s apart. Printed for each scrape: plain and
gzipped size, wall time, and the CPU seconds of this process (user + system) while serving.

Scrapes: `cold` (the first), `warm` (after probes land), `uptime` (after the uptime refresh
changed every site's figure, as every 5 minutes), `identity` (no gzip asked).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import subprocess
import sys
import time
from types import SimpleNamespace

from aiohttp import web
from prometheus_client import CollectorRegistry

from bench.targets import CUSTOMER_SIZE, kind_of
from uptimeguard.metrics import Metrics
from uptimeguard.status.public import shown_ratio
from uptimeguard.web.context import CONTEXT
from uptimeguard.web.server import metrics as metrics_route

# The scraper: reads the whole body, says how many bytes came and how many they unzip to.
CLIENT = """
import gzip, sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Accept-Encoding": sys.argv[2]})
with urllib.request.urlopen(request, timeout=120) as response:
    body = response.read()
    coding = response.headers.get("Content-Encoding", "")
plain = gzip.decompress(body) if coding == "gzip" else body
print(len(body), len(plain), coding or "identity")
"""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def probe(metrics: Metrics, i: int, rng: random.Random, typical: list[float]) -> None:
    kind = kind_of(i)
    series = metrics.sites.series(f"c{i // CUSTOMER_SIZE:05d}", f"s{i}")
    if kind == "hang":
        series.record("timeout", None, None, None)
        return
    total = typical[i] * rng.uniform(0.8, 1.25)
    tls = 1.8e9 + (i % 86_400) if i % 2 else None
    if kind == "err":
        series.record("http_5xx", total, 500, tls)
    else:
        series.record("up", total, 200, tls)


def fill(metrics: Metrics, sites: int, rng: random.Random, typical: list[float]) -> None:
    for i in range(sites):
        for _ in range(3):
            probe(metrics, i, rng, typical)
    refresh_uptime(metrics, sites, rng)


def refresh_uptime(metrics: Metrics, sites: int, rng: random.Random) -> None:
    for i in range(sites):
        bad = kind_of(i) != "ok"
        for window in ("1d", "30d"):
            ratio = rng.uniform(0.0, 0.2) if bad else 1 - rng.expovariate(2000)
            metrics.sites.set_uptime(
                f"c{i // CUSTOMER_SIZE:05d}", f"s{i}", window, shown_ratio(max(ratio, 0))
            )


async def scrape(url: str, coding: str) -> tuple[int, int, str, float, float]:
    before, started = cpu(), time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, url, coding, stdout=subprocess.PIPE
    )
    out, _ = await child.communicate()
    wall, used = time.perf_counter() - started, cpu() - before
    sent, plain, got = out.decode().split()
    return int(sent), int(plain), got, wall, used


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    typical = [rng.lognormvariate(-2.5, 0.8) for _ in range(args.sites)]
    metrics = Metrics(CollectorRegistry(), process=False, per_site_histogram=args.histogram)
    started = cpu()
    fill(metrics, args.sites, rng, typical)
    fill_cpu = cpu() - started
    app = web.Application()
    app[CONTEXT] = SimpleNamespace(metrics=metrics)  # type: ignore[assignment]
    app.router.add_get("/metrics", metrics_route)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/metrics"
    mode = "per-site histogram" if args.histogram else "per-customer histogram (default)"
    print(f"{args.sites:,} sites, {mode}; filled in {fill_cpu:.1f} CPU s")
    print("| scrape | sent | text | wall s | CPU s |\n|---|---|---|---|---|")

    def land_probes() -> None:
        for _ in range(args.probes):
            probe(metrics, rng.randrange(args.sites), rng, typical)

    steps = [("cold", None, "gzip"), ("warm", land_probes, "gzip"), ("warm", land_probes, "gzip")]
    steps += [("uptime", lambda: refresh_uptime(metrics, args.sites, rng), "gzip")]
    steps += [("identity", land_probes, "identity")]
    try:
        for name, before, coding in steps:
            if before is not None:
                before()
            sent, plain, got, wall, used = await scrape(url, coding)
            print(
                f"| {name} ({got}) | {sent / 1e6:.1f} MB | {plain / 1e6:.1f} MB | {wall:.2f} "
                f"| {used:.2f} |"
            )
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=10_000, help="results between scrapes")
    parser.add_argument(
        "--per-site-histogram", dest="histogram", action="store_true",
        help="the probe-time histogram per site (PER_SITE_HISTOGRAM), not per customer",
    )  # fmt: skip
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
