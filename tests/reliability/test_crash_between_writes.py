"""A crash that lands between the site's state being written and its incident being resolved.

`Monitor.probe_site` hands the probe result and the site's new state to the batched writer
(`_remember`), then awaits the incident service (`_tell_incidents`). The writer flushes on its
own timer, so the state `up` (two good probes in a row) can be committed before the
incident's resolution is. A SIGKILL between the two leaves the database saying: site up,
incident open. Restoring the tracker from `site_states` alone would see a site that is up
and never signal a recovery, so `Monitor.start` marks every site with an open incident of
its own as down: the next good probes resolve it.

The kill loop in test_restarts.py can land there only by chance (a window of milliseconds per
recovery), so this test builds the state the kill would leave, directly, and restarts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import update
from support import TargetSite, eventually, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings
from uptimeguard.storage.models import SiteStateRow

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  p:
    calendar: always
    severities: {{bug_fix: {{response: 2h, resolution: 1d}}}}
    causes: {{http_5xx: bug_fix, down: bug_fix}}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
      - {{id: www, url: "{url}"}}
"""


async def test_an_incident_left_open_by_a_crash_resolves_when_the_site_is_up(tmp_path: Path):
    target = TargetSite()
    await target.start()
    target.mode = "500"
    config = load_config_text(CHECKS.format(url=target.url))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        listen=f"127.0.0.1:{free_port()}",
        write_interval_seconds=0.2,
    )
    try:
        async with running_daemon(settings, config) as daemon:
            await eventually(daemon.store.incidents, lambda rows: len(rows) == 1)
            daemon.monitor.scheduler.remove(("acme", "www"))  # no more probes, then
            await asyncio.sleep(2)  # the one in flight ends and the writer flushes it
            # What the writer had flushed when the kill came: two good probes, state up.
            # (The incident's resolution, awaited after it, never committed.)
            async with daemon.store.sessions.begin() as session:
                await session.execute(
                    update(SiteStateRow).values(
                        state="up", failures=0, successes=2, last_outcome="up"
                    )
                )
            assert daemon.writer.pending == 0
        target.mode = "ok"
        async with running_daemon(settings, config) as daemon:

            async def open_incidents() -> int:
                return len([i for i in await daemon.store.incidents() if i.resolved_at is None])

            # The site is up and probed every 2 s: two good probes resolve an incident.
            await eventually(open_incidents, lambda n: n == 0, timeout=8)
    finally:
        await target.stop()
