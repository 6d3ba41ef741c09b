"""uptimeguard at scale, side by side with blackbox_exporter and a bare aiohttp loop.

    .venv/bin/python -m bench.scale                        # the three tiers of bench/RESULTS.md
    .venv/bin/python -m bench.scale --run 100000@5m        # the true 100,000 sites, 5 minutes
    .venv/bin/python -m bench.scale --run 200@5s --warmup 1 --duration 2.5   # a smoke run

For each `--run SITES@INTERVAL` it serves the sites from nginx on loopback (`bench.nginx`,
installed with apt-get where missing), writes a checks file for them, and then measures each
system in turn, never two at once, on the same targets at the same per-site interval:

- `bare`: a bare aiohttp request loop (`bench.bare_aiohttp`);
- `blackbox`: Debian's prometheus-blackbox-exporter, scraped once per target per interval by a
  small driver (`bench.blackbox_driver`); only the exporter's process is charged;
- `sqlite`, `postgres`: `uptimeguard run` against SQLite and against PostgreSQL.

Each system runs `--warmup` seconds (by default two intervals plus the recheck, so the failing
sites have opened their incidents) and is then measured for `--duration` seconds: probes per
second, CPU seconds per 1,000 probes and cores used (from /proc/<pid>/stat), peak RSS (VmHWM),
scheduler lag p50/p99 (from `uptimeguard_scheduler_lag_seconds`, or the driver's own timing
loop for the references), database growth per hour, and our CPU per probe as a ratio to each
reference. Exit status 3 means the tools could not be installed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import measure, nginx, targets

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SYSTEMS = ("bare", "blackbox", "sqlite", "postgres")
# Also accepted by --systems: uptimeguard on uvloop's event loop.
UVLOOP_SYSTEMS = ("sqlite-uvloop", "postgres-uvloop")
DEFAULT_RUNS = ("1000@30s", "5000@30s", "10000@30s")
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/ug_bench"
GOAL_RATE = 100_000 / 300  # probes per second at 100,000 sites every 5 minutes


@dataclass(frozen=True)
class RunSpec:
    sites: int
    interval: float  # seconds

    @property
    def rate(self) -> float:
        return self.sites / self.interval

    @property
    def label(self) -> str:
        return f"{self.sites:,} sites every {_duration_text(self.interval)}"

    @property
    def equivalent(self) -> str:
        """The same probe rate stated at a 5-minute interval."""
        return f"{round(self.rate * 300):,} sites every 5m"


@dataclass
class Result:
    system: str
    seconds: float = 0.0
    busy: float = 0.0  # CPU seconds the whole machine was busy in the window
    probes: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0
    lag: list[tuple[float, float]] | None = None
    db_bytes: float | None = None
    outcomes: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def rate(self) -> float:
        return self.probes / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_1000(self) -> float | None:
        return self.cpu / self.probes * 1000 if self.probes else None

    @property
    def cores(self) -> float:
        return self.cpu / self.seconds if self.seconds else 0.0

    @property
    def other_cores(self) -> float:
        """Cores busy with anything but the measured process (targets, driver, others)."""
        return (self.busy - self.cpu) / self.seconds if self.seconds else 0.0

    @property
    def db_per_hour(self) -> float | None:
        return self.db_bytes / self.seconds * 3600 if self.db_bytes is not None else None


# -- running processes ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http_get(url: str, timeout: float = 30.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def _wait_for(
    check: Callable[[], bool],
    process: subprocess.Popen[bytes],
    what: str,
    log: Path,
    limit: float = 300.0,
) -> float:
    """Seconds until `check()` holds; raises if the process exits or `limit` passes."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if process.poll() is not None:
            tail = log.read_text()[-1500:] if log.exists() else ""
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{tail}")
        with contextlib.suppress(OSError, ValueError):
            if check():
                return time.monotonic() - start
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {limit:.0f} s")


@contextlib.contextmanager
def _process(argv: list[str], log: Path, **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload]
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stats(path: Path) -> dict[str, object]:
    return json.loads(path.read_text())


def _lag_of(stats: dict[str, object]) -> list[tuple[float, float]]:
    counts = stats["lag"]
    assert isinstance(counts, list)
    out, running = [], 0.0
    for bound, count in zip((*measure.LAG_BOUNDS, math.inf), counts, strict=True):
        running += count
        out.append((bound, running))
    return out


def _outcomes_delta(after: dict[str, object], before: dict[str, object]) -> dict[str, float]:
    a, b = after["outcomes"], before["outcomes"]
    assert isinstance(a, dict) and isinstance(b, dict)
    return {k: float(v) - float(b.get(k, 0)) for k, v in a.items()}


# -- the systems --------------------------------------------------------------------------------


@dataclass
class Bench:
    workdir: Path
    ca: Path
    warmup: float
    duration: float
    timeout: float
    pg_url: str
    py_spy: bool
    ours_env: dict[str, str]
    ref_warmup: float = 0.0  # the references have no incidents to open: one interval will do
    reload_check: bool = False

    def _reload(self, process: subprocess.Popen[bytes], sample: Callable[[], dict]) -> str:  # type: ignore[type-arg]
        """SIGHUP (reload the checks file) and report the scheduler lag in the 60 s after."""
        first = sample()
        cpu0 = measure.cpu_seconds(process.pid)
        process.send_signal(signal.SIGHUP)
        time.sleep(60)
        lag = measure.hist_delta(sample()["lag"], first["lag"])  # type: ignore[arg-type]
        cpu = measure.cpu_seconds(process.pid) - cpu0
        late = 1 - (measure.share_at_most(1.0, lag) or 1.0)
        worst = next((le for le, n in lag if n >= lag[-1][1]), math.inf)
        return (
            f"after SIGHUP (reload): {late:.1%} of the next 60 s of probes started over 1 s"
            f" late, the latest by at most {_ms(worst)}; {cpu:.1f} CPU s in those 60 s"
        )

    def window(
        self, sample: Callable[[], dict[str, object]], pid: int, warmup: float | None = None
    ) -> tuple[dict, dict]:  # type: ignore[type-arg]
        time.sleep(self.warmup if warmup is None else warmup)
        before = sample()
        before["cpu"], before["t"] = measure.cpu_seconds(pid), time.monotonic()
        before["busy"] = measure.machine_busy_seconds()
        spy = self._spy(pid) if self.py_spy else None
        time.sleep(self.duration)
        after_cpu, after_t = measure.cpu_seconds(pid), time.monotonic()
        after_busy = measure.machine_busy_seconds()
        after = sample()
        after["cpu"], after["t"], after["busy"] = after_cpu, after_t, after_busy
        if spy is not None:
            spy.wait()
        return before, after

    def _spy(self, pid: int) -> subprocess.Popen[bytes] | None:
        spy = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
        if not Path(spy).exists():
            print("bench: py-spy not installed; no profile", file=sys.stderr)
            return None
        out = self.workdir / f"profile-{pid}"
        argv = [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(self.duration)),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            f"{out}.txt",
            "--nonblocking",
        ]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # Reference 1: the bare aiohttp loop.
    def bare(self, run: RunSpec, urls: Path) -> Result:
        stats = self.workdir / "bare.json"
        stats.unlink(missing_ok=True)
        log = self.workdir / "bare.log"
        argv = [
            PYTHON,
            "-m",
            "bench.bare_aiohttp",
            str(urls),
            str(run.interval),
            str(self.timeout),
            str(self.ca),
            str(stats),
        ]
        with _process(argv, log, cwd=ROOT) as process:
            _wait_for(stats.exists, process, "the bare aiohttp loop", log)
            before, after = self.window(lambda: _stats(stats), process.pid, self.ref_warmup)
            rss = measure.peak_rss_bytes(process.pid)
        return _reference_result("bare aiohttp loop", before, after, rss)

    # Reference 2: blackbox_exporter and its driver.
    def blackbox(self, run: RunSpec, urls: Path) -> Result:
        binary = shutil.which("prometheus-blackbox-exporter")
        if binary is None:
            return Result("blackbox_exporter", skipped="prometheus-blackbox-exporter missing")
        config = self.workdir / "blackbox.yml"
        config.write_text(
            "modules:\n  http_bench:\n    prober: http\n"
            f"    timeout: {self.timeout:g}s\n"
            "    http:\n      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n"
            f"      tls_config:\n        ca_file: {self.ca}\n"
        )
        port = _free_port()
        exporter_log, driver_log = self.workdir / "blackbox.log", self.workdir / "driver.log"
        stats = self.workdir / "driver.json"
        stats.unlink(missing_ok=True)
        exporter_argv = [
            binary,
            f"--config.file={config}",
            "--log.level=warn",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with _process(exporter_argv, exporter_log) as exporter:
            _wait_for(
                lambda: _http_get(f"http://127.0.0.1:{port}/metrics") != "",
                exporter,
                "blackbox_exporter",
                exporter_log,
            )
            driver_argv = [
                PYTHON,
                "-m",
                "bench.blackbox_driver",
                str(urls),
                str(run.interval),
                str(self.timeout),
                f"http://127.0.0.1:{port}",
                str(stats),
            ]
            with _process(driver_argv, driver_log, cwd=ROOT) as driver:
                _wait_for(stats.exists, driver, "the blackbox driver", driver_log)

                def sample() -> dict[str, object]:
                    data = _stats(stats)
                    data["driver_cpu"] = measure.cpu_seconds(driver.pid)
                    return data

                before, after = self.window(sample, exporter.pid, self.ref_warmup)
                rss = measure.peak_rss_bytes(exporter.pid)
        result = _reference_result("blackbox_exporter", before, after, rss)
        driver_cpu = float(after["driver_cpu"]) - float(before["driver_cpu"])  # type: ignore[arg-type]
        if result.probes:
            result.notes.append(
                f"its driver (standing in for Prometheus) used a further "
                f"{driver_cpu / result.probes * 1000:.3f} CPU s per 1,000 probes"
            )
        result.lag = None  # the driver's timing, not the exporter's: not shown
        return result

    # uptimeguard itself.
    def ours(self, run: RunSpec, checks: Path, system: str) -> Result:
        database, _, variant = system.partition("-")
        name = f"uptimeguard ({database}{', ' + variant if variant else ''})"
        port = _free_port()
        db_dir = self.workdir / "db"
        shutil.rmtree(db_dir, ignore_errors=True)
        db_dir.mkdir()
        if database == "sqlite":
            db_path = db_dir / "uptimeguard.db"
            url = f"sqlite+aiosqlite:///{db_path}"
            size: Callable[[], int] = lambda: _sqlite_size(db_path)  # noqa: E731
        else:
            problem = _recreate_pg(self.pg_url)
            if problem:
                return Result(name, skipped=problem)
            url = self.pg_url
            size = lambda: _pg_size(self.pg_url)  # noqa: E731
        env = {**os.environ, **self.ours_env}
        env.update(
            UPTIMEGUARD_CONFIG=str(checks),
            UPTIMEGUARD_DATABASE_URL=url,
            UPTIMEGUARD_LISTEN=f"127.0.0.1:{port}",
            SSL_CERT_FILE=str(self.ca),  # the prober's default context trusts the bench CA
            # bench.run_uptimeguard must import from the repository; cwd stays the db folder
            # so that no .env of the repository is read.
            # (--env PYTHONPATH=DIR runs the uptimeguard package found in DIR instead.)
            PYTHONPATH=os.pathsep.join(
                filter(
                    None,
                    [self.ours_env.get("PYTHONPATH"), str(ROOT), os.environ.get("PYTHONPATH")],
                )
            ),
        )
        argv = [PYTHON, "-m", "uptimeguard", "run"]
        if variant == "uvloop":
            argv = [PYTHON, "-m", "bench.run_uptimeguard", "--uvloop"]
        notes = []
        log = self.workdir / f"uptimeguard-{system}.log"
        log.unlink(missing_ok=True)
        base = f"http://127.0.0.1:{port}"
        names = ("uptimeguard_scheduler_lag_seconds_bucket", "uptimeguard_incidents_opened_total")
        lag_query = "&".join(f"name[]={n}" for n in names)
        with _process(argv, log, cwd=db_dir, env=env) as process:
            startup = _wait_for(
                lambda: _http_get(f"{base}/healthz", 2) != "", process, name, log, limit=600
            )
            notes.append(f"ready {startup:.1f} s after start")

            def sample() -> dict[str, object]:
                text = _http_get(f"{base}/metrics?{lag_query}")
                return {
                    "lag": measure.parse_histogram(text, "uptimeguard_scheduler_lag_seconds"),
                    "opened": _sum_of(text, "uptimeguard_incidents_opened_total"),
                    "db": size(),
                }

            before, after = self.window(sample, process.pid)
            rss = measure.peak_rss_bytes(process.pid)  # before the full scrape below
            if self.reload_check:
                notes.append(self._reload(process, sample))
            cpu0, t0 = measure.cpu_seconds(process.pid), time.monotonic()
            full = _http_get(f"{base}/metrics", 120)
            scrape_cpu = measure.cpu_seconds(process.pid) - cpu0
            scrape_s = time.monotonic() - t0
            outcomes = _probe_outcomes(full)
            scraped_rss = measure.peak_rss_bytes(process.pid)
            notes.append(
                f"one full /metrics scrape: {len(full) / 1e6:.1f} MB in {scrape_s:.2f} s,"
                f" {scrape_cpu:.2f} CPU s; peak RSS {scraped_rss / 2**20:,.0f} MiB after it"
            )
            stop0 = time.monotonic()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(120)
                notes.append(f"stopped {time.monotonic() - stop0:.1f} s after SIGTERM")
            except subprocess.TimeoutExpired:
                notes.append("did not stop within 120 s of SIGTERM")
        opened = float(after["opened"]) - float(before["opened"])  # type: ignore[arg-type]
        notes.append(f"{opened:.0f} incidents opened while measured")
        lines = log.read_text().splitlines()
        warnings = [line for line in lines if " WARNING " in line or " ERROR " in line]
        if warnings:
            notes.append(f"{len(warnings)} warnings or errors logged, e.g. {warnings[0][:160]!r}")
        if database == "postgres":
            _drop_pg(self.pg_url)
        lag = measure.hist_delta(after["lag"], before["lag"])  # type: ignore[arg-type]
        result = Result(
            name,
            seconds=float(after["t"]) - float(before["t"]),  # type: ignore[arg-type]
            busy=float(after["busy"]) - float(before["busy"]),  # type: ignore[arg-type]
            probes=lag[-1][1] if lag else 0.0,
            cpu=float(after["cpu"]) - float(before["cpu"]),  # type: ignore[arg-type]
            peak_rss=rss,
            lag=lag,
            db_bytes=float(after["db"]) - float(before["db"]),  # type: ignore[arg-type]
            outcomes=outcomes,
            notes=notes,
        )
        return result


def _reference_result(name: str, before: dict, after: dict, rss: int) -> Result:  # type: ignore[type-arg]
    return Result(
        name,
        seconds=after["t"] - before["t"],
        busy=after["busy"] - before["busy"],
        probes=float(after["probes"]) - float(before["probes"]),
        cpu=after["cpu"] - before["cpu"],
        peak_rss=rss,
        lag=measure.hist_delta(_lag_of(after), _lag_of(before)),
        outcomes=_outcomes_delta(after, before),
    )


def _sum_of(metrics_text: str, name: str) -> float:
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)$", re.M)
    return sum(float(value) for value in pattern.findall(metrics_text))


def _probe_outcomes(metrics_text: str) -> dict[str, float]:
    """Probes by outcome since start, from uptimeguard_probes_total."""
    totals: dict[str, float] = {}
    pattern = re.compile(r'^uptimeguard_probes_total\{[^}]*outcome="([^"]+)"[^}]*\} (\S+)$', re.M)
    for outcome, value in pattern.findall(metrics_text):
        totals[outcome] = totals.get(outcome, 0.0) + float(value)
    return totals


def _sqlite_size(path: Path) -> int:
    """Bytes in use: the database's pages as a reader sees them (WAL frames included)."""
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        page = db.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * page)


def _pg_parts(url: str) -> tuple[list[str], str]:
    m = re.match(
        r"postgresql(?:\+\w+)?://(?:([^:@/]+)(?::[^@/]*)?@)?([^:/]+)(?::(\d+))?/(\w+)", url
    )
    if not m:
        raise ValueError(f"cannot read PostgreSQL URL {url!r}")
    user, host, port, name = m.groups()
    return ["-h", host, "-p", port or "5432", "-U", user or "postgres"], name


def _recreate_pg(url: str) -> str | None:
    if shutil.which("createdb") is None:
        return "PostgreSQL client tools missing"
    conn, name = _pg_parts(url)
    subprocess.run(["dropdb", *conn, "--if-exists", name], capture_output=True)
    done = subprocess.run(["createdb", *conn, name], capture_output=True, text=True)
    return None if done.returncode == 0 else f"createdb failed: {done.stderr.strip()}"


def _drop_pg(url: str) -> None:
    conn, name = _pg_parts(url)
    subprocess.run(["dropdb", *conn, "--if-exists", name], capture_output=True)


def _pg_size(url: str) -> int:
    conn, name = _pg_parts(url)
    done = subprocess.run(
        ["psql", *conn, "-d", name, "-Atc", "SELECT pg_database_size(current_database())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


# -- reporting ----------------------------------------------------------------------------------


def _duration_text(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _parse_interval(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad interval {text!r}: use e.g. 30s or 5m")
    return float(m.group(1)) * (60 if m.group(2) == "m" else 1)


def parse_run(text: str) -> RunSpec:
    sites, sep, interval = text.partition("@")
    if not sep or not sites.replace(",", "").isdigit():
        raise argparse.ArgumentTypeError(f"bad run {text!r}: use SITES@INTERVAL, e.g. 10000@30s")
    return RunSpec(int(sites.replace(",", "")), _parse_interval(interval))


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "> 30 s"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MiB"


def table(run: RunSpec, results: list[Result]) -> str:
    refs = {r.system: r for r in results if not r.system.startswith("uptimeguard")}
    bb, bare = refs.get("blackbox_exporter"), refs.get("bare aiohttp loop")
    head = (
        "| system | probes/s | CPU s / 1,000 probes | cores | peak RSS | lag p50 | lag p99 "
        "| DB growth / hour | CPU/probe vs blackbox | vs bare aiohttp |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.system} | skipped: {r.skipped} |" + " |" * 8)
            continue
        mine = r.cpu_per_1000

        def ratio(ref: Result | None, mine: float | None = mine) -> str:
            theirs = ref.cpu_per_1000 if ref is not None and not ref.skipped else None
            return f"{mine / theirs:.2f}x" if mine and theirs else "-"

        lag = r.lag
        cells = [
            r.system,
            f"{r.rate:,.1f}",
            f"{mine:.3f}" if mine is not None else "-",
            f"{r.cores:.3f}",
            _mib(r.peak_rss),
            _ms(measure.quantile(0.5, lag)) if lag else "-",
            _ms(measure.quantile(0.99, lag)) if lag else "-",
            _mib(r.db_per_hour),
            ratio(bb) if r.system.startswith("uptimeguard") else "-",
            ratio(bare) if r.system.startswith("uptimeguard") else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    out = [f"### {run.label} ({run.rate:,.1f} probes/s due; the rate of {run.equivalent})", ""]
    out += lines
    out.append("")
    for r in results:
        if r.skipped:
            continue
        seen = sum(r.outcomes.values())
        if seen:
            mix = ", ".join(
                f"{k} {v / seen:.1%}" for k, v in sorted(r.outcomes.items(), key=lambda kv: -kv[1])
            )
            since = " since start" if r.system.startswith("uptimeguard") else ""
            out.append(f"- {r.system}: outcomes{since} {mix}")
        out.append(
            f"- {r.system}: the rest of the machine (nginx, drivers, anything else) used"
            f" {r.other_cores:.2f} cores meanwhile"
        )
        if r.lag:
            under = measure.share_at_most(1.0, r.lag)
            if under is not None:
                out.append(f"- {r.system}: {under:.2%} of probes started within 1 s of due")
        out.extend(f"- {r.system}: {note}" for note in r.notes)
    return "\n".join(out) + "\n"


def machine() -> str:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        mem = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB"
    import aiohttp
    import sqlalchemy

    versions = [
        f"Python {platform.python_version()}",
        f"aiohttp {aiohttp.__version__}",
        f"SQLAlchemy {sqlalchemy.__version__}",
    ]
    with contextlib.suppress(ImportError):
        import uvloop

        versions.append(f"uvloop {uvloop.__version__} (installed)")
    for argv in (
        ["nginx", "-v"],
        ["prometheus-blackbox-exporter", "--version"],
        ["psql", "--version"],
    ):
        with contextlib.suppress(OSError):
            done = subprocess.run(argv, capture_output=True, text=True)
            first = (done.stdout + done.stderr).strip().splitlines()
            if first:
                versions.append(first[0])
    return (
        f"- {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}): {cpu}\n"
        f"- memory {mem}; {platform.platform()}\n- " + "; ".join(versions) + "\n"
    )


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--run",
        action="append",
        type=parse_run,
        metavar="SITES@INTERVAL",
        help=f"sites and interval (repeatable; default {' '.join(DEFAULT_RUNS)})",
    )
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated, in order (default {','.join(SYSTEMS)})",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help="seconds before measuring (default: 2 intervals + recheck + 5 s, so every failing"
        " site has opened its incident)",
    )
    parser.add_argument("--duration", type=float, default=90.0, help="seconds measured")
    parser.add_argument("--timeout", type=float, help="probe timeout (default min(10, interval/3))")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("UG_BENCH_POSTGRES_URL", DEFAULT_PG),
        help="a database the bench may drop and create",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for uptimeguard (e.g. UPTIMEGUARD_UVLOOP=1)",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="profile uptimeguard during the window (py-spy raw output in workdir)",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="do not apt-get what is missing: exit 3 instead (the smoke test)",
    )
    parser.add_argument(
        "--reload-check",
        action="store_true",
        help="after measuring, send uptimeguard SIGHUP and report the lag while it reloads",
    )
    parser.add_argument("--workdir", type=Path, help="keep logs and files here")
    parser.add_argument("--markdown", type=Path, help="also append the tables to this file")
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="only serve the targets (and write checks files) until interrupted",
    )
    args = parser.parse_args(argv)
    runs = args.run or [parse_run(r) for r in DEFAULT_RUNS]
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS) - set(UVLOOP_SYSTEMS)
    if unknown:
        choices = ", ".join((*SYSTEMS, *UVLOOP_SYSTEMS))
        parser.error(f"unknown systems {sorted(unknown)}: choose from {choices}")
    ours_env = dict(item.split("=", 1) for item in args.env)

    # SIGTERM unwinds like Ctrl-C, so the processes the bench started are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        installed = nginx.install_missing(
            need_blackbox="blackbox" in systems, allowed=not args.no_install
        )
    except nginx.Unavailable as error:
        print(f"bench: {error}", file=sys.stderr)
        return 3
    if installed:
        print(f"installed {', '.join(installed)}")
    header = "## Machine\n\n" + machine()
    print(header)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="uptimeguard-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    out: list[str] = [header]
    try:
        with nginx.serving(workdir) as ca:
            if args.serve_only:
                for run in runs:
                    path = workdir / f"checks-{run.sites}.yaml"
                    path.write_text(targets.checks_yaml(run.sites, _duration_text(run.interval)))
                    print(f"checks file: {path}")
                print(f"serving the targets; trust {ca}; Ctrl-C to stop", flush=True)
                with contextlib.suppress(KeyboardInterrupt):
                    while True:
                        time.sleep(3600)
                return 0
            for run in runs:
                timeout = args.timeout or min(10.0, max(1.0, math.floor(run.interval / 3)))
                recheck = min(30.0, run.interval)
                warmup = args.warmup
                if warmup is None:
                    warmup = 2 * run.interval + recheck + 5
                checks = workdir / f"checks-{run.sites}.yaml"
                checks.write_text(
                    targets.checks_yaml(
                        run.sites,
                        _duration_text(run.interval),
                        _duration_text(timeout),
                        _duration_text(recheck),
                    )
                )
                urls = workdir / f"urls-{run.sites}.txt"
                urls.write_text("\n".join(targets.urls(run.sites)) + "\n")
                bench = Bench(
                    workdir,
                    ca,
                    warmup,
                    args.duration,
                    timeout,
                    args.postgres_url,
                    args.py_spy,
                    ours_env,
                    ref_warmup=min(warmup, run.interval + 5),
                    reload_check=args.reload_check,
                )
                print(
                    f"{run.label}: warm-up {warmup:g} s ({bench.ref_warmup:g} s for the"
                    f" references), measured {args.duration:g} s each, "
                    f"probe timeout {timeout:g} s, systems {', '.join(systems)}",
                    flush=True,
                )
                results = []
                for system in systems:
                    started = time.monotonic()
                    if system == "bare":
                        result = bench.bare(run, urls)
                    elif system == "blackbox":
                        result = bench.blackbox(run, urls)
                    else:
                        result = bench.ours(run, checks, system)
                    results.append(result)
                    print(
                        f"  {result.system}: {result.rate:,.1f} probes/s, "
                        f"{result.cpu_per_1000 or 0:.3f} CPU s/1000 "
                        f"({time.monotonic() - started:.0f} s)"
                        + (f" skipped: {result.skipped}" if result.skipped else ""),
                        flush=True,
                    )
                    # Keep what is measured even if a later system or the run is cut short.
                    with open(workdir / "results.jsonl", "a") as f:
                        record = {"run": dataclasses.asdict(run), **dataclasses.asdict(result)}
                        f.write(json.dumps(record, default=str) + "\n")
                    if len(results) < len(systems):
                        print(textwrap.indent(table(run, results), "    "), flush=True)
                text = table(run, results)
                print("\n" + text, flush=True)
                out.append(text)
    except nginx.Unavailable as error:
        print(f"bench: {error}", file=sys.stderr)
        return 3
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(out) + "\n")
    print(f"logs and files: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
