"""Helpers for the reliability tests: a lock that makes SQLite unwritable, /metrics parsing,
a daemon run as a process, and what /proc says about it."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def closed_today() -> str:
    """A weekday three days from now: a calendar open only then is out of hours now (and
    for the whole of any test run), so covered incidents page the on-call ladder."""
    return DAYS[(datetime.now(UTC) + timedelta(days=3)).weekday()]


class SqliteLock:
    """Makes a SQLite database unwritable the way another process would: a connection of
    its own takes the write lock (`BEGIN EXCLUSIVE`) and holds it. In WAL mode readers go
    on; every other writer waits its busy timeout, then fails with "database is locked"."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )

    async def take(self) -> None:
        await asyncio.to_thread(self._connection.execute, "BEGIN EXCLUSIVE")

    async def release(self) -> None:
        await asyncio.to_thread(self._connection.execute, "ROLLBACK")

    def close(self) -> None:
        self._connection.close()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: aiohttp.ClientSession, base: str) -> Samples:
    async with http.get(f"{base}/metrics") as response:
        text = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def histogram_quantile(samples: Samples, name: str, q: float) -> float:
    """The upper bound of the bucket holding the q-quantile (an upper estimate, no
    interpolation): `le` of the first bucket whose count reaches q of the total."""
    buckets = sorted(
        (float(dict(ls)["le"]), v) for (n, ls), v in samples.items() if n == f"{name}_bucket"
    )
    count = buckets[-1][1]
    for le, cumulative in buckets:
        if cumulative >= q * count:
            return le
    return float("inf")


def bucket_counts(samples: Samples, name: str) -> dict[float, float]:
    return {float(dict(ls)["le"]): v for (n, ls), v in samples.items() if n == f"{name}_bucket"}


def daemon_env(tmp_path: Path, port: int, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a daemon run by a test: nothing inherited from UPTIMEGUARD_*."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("UPTIMEGUARD_")},
        "UPTIMEGUARD_CONFIG": str(tmp_path / "checks.yaml"),
        "UPTIMEGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        "UPTIMEGUARD_LISTEN": f"127.0.0.1:{port}",
        # These tests read every probe's raw row as the witness of the daemon's schedule (by
        # default healthy probes are folded into the rollups and get none).
        "UPTIMEGUARD_KEEP_ALL_RESULTS": "true",
        **extra,
    }


def start_daemon(
    tmp_path: Path, env: Mapping[str, str], log_name: str = "daemon.log"
) -> subprocess.Popen[bytes]:
    log = (tmp_path / log_name).open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "uptimeguard", "run"],
        env=dict(env),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_daemon(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB, from /proc/<pid>/status."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
