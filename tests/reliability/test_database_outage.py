"""PostgreSQL goes away for a while during a run: probes go on, nothing is lost.

The outage is injected with a TCP relay in front of the real server (`TcpProxy`): cutting it
resets every open connection and refuses new ones, which is what the daemon sees when
PostgreSQL stops. Its length is `UPTIMEGUARD_TEST_OUTAGE_SECONDS` (default 20 s; the figures
in docs/RELIABILITY.md come from a 60 s run).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import pytest
from sqlalchemy import func, select
from support import TargetSite, TcpProxy, eventually, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings
from uptimeguard.storage.models import IncidentRow, ProbeResultRow

PG_URL = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")
OUTAGE = float(os.environ.get("UPTIMEGUARD_TEST_OUTAGE_SECONDS", "20"))

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  p:
    calendar: always
    severities: {{bug_fix: {{response: 2h, resolution: 1d}}}}
    causes: {{down: bug_fix, http_5xx: bug_fix}}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
      - {{id: www, url: "{url}"}}
      - {{id: steady, url: "{url}steady"}}
"""

pytestmark = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database",
)


@pytest.fixture
async def database():
    """A database of its own on the test server, reached through a relay the test can cut."""
    name = f"ug_outage_{uuid.uuid4().hex[:10]}"
    server = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    host_part = server.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_part.partition(":")
    proxy = TcpProxy(host, int(port or 5432))
    await proxy.restore()
    user = server.split("//", 1)[1].split("@", 1)[0]
    yield proxy, f"postgresql+asyncpg://{user}@127.0.0.1:{proxy.port}/{name}"
    await proxy.cut()
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_database_outage_loses_nothing(database, tmp_path):
    proxy, url = database
    target = TargetSite()
    await target.start()
    config = load_config_text(CHECKS.format(url=target.url))
    settings = Settings(
        database_url=url,
        listen=f"127.0.0.1:{free_port()}",
        write_interval_seconds=0.2,
        keep_all_results=True,  # every probe's raw row goes through the write buffer
    )
    async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{daemon.port}"

        async def ready() -> int:
            async with http.get(f"{base}/readyz") as response:
                return response.status

        def state(site: str) -> str:
            return daemon.monitor.sites[("acme", site)].tracker.state

        async def states() -> tuple[str, str]:
            return state("www"), state("steady")

        await eventually(states, lambda s: s == ("up", "up"))
        assert await ready() == 200

        await proxy.cut()
        cut_at = datetime.now(UTC)
        await eventually(ready, lambda status: status == 503, timeout=15)
        detected = (datetime.now(UTC) - cut_at).total_seconds()

        target.mode = "500"  # the outage starts while the database is away
        await eventually(states, lambda s: s[0] == "down", timeout=15)
        confirmed_by = datetime.now(UTC)

        remaining = OUTAGE - (datetime.now(UTC) - cut_at).total_seconds()
        if remaining > 0:
            await asyncio.sleep(remaining)
        assert daemon.writer.pending > 0 and not daemon.writer.healthy
        held = daemon.writer.pending
        healthz = await http.get(f"{base}/healthz")
        assert healthz.status == 200  # the process carried on
        restored_at = datetime.now(UTC)
        await proxy.restore()

        await eventually(ready, lambda status: status == 200, timeout=30)
        back = (datetime.now(UTC) - restored_at).total_seconds()
        incidents = await eventually(
            daemon.store.incidents, lambda rows: len(rows) == 1, timeout=30
        )
        incident = incidents[0]
        # Opened at the moment the monitor confirmed it, during the outage, not on return.
        assert cut_at < incident.opened_at <= confirmed_by + timedelta(seconds=1)
        assert incident.opened_at < restored_at
        assert (incident.site, incident.cause) == ("www", "http_5xx")

        await eventually(lambda: _flushed(daemon), lambda done: done, timeout=30)
        async with daemon.store.sessions() as session:
            during = await session.scalar(
                select(func.count())
                .select_from(ProbeResultRow)
                .where(
                    ProbeResultRow.site == "steady",
                    ProbeResultRow.checked_at > cut_at,
                    ProbeResultRow.checked_at < restored_at,
                )
            )
            opened = await session.scalar(select(func.count()).select_from(IncidentRow))
        # The steady site was probed every 2 s all through the outage, and every result of
        # it reached the database afterwards.
        assert during >= (OUTAGE / 2) * 0.8
        assert opened == 1
        assert daemon.writer.dropped == 0
        print(
            f"\npostgresql outage {OUTAGE:.0f}s: 503 after {detected:.1f}s, 200 again "
            f"{back:.1f}s after restore; {held} results held at the end of the outage, "
            f"{during} steady-site results from the outage stored afterwards, 0 dropped; "
            f"incident opened {(incident.opened_at - cut_at).total_seconds():.1f}s into it"
        )
    await target.stop()


async def _flushed(daemon) -> bool:  # type: ignore[no-untyped-def]
    writer = daemon.writer  # nothing queued, nothing still being written
    return writer.pending == 0 and writer.in_flight == 0 and writer.healthy
