"""A SIGHUP with a large checks file does not stop the daemon (issue 12, item 6).

The daemon runs as a process, probing its own `/healthz` every 2 s. It is sent SIGHUP
with (1) a valid-looking file of 80,000 sites whose last site is wrong, so the whole file is
composed and read before it is refused, and (2) a 50 MB file, over the default size limit.
Throughout, the test asks `/healthz` every 50 ms and times each answer; afterwards it reads
the daemon's own probe records for the gaps between probes. Before the fix the file was read
on the event loop: nothing answered and nothing was probed until it was done, and the 50 MB
file was composed (69 s, 2.35 GB) before anything was decided.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import aiohttp
from reliability_support import daemon_env, start_daemon, stop_daemon
from support import eventually, free_port

from uptimeguard.config._size import DEFAULT_MAX_BYTES

TOKEN = "tok-reload-123456"
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
# Every answer from /healthz within this, and no two probes of `self` further apart, while
# the file is read (the probe interval is 2 s). The bounds leave room for a shared machine:
# with 2 cores and other work on them, the reading thread holding the interpreter lock is
# sometimes descheduled, and /healthz waited up to 0.73 s in one run (0.15 s on a quieter one);
# reading on the event loop makes each wait the whole read, seconds (asserted below).
HEALTHZ_BOUND = 2.0
PROBE_GAP_BOUND = 3.5


def large_file(port: int, sites: int) -> str:
    """`sites` more sites after `self`, the last with an unknown key (so refused at the end)."""
    lines = [HEAD.format(port=port)]
    lines += [
        f'      - {{id: s{i}, url: "http://127.0.0.1:9/s{i}", interval: 5m}}\n'
        for i in range(sites)
    ]
    lines.append('      - {id: last, url: "http://127.0.0.1:9/", bogus: 1}\n')
    return "".join(lines)


async def watch_until(
    http: aiohttp.ClientSession, base: str, log: Path, marker: str, timeout: float
) -> list[float]:
    """Time every /healthz answer, asking every 50 ms, until `marker` is in the log."""
    latencies: list[float] = []
    deadline = time.monotonic() + timeout
    while marker not in log.read_text():
        assert time.monotonic() < deadline, f"{marker!r} not logged within {timeout} s"
        began = time.monotonic()
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
        latencies.append(time.monotonic() - began)
        await asyncio.sleep(0.05)
    return latencies


def probe_gaps(db: Path, since: datetime, until: datetime) -> list[float]:
    """Seconds between consecutive stored probes of `self` from `since` to `until`."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT checked_at FROM probe_results WHERE site = 'self' ORDER BY checked_at"
        ).fetchall()
    times = [datetime.fromisoformat(r[0]).replace(tzinfo=UTC) for r in rows]
    inside = [t for t in times if since <= t <= until]
    # The probe before the window and the one after it bound the gaps at its edges.
    before = [t for t in times if t < since][-1:]
    after = [t for t in times if t > until][:1]
    points = before + inside + after
    return [(b - a).total_seconds() for a, b in pairwise(points)]


def loader_running(pid: int) -> bool:
    """A child of `pid` is loading the checks file (`python -m uptimeguard.config.compact`)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == pid and b"uptimeguard.config.compact" in cmdline:
            return True
    return False


async def sites(http: aiohttp.ClientSession, base: str) -> list[str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with http.get(f"{base}/api/v1/sites", headers=headers) as response:
        return sorted(s["id"] for s in (await response.json())["sites"])


async def test_a_large_reload_never_stops_probes_or_the_web_server(tmp_path: Path) -> None:
    port = free_port()
    checks, log = tmp_path / "checks.yaml", tmp_path / "daemon.log"
    checks.write_text(HEAD.format(port=port))
    base = f"http://127.0.0.1:{port}"
    env = daemon_env(tmp_path, port, {"UPTIMEGUARD_ADMIN_TOKEN": TOKEN})
    daemon = start_daemon(tmp_path, env)
    timeout = aiohttp.ClientTimeout(total=120)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:

            async def healthz() -> int:
                try:
                    async with http.get(f"{base}/healthz") as response:
                        return response.status
                except aiohttp.ClientError:
                    return 0

            await eventually(healthz, lambda s: s == 200, timeout=30)
            db = tmp_path / "guard.db"

            async def stored() -> int:
                return len(probe_gaps(db, datetime.min.replace(tzinfo=UTC), datetime.now(UTC)))

            await eventually(stored, lambda n: n >= 2, timeout=30)

            # (1) 80,000 sites (about 5.3 MB), refused at the very end.
            text = large_file(port, 80_000)
            last_line = text.count("\n", 0, text.index("id: last")) + 1
            checks.write_text(text)
            began, began_at = time.monotonic(), datetime.now(UTC)
            daemon.send_signal(signal.SIGHUP)
            latencies = await watch_until(http, base, log, "reload refused", timeout=300)
            read_seconds, ended_at = time.monotonic() - began, datetime.now(UTC)
            # The window must be long enough to mean something: reading that file takes
            # seconds, during which the old code answered nothing.
            assert read_seconds > max(PROBE_GAP_BOUND, HEALTHZ_BOUND), read_seconds
            assert f"checks.yaml:{last_line}:" in log.read_text()  # the bad last site
            assert max(latencies) < HEALTHZ_BOUND, (max(latencies), read_seconds)
            # Stored results are written each second: wait until those of the window are.
            await eventually(
                stored, lambda _: bool(probe_gaps(db, ended_at, datetime.now(UTC))), timeout=30
            )
            gaps = probe_gaps(db, began_at, ended_at)
            assert len(gaps) >= read_seconds / 2, (gaps, read_seconds)
            assert max(gaps) < PROBE_GAP_BOUND, (max(gaps), read_seconds)
            assert await sites(http, base) == ["self"]
            print(
                f"\nrefused 80,000-site file read in {read_seconds:.1f} s: /healthz "
                f"{len(latencies)} answers, max {max(latencies) * 1000:.0f} ms; probe gap "
                f"max {max(gaps):.2f} s"
            )

            # (2) A 50 MB file: refused from its size, before it is read.
            big = HEAD.format(port=port) + ("#" + "x" * 99 + "\n") * 500_000
            big += '      - {id: two, url: "http://127.0.0.1:9/two"}\n'
            checks.write_text(big)
            size = checks.stat().st_size
            began = time.monotonic()
            daemon.send_signal(signal.SIGHUP)
            marker = "-byte limit for a checks file"
            latencies = await watch_until(http, base, log, marker, timeout=60)
            refused_in = time.monotonic() - began
            line = next(x for x in log.read_text().splitlines() if marker in x)
            assert str(checks) in line
            assert f"{size:,} bytes" in line
            assert f"{DEFAULT_MAX_BYTES:,}-byte limit" in line
            assert "UPTIMEGUARD_CHECKS_MAX_BYTES" in line
            assert refused_in < 5, refused_in
            assert max(latencies, default=0.0) < HEALTHZ_BOUND
            assert await sites(http, base) == ["self"]
            print(f"50 MB file refused in {refused_in * 1000:.0f} ms")
            assert daemon.poll() is None

            # (3) SIGTERM while the large file is being read: the daemon stops at once, as
            # it would without a reload, rather than when the read is done.
            checks.write_text(text)
            daemon.send_signal(signal.SIGHUP)

            async def loading() -> bool:
                return loader_running(daemon.pid)

            await eventually(loading, bool, timeout=30, every=0.02)
            began = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(daemon.wait, 120)
            stopped_in = time.monotonic() - began
            assert code == 0
            print(f"stopped {stopped_in:.1f} s after SIGTERM during a {read_seconds:.1f} s read")
            assert stopped_in < read_seconds / 2, (stopped_in, read_seconds)
    finally:
        stop_daemon(daemon)
    assert "Traceback" not in log.read_text()


def test_an_oversized_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    port = free_port()
    checks = tmp_path / "checks.yaml"
    checks.write_text(HEAD.format(port=port) + "# padding\n" * 500)
    env = daemon_env(tmp_path, port, {"UPTIMEGUARD_CHECKS_MAX_BYTES": "2048"})
    result = subprocess.run(
        [sys.executable, "-m", "uptimeguard", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    size = checks.stat().st_size
    assert result.stderr.splitlines() == [
        f"{checks}:1:1: the file is {size:,} bytes, over the 2,048-byte limit for a checks "
        "file; raise UPTIMEGUARD_CHECKS_MAX_BYTES to load it"
    ]


async def test_a_sighup_during_a_reload_runs_one_more_after_it() -> None:
    from uptimeguard.reloading import Reloads

    runs: list[int] = []
    release = asyncio.Event()

    async def reload() -> bool:
        runs.append(len(runs))
        await release.wait()
        return True

    reloads = Reloads(reload)
    reloads.request()
    await eventually(lambda: asyncio.sleep(0, len(runs)), lambda n: n == 1, timeout=5)
    for _ in range(3):  # three more SIGHUPs while the first reload runs
        reloads.request()
    assert runs == [0]  # never two at once
    release.set()
    await asyncio.wait_for(reloads.idle(), timeout=5)
    assert runs == [0, 1]  # the file as it is now was read once more, not three times
    await reloads.close()
