"""Three nodes against one: what sharing the work costs, and the gap a SIGKILL leaves.

    .venv/bin/python -m bench.cluster                          # 100,000 sites every 5 minutes
    .venv/bin/python -m bench.cluster --run 3000@30s --duration 30   # a small proof

On the same nginx targets as `bench.scale` (loopback, half over TLS, a few per cent failing),
with PostgreSQL, at the same total rate:

1. **one node** (`uptimeguard run`) probes every site: CPU seconds per 1,000 probes, and the
   database's load (transactions, rows written and read per second, and the CPU of its
   backends serving this database);
2. **three nodes** in one location share the same sites (each site probed once, by its
   rendezvous owner): the same figures, summed over the three, so the ratio of CPU per probe
   is the cluster's overhead (goal: at most 10%);
3. then one non-leader node is SIGKILLed: from nginx's access log (each request's time and
   path), the gap between consecutive probes of each of the killed node's sites across the
   kill, p50 / p99 / max, against its bound, interval + `NODE_TIMEOUT_SECONDS`.

Prints a markdown table (`--markdown FILE` appends it there). Exit 3: tools missing.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from bench import measure, nginx, targets
from bench.scale import (
    DEFAULT_PG,
    PYTHON,
    ROOT,
    RunSpec,
    _drop_pg,
    _duration_text,
    _free_port,
    _http_get,
    _pg_parts,
    _process,
    _recreate_pg,
    _wait_for,
    machine,
    parse_run,
)
from uptimeguard.cluster.hrw import assign

NODES = ("node-a", "node-b", "node-c")
LAG = "uptimeguard_scheduler_lag_seconds"


@dataclass
class Figures:
    """One measured window."""

    label: str
    seconds: float = 0.0
    probes: float = 0.0
    cpu: float = 0.0  # CPU seconds of the uptimeguard processes
    db_cpu: float = 0.0  # CPU seconds of PostgreSQL's backends for this database
    db: dict[str, float] = field(default_factory=dict)  # per-second database counters
    notes: list[str] = field(default_factory=list)

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.probes * 1000 if self.probes else math.nan


def _psql(url: str, query: str) -> str:
    conn, name = _pg_parts(url)
    done = subprocess.run(
        ["psql", *conn, "-d", name, "-Atc", query], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def db_counters(url: str) -> tuple[dict[str, float], dict[int, float]]:
    """pg_stat_database's counters for the bench's database, and its backends' CPU by pid."""
    _, name = _pg_parts(url)
    row = _psql(
        url,
        "SELECT xact_commit + xact_rollback, tup_inserted, tup_updated, tup_deleted, "
        f"tup_returned + tup_fetched FROM pg_stat_database WHERE datname = '{name}'",
    ).split("|")
    pids = _psql(url, f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}'").split()
    cpu = {}
    for pid in pids:
        try:
            cpu[int(pid)] = measure.cpu_seconds(int(pid))
        except OSError:
            continue
    keys = ("transactions", "inserted", "updated", "deleted", "read")
    values: dict[str, float] = {k: float(v) for k, v in zip(keys, row, strict=True)}
    values["backends"] = float(len(cpu))
    return values, cpu


def _probes(port: int) -> float:
    """Probes started so far (the scheduler lag histogram counts one per probe)."""
    text = _http_get(f"http://127.0.0.1:{port}/metrics?name[]={LAG}_bucket", 60)
    return measure.parse_histogram(text, LAG)[-1][1]


class Cluster:
    def __init__(self, workdir: Path, ca: Path, url: str, checks: Path, timeout_s: float):
        self.workdir, self.ca, self.url, self.checks = workdir, ca, url, checks
        self.node_timeout = timeout_s
        self.stack = ExitStack()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def start(self, names: tuple[str, ...]) -> None:
        for name in names:
            port = self.ports[name] = _free_port()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("UPTIMEGUARD_")},
                "UPTIMEGUARD_CONFIG": str(self.checks),
                "UPTIMEGUARD_DATABASE_URL": self.url,
                "UPTIMEGUARD_LISTEN": f"127.0.0.1:{port}",
                "UPTIMEGUARD_NODE": name,
                "UPTIMEGUARD_LOCATION": "bench",
                "UPTIMEGUARD_NODE_TIMEOUT_SECONDS": f"{self.node_timeout:g}",
                "SSL_CERT_FILE": str(self.ca),
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
                ),
            }
            argv = [PYTHON, "-m", "uptimeguard", "run"]
            log = self.workdir / f"{name}.log"
            self.processes[name] = self.stack.enter_context(
                _process(argv, log, cwd=self.workdir, env=env)
            )
        for name in names:
            _wait_for(
                lambda n=name: _http_get(f"http://127.0.0.1:{self.ports[n]}/healthz", 2) != "",
                self.processes[name],
                name,
                self.workdir / f"{name}.log",
                limit=600,
            )

    def measure(self, label: str, warmup: float, duration: float) -> Figures:
        time.sleep(warmup)
        live = [n for n, p in self.processes.items() if p.poll() is None]
        probes0 = sum(_probes(self.ports[n]) for n in live)
        cpu0 = sum(measure.cpu_seconds(self.processes[n].pid) for n in live)
        (db0, before), t0 = db_counters(self.url), time.monotonic()
        time.sleep(duration)
        probes1 = sum(_probes(self.ports[n]) for n in live)
        cpu1 = sum(measure.cpu_seconds(self.processes[n].pid) for n in live)
        (db1, after), t1 = db_counters(self.url), time.monotonic()
        seconds = t1 - t0
        # Backends that lived through the window; one opened meanwhile counts from zero.
        db_cpu = sum(v - before.get(pid, 0.0) for pid, v in after.items())
        rates = {k: (db1[k] - db0[k]) / seconds for k in db1 if k != "backends"}
        rates["backends"] = db1["backends"]
        return Figures(label, seconds, probes1 - probes0, cpu1 - cpu0, db_cpu, rates)

    def stop(self) -> None:
        self.stack.close()
        self.processes.clear()


def kill_gaps(access_log: Path, sites: list[int], kill_wall: float, window: float) -> list[float]:
    """Per site, the longest gap between consecutive requests around the kill (from `window`
    seconds before it to the end of the log)."""
    wanted = {f"/{targets.kind_of(i)}/{i}": i for i in sites}
    times: dict[int, list[float]] = defaultdict(list)
    with open(access_log) as f:
        for line in f:
            stamp, _, uri = line.partition(" ")
            site = wanted.get(uri.strip())
            if site is not None:
                at = float(stamp)
                if at >= kill_wall - window:
                    times[site].append(at)
    gaps = []
    for site in sites:
        seen = sorted(times.get(site, []))
        spans = [b - a for a, b in pairwise(seen)]
        gaps.append(max(spans) if spans else math.inf)
    return sorted(gaps)


def _q(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def report(run: RunSpec, one: Figures, three: Figures, gaps: list[float], bound: float) -> str:
    overhead = three.cpu_per_1000 / one.cpu_per_1000 - 1
    lines = [
        f"### Cluster: {run.label} ({run.equivalent}), PostgreSQL",
        "",
        "| | one node | three nodes |",
        "|---|---|---|",
        f"| probes/s | {one.probes / one.seconds:,.1f} | {three.probes / three.seconds:,.1f} |",
        f"| CPU s per 1,000 probes (uptimeguard) | {one.cpu_per_1000:.3f} | "
        f"{three.cpu_per_1000:.3f} ({overhead:+.1%}) |",
    ]
    for key, what in (
        ("transactions", "database transactions/s"),
        ("inserted", "rows inserted/s"),
        ("updated", "rows updated/s"),
        ("read", "rows read/s"),
    ):
        lines.append(f"| {what} | {one.db[key]:,.1f} | {three.db[key]:,.1f} |")
    lines += [
        f"| PostgreSQL backends' CPU s per 1,000 probes | "
        f"{one.db_cpu / one.probes * 1000:.3f} | {three.db_cpu / three.probes * 1000:.3f} |",
        f"| connections | {one.db['backends']:.0f} | {three.db['backends']:.0f} |",
        "",
        f"SIGKILL of a non-leader node: over its {len(gaps)} sites, the longest gap between two "
        f"probes across the kill was p50 {_q(gaps, 0.5):.1f} s, p99 {_q(gaps, 0.99):.1f} s, "
        f"max {gaps[-1]:.1f} s (bound: interval + node timeout = {bound:.0f} s; "
        f"{sum(g > bound for g in gaps)} over it).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--run", type=parse_run, default=parse_run("100000@5m"))
    parser.add_argument(
        "--warmup", type=float, help="seconds before measuring (default 2 intervals + 35 s)"
    )
    parser.add_argument("--duration", type=float, default=120.0, help="seconds measured")
    parser.add_argument("--node-timeout", type=float, default=15.0, help="NODE_TIMEOUT_SECONDS")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("UG_BENCH_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument("--no-install", action="store_true", help="exit 3 if tools are missing")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--markdown", type=Path, help="also append the table to this file")
    args = parser.parse_args(argv)
    run: RunSpec = args.run
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        nginx.install_missing(need_blackbox=False, allowed=not args.no_install)
    except nginx.Unavailable as error:
        print(f"bench: {error}", file=sys.stderr)
        return 3
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="uptimeguard-cluster-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    timeout = min(10.0, max(1.0, math.floor(run.interval / 3)))
    recheck = min(30.0, run.interval)
    warmup = args.warmup if args.warmup is not None else 2 * run.interval + 35
    checks = workdir / "checks.yaml"
    checks.write_text(
        targets.checks_yaml(
            run.sites, _duration_text(run.interval), _duration_text(timeout),
            _duration_text(recheck),
        )
    )  # fmt: skip
    print("## Machine\n\n" + machine(), flush=True)
    print(f"{run.label}: warm-up {warmup:g} s, measured {args.duration:g} s", flush=True)
    try:
        with nginx.serving(workdir, access_log=True) as ca:
            problem = _recreate_pg(args.postgres_url)
            if problem:
                print(f"bench: {problem}", file=sys.stderr)
                return 3
            cluster = Cluster(workdir, ca, args.postgres_url, checks, args.node_timeout)
            try:
                cluster.start(NODES[:1])
                one = cluster.measure("one node", warmup, args.duration)
                print(f"  one node: {one.cpu_per_1000:.3f} CPU s/1000 probes", flush=True)
            finally:
                cluster.stop()
            _recreate_pg(args.postgres_url)
            try:
                cluster.start(NODES)
                three = cluster.measure("three nodes", warmup, args.duration)
                print(f"  three nodes: {three.cpu_per_1000:.3f} CPU s/1000 probes", flush=True)
                leader = _psql(
                    args.postgres_url, "SELECT name FROM cluster_nodes WHERE leader"
                ).split()
                victim = next(n for n in reversed(NODES) if n not in leader)
                keys = [(f"c{i // targets.CUSTOMER_SIZE:05d}", f"s{i}") for i in range(run.sites)]
                owners = assign(keys, set(NODES))
                theirs = [i for i, key in enumerate(keys) if owners[key] == victim]
                cluster.processes[victim].send_signal(signal.SIGKILL)
                killed = time.time()
                cluster.processes[victim].wait()
                time.sleep(run.interval + args.node_timeout + 10)
            finally:
                cluster.stop()
            time.sleep(2)  # nginx flushes its log every second
            gaps = kill_gaps(workdir / "nginx" / "access.log", theirs, killed, run.interval)
    except nginx.Unavailable as error:
        print(f"bench: {error}", file=sys.stderr)
        return 3
    finally:
        _drop_pg(args.postgres_url)
    text = report(run, one, three, gaps, run.interval + args.node_timeout)
    print("\n" + text, flush=True)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write(text + "\n")
    print(f"logs and files: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
