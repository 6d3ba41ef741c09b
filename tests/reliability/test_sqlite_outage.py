"""SQLite made unwritable during a run: probes go on, results wait in the buffer, the incident
that opened meanwhile is stored with its true time, /readyz says 503 and then 200 again; and
with a small buffer and a long outage the oldest results are dropped and counted, while
incidents and pages never are.

The outage is another connection holding SQLite's write lock (`BEGIN EXCLUSIVE`), which is
what a second process writing to the file, or a backup tool locking it, does. (Taking away
the file's write permission does not work as a test: the tests may run as root, who ignores
permissions, and a connection already open keeps writing anyway.) Readers are not blocked in
WAL mode, so the admin API and status pages keep answering from the database; every writer
waits its busy timeout (`UPTIMEGUARD_SQLITE_BUSY_TIMEOUT_SECONDS`, 30 s) and then fails with
"database is locked", and each write path retries. Readiness follows the writes: `/readyz`
is 503 while the result writer's last write failed, even though `SELECT 1` still answers. So
the outage here (`UPTIMEGUARD_TEST_SQLITE_OUTAGE_SECONDS`, 40 s) outlasts the busy timeout;
a shorter lock only makes writes wait, and nothing fails at all.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from fake_twilio import FROM, SID, TOKEN, FakeTwilio
from reliability_support import SqliteLock, closed_today, scrape, total
from sqlalchemy import func, select
from support import TargetSite, eventually, free_port

from uptimeguard.app import Daemon, running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings
from uptimeguard.storage.models import IncidentRow, ProbeResultRow

OUTAGE = float(os.environ.get("UPTIMEGUARD_TEST_SQLITE_OUTAGE_SECONDS", "40"))

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  office: {{timezone: UTC, hours: {{{open_day}: "08:00-18:00"}}}}
plans:
  p:
    calendar: office
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
    causes: {{down: mission_critical, http_5xx: mission_critical}}
people:
  alice: {{name: Alice Smith, phone: "+447700900001"}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 1h}}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
{sites}
"""


def checks(url: str, failing: int, steady: int) -> str:
    """`failing` sites at `url` (they follow the target's mode) and `steady` ones under
    /steady (always 200)."""
    lines = [f'      - {{id: www{i}, url: "{url}www{i}"}}' for i in range(failing)]
    lines += [f'      - {{id: steady{i}, url: "{url}steady/{i}"}}' for i in range(steady)]
    return CHECKS.format(open_day=closed_today(), sites="\n".join(lines))


@pytest.fixture
async def target() -> AsyncIterator[TargetSite]:
    site = TargetSite()
    await site.start()
    yield site
    await site.stop()


def settings_for(tmp_path: Path, twilio: FakeTwilio, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        listen=f"127.0.0.1:{free_port()}",
        write_interval_seconds=0.2,
        keep_all_results=True,  # every probe's raw row goes through the write buffer
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=FROM,
        twilio_api_base=twilio.url,
        **extra,
    )


async def stored(daemon: Daemon, since: datetime, until: datetime, prefix: str = "") -> int:
    async with daemon.store.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ProbeResultRow)
            .where(
                ProbeResultRow.site.startswith(prefix),
                ProbeResultRow.checked_at > since,
                ProbeResultRow.checked_at < until,
            )
        )
    return int(count or 0)


async def flushed(daemon: Daemon) -> bool:
    writer = daemon.writer  # nothing queued, nothing still being written
    return writer.pending == 0 and writer.in_flight == 0 and writer.healthy


async def test_locked_sqlite_loses_nothing(tmp_path: Path, target: TargetSite, twilio):
    config = load_config_text(checks(target.url, failing=1, steady=1))
    settings = settings_for(tmp_path, twilio)
    assert settings.sqlite_busy_timeout_seconds == 30.0  # the daemon's default, tested as is
    lock = SqliteLock(tmp_path / "guard.db")
    async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{daemon.port}"

        async def ready() -> int:
            async with http.get(f"{base}/readyz") as response:
                return response.status

        def state(site: str) -> str:
            return daemon.monitor.sites[("acme", site)].tracker.state

        async def states() -> tuple[str, str]:
            return state("www0"), state("steady0")

        await eventually(states, lambda s: s == ("up", "up"))
        assert await ready() == 200

        await lock.take()
        locked_at = datetime.now(UTC)
        await asyncio.sleep(2)
        target.mode = "500"  # the site breaks while the database is locked
        await eventually(states, lambda s: s[0] == "down", timeout=15)
        confirmed_by = datetime.now(UTC)

        # The writer finds out when its busy timeout (30 s) runs out; readiness follows.
        await eventually(ready, lambda status: status == 503, timeout=OUTAGE)
        detected = (datetime.now(UTC) - locked_at).total_seconds()

        # Reads still work (WAL): the admin API answers, and shows the monitor's view.
        async with http.get(f"{base}/api/v1/sites") as response:
            assert response.status == 200
            sites = {s["id"]: s for s in (await response.json())["sites"]}
        assert sites["www0"]["state"] == "down"

        remaining = OUTAGE - (datetime.now(UTC) - locked_at).total_seconds()
        if remaining > 0:
            await asyncio.sleep(remaining)
        assert daemon.writer.pending > 0 and not daemon.writer.healthy
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
        assert twilio.sent == []  # paging cannot even read the incident: it does not exist
        released_at = datetime.now(UTC)
        await lock.release()

        await eventually(ready, lambda status: status == 200, timeout=15)
        back = (datetime.now(UTC) - released_at).total_seconds()
        incidents = await eventually(
            daemon.store.incidents, lambda rows: len(rows) == 1, timeout=15
        )
        incident = incidents[0]
        # Opened when the monitor confirmed the failure, during the outage, not on return.
        assert locked_at < incident.opened_at <= confirmed_by + timedelta(seconds=1)
        assert incident.opened_at < released_at
        assert (incident.site, incident.cause) == ("www0", "http_5xx")
        # Paging picks it up once the database is back: one SMS, once.
        await eventually(lambda: _count(twilio), lambda n: n == 1, timeout=15)

        await eventually(lambda: flushed(daemon), lambda done: done, timeout=15)
        during = await stored(daemon, locked_at, released_at, prefix="steady")
        async with daemon.store.sessions() as session:
            opened = await session.scalar(select(func.count()).select_from(IncidentRow))
        # The steady site was probed every 2 s all through the outage, and every result
        # reached the database afterwards.
        assert during >= OUTAGE / 2 * 0.8
        assert opened == 1
        assert daemon.writer.dropped == 0
        samples = await scrape(http, base)
        assert total(samples, "uptimeguard_results_dropped_total") == 0
        print(
            f"\nsqlite lock {OUTAGE:.0f}s: 503 after {detected:.1f}s, 200 again "
            f"{back:.1f}s after release; {during} results of the steady site from the "
            f"outage stored afterwards, 0 dropped; incident opened "
            f"{(incident.opened_at - locked_at).total_seconds():.1f}s into the outage"
        )
    lock.close()
    assert len(twilio.sent) == 1


async def _count(twilio: FakeTwilio) -> int:
    return len(twilio.sent)


async def test_a_full_buffer_drops_the_oldest_results_never_incidents_or_pages(
    tmp_path: Path, target: TargetSite, twilio
):
    """80 sites probed every 2 s (40 results/s) against a buffer of 100 (2.5 s) and a
    15 s outage: most results of the outage are dropped, oldest first, and counted; all
    three incidents that opened during it are stored and paged."""
    config = load_config_text(checks(target.url, failing=3, steady=77))
    settings = settings_for(tmp_path, twilio, write_buffer_limit=100)
    lock = SqliteLock(tmp_path / "guard.db")
    outage = 15.0  # the writer waits on the lock all along; the buffer fills behind it
    async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{daemon.port}"

        async def down() -> int:
            sites = daemon.monitor.sites.values()
            return sum(live.tracker.state == "down" for live in sites)

        async def up() -> int:
            return sum(live.tracker.state == "up" for live in daemon.monitor.sites.values())

        await eventually(up, lambda n: n == 80)
        await lock.take()
        locked_at = datetime.now(UTC)
        target.mode = "500"
        await eventually(down, lambda n: n == 3, timeout=15)
        await asyncio.sleep(outage - (datetime.now(UTC) - locked_at).total_seconds())

        samples = await scrape(http, base)
        dropped_during = total(samples, "uptimeguard_results_dropped_total")
        buffered = total(samples, "uptimeguard_results_buffered")
        assert 0 < dropped_during <= daemon.writer.dropped  # it may have grown since
        assert buffered <= 100
        assert await daemon.store.incidents() == []  # none stored yet, none lost either
        released_at = datetime.now(UTC)
        await lock.release()

        incidents = await eventually(
            daemon.store.incidents, lambda rows: len(rows) == 3, timeout=20
        )
        assert all(locked_at < i.opened_at < released_at for i in incidents)
        assert {i.site for i in incidents} == {"www0", "www1", "www2"}
        await eventually(lambda: _count(twilio), lambda n: n == 3, timeout=20)
        bodies = sorted(s.form["Body"] for s in twilio.sent)
        assert bodies == sorted({b for b in bodies})  # three different pages, none twice
        for incident in incidents:
            assert sum(f"Incident {incident.id}:" in b for b in bodies) == 1
        await eventually(lambda: flushed(daemon), lambda done: done, timeout=15)

        # Oldest first: nothing is stored from early in the outage, while the last seconds
        # before the release are there.
        early = await stored(
            daemon, locked_at + timedelta(seconds=1), locked_at + timedelta(seconds=5)
        )
        late = await stored(daemon, released_at - timedelta(seconds=1.5), released_at)
        assert early == 0
        assert late > 0
        dropped = daemon.writer.dropped
    lock.close()

    # Every probe is either stored or counted as dropped: none vanished unaccounted for.
    probes = total(samples, "uptimeguard_probes_total")  # as of the scrape during the outage
    async with daemon.store.sessions() as session:
        rows = int(await session.scalar(select(func.count()).select_from(ProbeResultRow)) or 0)
    final = daemon.metrics.registry
    probed = sum(
        s.value
        for metric in final.collect()
        if metric.name == "uptimeguard_probes"
        for s in metric.samples
        if s.name == "uptimeguard_probes_total"
    )
    assert probed >= probes
    assert rows + dropped == probed
    assert len(twilio.sent) == 3
    print(
        f"\nbuffer of 100, {outage:.0f}s lock, 80 sites every 2s: {int(probed)} probes, "
        f"{rows} stored, {dropped} dropped (oldest first), 3 incidents and 3 SMS, none lost"
    )
