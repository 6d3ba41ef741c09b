"""Idle and slowloris connections against a daemon under `ulimit -n 1024`: does it go on?

    nice .venv/bin/python -m bench.idle_connections [--idle 2000] [--slow 500] [--limit 1024]
        [--sites 100] [--interval 2] [--baseline 20] [--duration 60] [--reconnect 1.0]

Runs `uptimeguard run` (SQLite, in a temporary directory) as a child process whose open-files
limit is `--limit`, soft and hard (what `ulimit -n 1024` sets), probing `--sites` sites every
`--interval` seconds, served by another child process (200, a short body, close). After
`--baseline` seconds of quiet, `--idle` connections that send nothing and `--slow` slowloris
connections (a request head one header line a second, never finished) are held against it
for `--duration` seconds, from a process of their own; each one the server closes is opened
again `--reconnect` seconds later, so the attack stays at its size. Throughout, `/healthz`
is asked every 0.25 s on a new connection (10 s timeout), and the stored probe results are
counted in the database file every second.

Printed (JSON), for the quiet and the attacked windows: `/healthz` latency p50, p99, max and
failures; probe results stored per second; and for the attack, connections opened, how long
the server let idle and slowloris ones live (p50, max), the daemon's open file descriptors
(max) and the lines its log gained (with tracebacks counted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nWelcome"
CHECKS = """
defaults: {{interval: {interval}s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  p:
    calendar: always
    severities: {{bug_fix: {{response: 2h, resolution: 1d}}}}
    causes: {{down: bug_fix}}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
{sites}
"""


# -- the child process: the monitored sites ------------------------------------------------


class _Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer:
            self.transport.write(RESPONSE)
            self.transport.close()


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Http, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


# -- the attack ------------------------------------------------------------------------------


class Attack:
    """The attacking connections (run in a child process, so that the measuring client's
    own event loop is not the one they keep busy)."""

    def __init__(self, port: int, reconnect: float) -> None:
        self.port = port
        self.reconnect = reconnect
        self.opened = 0
        self.lifetimes: dict[str, list[float]] = {"idle": [], "slow": []}
        self.running = True

    async def _hold(self, kind: str) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), 10
            )
        except (OSError, TimeoutError):
            return
        self.opened += 1
        opened = time.monotonic()
        eof = asyncio.ensure_future(reader.read())
        try:
            if kind == "slow":
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: guard\r\n")
                line = 0
                while not eof.done() and self.running:
                    await asyncio.wait([eof], timeout=1.0)
                    line += 1
                    with contextlib.suppress(OSError, RuntimeError):
                        writer.write(b"X-Slow-%d: x\r\n" % line)
            with contextlib.suppress(OSError):
                await eof
            self.lifetimes[kind].append(time.monotonic() - opened)
        finally:
            eof.cancel()
            writer.close()

    async def keep(self, kind: str) -> None:
        """One attacker slot: a connection of `kind`, opened again whenever it is closed."""
        while self.running:
            await self._hold(kind)
            await asyncio.sleep(self.reconnect)


async def _attack(port: int, idle: int, slow: int, reconnect: float, seconds: float) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    attack = Attack(port, reconnect)
    slots = [asyncio.create_task(attack.keep("idle")) for _ in range(idle)]
    slots += [asyncio.create_task(attack.keep("slow")) for _ in range(slow)]
    await asyncio.sleep(seconds)
    attack.running = False
    for slot in slots:
        slot.cancel()
    result = {
        "connections_opened": attack.opened,
        "idle_lifetime_s": _percentiles(attack.lifetimes["idle"]),
        "slow_lifetime_s": _percentiles(attack.lifetimes["slow"]),
    }
    print(json.dumps(result), flush=True)


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


def _stored(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        return int(connection.execute("SELECT count(*) FROM probe_results").fetchone()[0])


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


async def _window(
    http: aiohttp.ClientSession, base: str, db: Path, pid: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    fds: list[int] = []

    async def ask() -> None:
        nonlocal failures
        asked = time.monotonic()
        try:
            async with http.get(
                f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
                    return
            latencies.append(time.monotonic() - asked)
        except (aiohttp.ClientError, TimeoutError):
            failures += 1

    asks: list[asyncio.Task[None]] = []
    first = await asyncio.to_thread(_stored, db)
    start = time.monotonic()
    next_count = start + 1
    while time.monotonic() - start < seconds:
        asks.append(asyncio.create_task(ask()))
        if time.monotonic() >= next_count:
            fds.append(_fds(pid))
            next_count += 1
        await asyncio.sleep(0.25)
    last = await asyncio.to_thread(_stored, db)
    elapsed = time.monotonic() - start
    await asyncio.gather(*asks)
    return {
        "healthz_s": _percentiles(latencies),
        "healthz_asked": len(latencies) + failures,
        "healthz_failed": failures,
        "stored_per_s": round((last - first) / elapsed, 1),
        "daemon_fds_max": max(fds, default=0),
    }


def _limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    sites_server = subprocess.Popen(
        [sys.executable, "-m", "bench.idle_connections", "--serve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sites_server.stdout is not None
    site_port = int(sites_server.stdout.readline())
    with tempfile.TemporaryDirectory(prefix="ug-idle-") as work:
        path = Path(work)
        sites = "\n".join(
            f'      - {{id: s{i}, url: "http://127.0.0.1:{site_port}/{i}"}}'
            for i in range(args.sites)
        )
        (path / "checks.yaml").write_text(CHECKS.format(interval=args.interval, sites=sites))
        port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("UPTIMEGUARD_")},
            "UPTIMEGUARD_CONFIG": str(path / "checks.yaml"),
            "UPTIMEGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{path / 'guard.db'}",
            "UPTIMEGUARD_LISTEN": f"127.0.0.1:{port}",
        }
        log_path = path / "daemon.log"
        with log_path.open("wb") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "uptimeguard", "run"],
                env=env,
                cwd=path,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: _limit(args.limit),
            )
        base = f"http://127.0.0.1:{port}"
        db = path / "guard.db"
        attacker: subprocess.Popen[str] | None = None
        try:
            connector = aiohttp.TCPConnector(force_close=True, limit=0)
            async with aiohttp.ClientSession(connector=connector) as http:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        async with http.get(f"{base}/readyz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if time.monotonic() > deadline or daemon.poll() is not None:
                        raise SystemExit(f"the daemon did not get ready; see {log_path}")
                    await asyncio.sleep(0.2)
                quiet = await _window(http, base, db, daemon.pid, args.baseline)
                lines_before = len(log_path.read_bytes().splitlines())
                attacker = subprocess.Popen(
                    [
                        *(sys.executable, "-m", "bench.idle_connections", "--attack", str(port)),
                        *("--idle", str(args.idle), "--slow", str(args.slow)),
                        *("--reconnect", str(args.reconnect), "--duration", str(args.duration)),
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                await asyncio.sleep(1.0)  # the attack under way before measuring
                attacked = await _window(http, base, db, daemon.pid, args.duration - 2)
                out, _ = await asyncio.to_thread(attacker.communicate, timeout=60)
                attack = json.loads(out)
            said = log_path.read_bytes().splitlines()[lines_before:]
        finally:
            if attacker is not None and attacker.poll() is None:
                attacker.kill()
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
            sites_server.kill()
    return {
        "limit": args.limit,
        "sites": args.sites,
        "interval_s": args.interval,
        "idle": args.idle,
        "slow": args.slow,
        "quiet": quiet,
        "attacked": {
            **attacked,
            **attack,
            "log_lines": len(said),
            "log_tracebacks": sum(1 for line in said if line.startswith(b"Traceback")),
            "log_bytes": sum(len(line) + 1 for line in said),
            "log": [line.decode(errors="replace")[:300] for line in said[:5]],
        },
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--limit", type=int, default=1024)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--baseline", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--reconnect", type=float, default=1.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--attack", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        asyncio.run(_attack(args.attack, args.idle, args.slow, args.reconnect, args.duration))
        return
    if args.serve:
        asyncio.run(_serve())
        return
    print(json.dumps(asyncio.run(measure(args)), indent=2))


if __name__ == "__main__":
    main()
