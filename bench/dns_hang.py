"""Hung DNS beside healthy sites: do the healthy ones keep their schedule?

    nice .venv/bin/python -m bench.dns_hang [--sites 1000] [--hung 50] [--interval 10]
        [--duration 60] [--timeout 5] [--dns-timeout 5] [--resolver c-ares|threads]

`--sites` sites on loopback, each with a host name of its own; the name servers answer the
names of `--sites - --hung` of them with 127.0.0.1 and never answer the other `--hung`. A
child process serves both: a small HTTP server (200, a short body, close) and a UDP name
server. This process runs `uptimeguard`'s `HeapScheduler` and `Prober`, each site every
`--interval` seconds at its stable phase, and prints, for the healthy sites and the hung ones
apart, the probes run, their outcomes and the scheduler lag (how late each probe started
after it was due): p50, p99, max; then this process's CPU per probe.

DNS answers are not cached (`ttl_dns_cache=None`): with the daemon's 5-minute intervals the
5-minute cache has expired by the next probe, so every probe resolves, as here.

`--resolver threads` stands in for what the probes did before (aiohttp's ThreadedResolver on
asyncio's default executor: 6 threads on 2 cores): a lookup runs in that executor, and a hung
one holds its thread for `--dns-timeout` seconds, as a getaddrinfo() waiting on a silent name
server does. Lags start counting after the first interval (every site has then run once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult

from uptimeguard.config.models import Site
from uptimeguard.monitor.scheduler import HeapScheduler
from uptimeguard.probe import Prober

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nWelcome"


# -- the child process: an HTTP server and a name server ----------------------------------


class _Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer:
            self.transport.write(RESPONSE)
            self.transport.close()


class _Dns(asyncio.DatagramProtocol):
    """Answers A queries for `ok-*` names with 127.0.0.1; never answers anything else."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        end = 12
        labels = []
        while data[end]:
            labels.append(data[end + 1 : end + 1 + data[end]].decode())
            end += 1 + data[end]
        question = data[12 : end + 5]
        qtype = struct.unpack("!H", data[end + 1 : end + 3])[0]
        if not labels or not labels[0].startswith("ok-"):
            return  # a hung name: no answer, ever
        answers = 1 if qtype == 1 else 0
        header = data[:2] + struct.pack("!HHHHH", 0x8180, 1, answers, 0, 0)
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
        self.transport.sendto(header + question + (answer if answers else b""), addr)


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    http = await loop.create_server(_Http, "127.0.0.1", 0, backlog=4096)
    dns, _ = await loop.create_datagram_endpoint(_Dns, local_addr=("127.0.0.1", 0))
    ports = {"http": http.sockets[0].getsockname()[1], "dns": dns.get_extra_info("sockname")[1]}
    print(json.dumps(ports), flush=True)
    await asyncio.Event().wait()


# -- the old way, for comparison -----------------------------------------------------------


class ThreadPoolResolver(AbstractResolver):
    """Lookups in asyncio's default executor, a hung one holding its thread (see above)."""

    def __init__(self, hang_seconds: float) -> None:
        self.hang_seconds = hang_seconds

    def _lookup(self, host: str) -> str:
        if not host.startswith("ok-"):
            time.sleep(self.hang_seconds)
            raise OSError(None, "Temporary failure in name resolution")
        return "127.0.0.1"

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        address = await loop.run_in_executor(None, self._lookup, host)
        return [
            {"hostname": host, "host": address, "port": port, "family": socket.AF_INET,
             "proto": 0, "flags": socket.AI_NUMERICHOST}
        ]  # fmt: skip

    async def close(self) -> None:
        pass


# -- the measurement -----------------------------------------------------------------------


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "p50": round(statistics.median(ordered), 4),
        "p99": round(p99, 4),
        "max": round(ordered[-1], 4),
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.dns_hang", "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        ports = json.loads(child.stdout.readline())
        return await _run(args, ports)
    finally:
        child.terminate()
        child.wait(10)


async def _run(args: argparse.Namespace, ports: dict[str, int]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    healthy_count = args.sites - args.hung
    sites: dict[int, Site] = {}
    for n in range(args.sites):
        name = f"ok-{n}.bench.test" if n < healthy_count else f"hung-{n}.bench.test"
        sites[n] = Site(id=f"s{n}", url=f"http://{name}:{ports['http']}/")
    options: dict[str, Any] = {"limit": 2000, "ttl_dns_cache": None}
    if args.resolver == "threads":
        options["resolver"] = ThreadPoolResolver(args.dns_timeout)
    else:
        options["dns_servers"] = [f"127.0.0.1:{ports['dns']}"]
        options["dns_timeout"] = args.dns_timeout
    lags: dict[str, list[float]] = {"healthy": [], "hung": []}
    outcomes: dict[str, Counter[str]] = {"healthy": Counter(), "hung": Counter()}
    began = loop.time()
    counting_from = began + args.interval
    every_probe = 0

    async with Prober(**options) as prober:

        async def job(key: Any, due: float) -> float:
            kind = "healthy" if key < healthy_count else "hung"
            start = loop.time()
            if due >= counting_from:
                lags[kind].append(start - due)
            result = await prober.check(sites[key], timeout=args.timeout)
            nonlocal every_probe
            every_probe += 1
            if due >= counting_from:
                outcomes[kind][result.outcome] += 1
            return max(due + args.interval, loop.time())

        scheduler = HeapScheduler(job, concurrency=2000)
        for key in sites:
            scheduler.add(key, args.interval)
        cpu0 = time.process_time()
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(args.duration)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        cpu = time.process_time() - cpu0
    return {
        "resolver": args.resolver,
        "sites": args.sites,
        "hung": args.hung,
        "interval_s": args.interval,
        "duration_s": args.duration,
        "healthy": {
            "probes": sum(outcomes["healthy"].values()),
            "outcomes": dict(outcomes["healthy"]),
            "lag_s": _percentiles(lags["healthy"]),
        },
        "hung_sites": {
            "probes": sum(outcomes["hung"].values()),
            "outcomes": dict(outcomes["hung"]),
            "lag_s": _percentiles(lags["hung"]),
        },
        "cpu_ms_per_probe": round(cpu * 1000 / every_probe, 3) if every_probe else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--hung", type=int, default=50)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--dns-timeout", type=float, default=5.0)
    parser.add_argument("--resolver", choices=("c-ares", "threads"), default="c-ares")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return
    print(json.dumps(asyncio.run(measure(args)), indent=2))


if __name__ == "__main__":
    main()
