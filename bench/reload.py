"""What a SIGHUP costs the running daemon: /healthz latency and the gap between probes.

    .venv/bin/python -m bench.reload                  # 100,000 sites accepted, 50 MB refused
    .venv/bin/python -m bench.reload --sites 200000   # near the 16 MiB default limit

The daemon (`uptimeguard run`, SQLite in a temporary directory) probes its own /healthz every
2 s. It is sent SIGHUP with (1) a file of `--sites` sites (each probed once a day, to a closed
port, so probing them costs little) which is accepted, (2) a 50 MB file, refused from its
size, and (3) the one-site file again (`allow_empty: true`, as it removes nearly every site).
Throughout, /healthz is asked every 50 ms and each answer timed; afterwards the daemon's own
records give the gaps between the probes of its /healthz. Prints one line per reload.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import aiohttp

HEAD = """
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
      - {{id: self, url: "http://127.0.0.1:{port}/healthz", interval: 2s, timeout: 1s}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def many(port: int, sites: int) -> str:
    lines = [HEAD.format(port=port)]
    lines += [
        f'      - {{id: s{i}, url: "http://127.0.0.1:9/s{i}", interval: 1d}}\n'
        for i in range(sites)
    ]
    return "".join(lines)


def gaps(db: Path, since: datetime, until: datetime) -> list[float]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT checked_at FROM probe_results WHERE site = 'self' ORDER BY checked_at"
        ).fetchall()
    times = [datetime.fromisoformat(r[0]).replace(tzinfo=UTC) for r in rows]
    before = [t for t in times if t < since][-1:]
    after = [t for t in times if t > until][:1]
    points = before + [t for t in times if since <= t <= until] + after
    return [(b - a).total_seconds() for a, b in pairwise(points)]


async def reload(
    http: aiohttp.ClientSession,
    base: str,
    process: subprocess.Popen[bytes],
    log: Path,
    db: Path,
    what: str,
) -> None:
    answered = log.read_text().count("reload")
    began, began_at = time.monotonic(), datetime.now(UTC)
    process.send_signal(signal.SIGHUP)
    latencies: list[float] = []
    while log.read_text().count("reload") <= answered:
        start = time.monotonic()
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
        latencies.append(time.monotonic() - start)
        await asyncio.sleep(0.05)
    took, ended_at = time.monotonic() - began, datetime.now(UTC)
    reading = max(latencies, default=0.0)
    line = log.read_text().splitlines()[-1]
    # Two more probe intervals: the gap across the switch to the new file is seen too.
    for _ in range(60):
        start = time.monotonic()
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
        latencies.append(time.monotonic() - start)
        await asyncio.sleep(0.05)
    await asyncio.sleep(2)
    probe_gaps = gaps(db, began_at, ended_at)
    rss = peak_rss(process.pid)
    print(
        f"{what}: answered in {took:.1f} s ({line.split(': ', 1)[-1][:90]}); /healthz "
        f"{len(latencies)} answers, slowest {max(latencies) * 1000:.0f} ms (while read: "
        f"{reading * 1000:.0f} ms); longest probe gap "
        f"{max(probe_gaps):.2f} s; peak RSS so far {rss} MiB",
        flush=True,
    )


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        port = free_port()
        checks, log, db = tmp / "checks.yaml", tmp / "daemon.log", tmp / "guard.db"
        checks.write_text(HEAD.format(port=port))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("UPTIMEGUARD_")},
            "UPTIMEGUARD_CONFIG": str(checks),
            "UPTIMEGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "UPTIMEGUARD_LISTEN": f"127.0.0.1:{port}",
        }
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "uptimeguard", "run"], env=env, stdout=out, stderr=out
            )
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
                for _ in range(300):
                    try:
                        async with http.get(f"{base}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
                await asyncio.sleep(5)  # a few probes of /healthz stored first
                text = many(port, args.sites)
                checks.write_text(text)
                what = f"{args.sites:,} sites ({len(text) / 1e6:.1f} MB) accepted"
                await reload(http, base, process, log, db, what)
                checks.write_text(HEAD.format(port=port) + ("#" + "x" * 99 + "\n") * 500_000)
                await reload(http, base, process, log, db, "50 MB refused")
                checks.write_text("allow_empty: true\n" + HEAD.format(port=port))
                await reload(http, base, process, log, db, "back to 1 site")
        finally:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    asyncio.run(main())
