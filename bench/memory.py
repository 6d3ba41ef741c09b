"""What a site costs in memory: the daemon's RSS at rest with N sites, for several N.

    .venv/bin/python -m bench.memory                       # 10,000 / 50,000 / 100,000 / 200,000
    .venv/bin/python -m bench.memory --sites 10000 --probed

For each size the real daemon (`python -m uptimeguard run`, SQLite in a temporary directory)
is started on a checks file of N sites (100 a customer, as `bench.targets` writes them), all
answered 200 by one local aiohttp server in a process of its own. It is measured at rest:
after `/readyz` answers, once its RSS has stopped moving (the same to within 1 MiB for 5 s,
at most 120 s). Printed: RSS (VmRSS) and peak (VmHWM), the start-up time, and RSS per site
(the RSS over the one-site daemon's, divided by N).

By default the sites are probed once a day, so at rest almost none has been probed yet: what
a configured site costs. `--probed` probes them every `--interval` (default 30 s) and
measures once every site has been probed (two intervals): what a site costs with its last
result, its state and its metric series, at the probe rate of N sites per interval.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.targets import CUSTOMER_SIZE

SIZES = (10_000, 50_000, 100_000, 200_000)
SERVER = """
import sys
from aiohttp import web
async def ok(request):
    return web.Response(text="ok")
app = web.Application()
app.router.add_get("/{tail:.*}", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def checks(count: int, interval: str, port: int) -> str:
    lines = [
        f"defaults: {{interval: {interval}, timeout: 5s, recheck: 30s}}",
        "calendars:",
        '  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}',
        "plans:",
        "  p:",
        "    calendar: always",
        "    severities: {s: {response: 1h, resolution: 4h}}",
        "    causes: {down: s, http_5xx: s, http_4xx: s, content: s}",
        "customers:",
    ]
    for first in range(0, count, CUSTOMER_SIZE):
        c = first // CUSTOMER_SIZE
        lines += [f"  - id: c{c:05d}", f"    name: Customer {c}", "    plan: p", "    sites:"]
        for i in range(first, min(first + CUSTOMER_SIZE, count)):
            lines.append(f"      - {{id: s{i}, url: 'http://127.0.0.1:{port}/site/{i}'}}")
    return "\n".join(lines) + "\n"


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except OSError:
        return 0


@contextlib.contextmanager
def process(
    argv: list[str], env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            child.terminate()
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def probes_of(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("uptimeguard_probes_total{")
    )


def measure(
    count: int, interval: str, target: int, workdir: Path, probed: bool
) -> dict[str, float]:
    path = workdir / f"checks-{count}.yaml"
    path.write_text(checks(count, interval, target))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPTIMEGUARD_")}
    argv = [
        sys.executable, "-m", "uptimeguard", "run", "--config", str(path),
        "--database", f"sqlite+aiosqlite:///{workdir / f'm-{count}.db'}",
        "--listen", f"127.0.0.1:{port}",
    ]  # fmt: skip
    started = time.monotonic()
    log = workdir / f"daemon-{count}.log"
    with process(argv, env, log) as daemon:
        deadline = started + 600
        while get(f"http://127.0.0.1:{port}/readyz") != 200:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise SystemExit("the daemon was not ready within 600 s")
            time.sleep(0.2)
        ready = time.monotonic() - started
        if probed:
            seconds = float(interval.rstrip("s"))
            time.sleep(2 * seconds)
            done = probes_of(port)
        else:
            done = 0.0
        last, steady_since, waited = -1, time.monotonic(), time.monotonic()
        while time.monotonic() - steady_since < 5 and time.monotonic() - waited < 120:
            rss = status_kib(daemon.pid, "VmRSS")
            if abs(rss - last) > 1024:
                last, steady_since = rss, time.monotonic()
            time.sleep(0.5)
        return {
            "sites": count,
            "rss": status_kib(daemon.pid, "VmRSS") / 1024,
            "peak": status_kib(daemon.pid, "VmHWM") / 1024,
            "ready": ready,
            "probes": done,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, action="append", help="(repeatable)")
    parser.add_argument("--probed", action="store_true", help="measure after every site is probed")
    parser.add_argument("--interval", default="30s", help="with --probed (seconds, e.g. 30s)")
    args = parser.parse_args(argv)
    # SIGTERM: stop the children too (the `finally` blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sizes = args.sites or list(SIZES)
    interval = args.interval if args.probed else "1d"
    target = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="ug-memory-") as tmp,
        process([sys.executable, "-c", SERVER, str(target)]),
    ):
        workdir = Path(tmp)
        while get(f"http://127.0.0.1:{target}/") != 200:
            time.sleep(0.1)
        base = measure(1, interval, target, workdir, False)
        print(f"one site: RSS {base['rss']:.0f} MiB at rest (ready in {base['ready']:.1f} s)")
        state = "probed every " + interval if args.probed else "configured, not yet probed"
        print(f"| sites ({state}) | RSS at rest | peak RSS | ready after | RSS per site |")
        print("|---|---|---|---|---|")
        for count in sizes:
            got = measure(count, interval, target, workdir, args.probed)
            per_site = (got["rss"] - base["rss"]) * 1024 * 1024 / count
            note = f" ({got['probes']:,.0f} probes)" if args.probed else ""
            print(
                f"| {count:,}{note} | {got['rss']:.0f} MiB | {got['peak']:.0f} MiB "
                f"| {got['ready']:.1f} s | {per_site / 1024:.2f} KiB |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
