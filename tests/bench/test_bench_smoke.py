"""A smoke run of the scale bench (bench/scale.py): 200 sites every 5 s, every system measured
for a moment, so the script keeps working. The real runs are in bench/RESULTS.md; they are not
part of the test suite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _postgres_url() -> str | None:
    """A database of its own on the test server, when the suite has PostgreSQL."""
    url = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    return url.rsplit("/", 1)[0] + "/ug_bench_smoke"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bench needs Linux /proc")
def test_bench_smoke_run(tmp_path: Path) -> None:
    systems = ["bare", "blackbox", "sqlite"]
    argv = [sys.executable, "-m", "bench.scale", "--no-install", "--run", "200@5s"]
    argv += ["--warmup", "1", "--duration", "2.5", "--workdir", str(tmp_path)]
    pg = _postgres_url()
    if pg is not None:
        systems.append("postgres")
        argv += ["--postgres-url", pg]
    argv += ["--systems", ",".join(systems)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode == 3:
        pytest.skip(f"bench tools unavailable: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "### 200 sites every 5s (40.0 probes/s due; the rate of 12,000 sites every 5m)" in out
    names = {
        "bare": "bare aiohttp loop",
        "blackbox": "blackbox_exporter",
        "sqlite": "uptimeguard (sqlite)",
        "postgres": "uptimeguard (postgres)",
    }
    for system in systems:
        row = re.search(rf"^\| {re.escape(names[system])} \| ([^|]+) \| ([^|]+) \|", out, re.M)
        assert row is not None, f"no row for {system}:\n{out}"
        rate, cpu = (cell.strip() for cell in row.groups())
        assert float(rate.replace(",", "")) > 10, row.group(0)  # 40 due: some window noise
        assert float(cpu) > 0, row.group(0)
    # Our rows carry the ratios to both references and a lag figure.
    ours = re.search(r"^\| uptimeguard \(sqlite\) \|(.*)$", out, re.M)
    assert ours is not None and ours.group(1).count("x |") == 2, out
    assert "ms" in ours.group(1)
