"""A short run of the route fuzzer (bench/fuzz_routes.py): a few hundred Hypothesis cases over
every route the app's router lists, on a seeded daemon, with no 5xx and nothing logged as an
unhandled error. The 100,000-case runs are in bench/RESULTS.md; this keeps the script working
and catches a new route that answers 500 to the first things thrown at it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")
CASES = 250


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database")
    import asyncio

    import asyncpg

    name = f"ug_fuzz_{uuid.uuid4().hex[:10]}"
    server = PG_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(server)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_every_route_fuzzed_without_a_server_error(database: str, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "bench.fuzz_routes", "--cases", str(CASES), "--seed", "1"]
    argv += ["--database", database, "--log", str(tmp_path / "daemon.log")]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
    out = done.stdout
    assert done.returncode == 0, out[-4000:] + done.stderr[-4000:]
    head = re.search(r"fuzz_routes: ([\d,]+) cases over (\d+) routes", out)
    assert head is not None, out
    assert int(head.group(1).replace(",", "")) >= CASES
    routes = int(head.group(2))
    assert routes >= 40  # every route of the app: the admin API, pages, webhooks, probes
    for route in ("POST /api/v1/incidents", "POST /twilio/status/{page_id}", "GET /status/{slug}"):
        assert route in out, out
    assert "server errors (5xx, timeouts, failed connections): 0;" in out
    assert "errors the server logged: 0" in out
