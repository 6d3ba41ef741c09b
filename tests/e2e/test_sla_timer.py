"""A breach is recorded when its deadline passes, by a timer, with nobody looking."""

from __future__ import annotations

from pathlib import Path

from support import eventually, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

CHECKS = """
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  fast:
    calendar: always
    severities:
      urgent: {response: 2s, resolution: 4s, clock: 24x7, out_of_hours: true}
customers:
  - id: acme
    name: Acme
    plan: fast
    sites: []
"""


async def test_breaches_recorded_at_the_deadline(tmp_path: Path):
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'timer.db'}",
        listen=f"127.0.0.1:{free_port()}",
    )
    async with running_daemon(settings, load_config_text(CHECKS)) as daemon:
        now = daemon.housekeeping._clock.now()
        incident = await daemon.incidents.open_manual("acme", None, "urgent", "Down", now)

        async def stored():  # type: ignore[no-untyped-def]
            return await daemon.store.incident(incident.id)

        row = await eventually(stored, lambda r: r.resolution_breached_at is not None, timeout=15)
        # Recorded at the deadline itself, each once, with a timeline entry each.
        assert row.response_breached_at == row.response_due
        assert row.resolution_breached_at == row.resolution_due
        breaches = [e for e in await daemon.store.events(incident.id) if e.kind == "breach"]
        assert [(e.data["target"], e.at) for e in breaches] == [
            ("response", row.response_due),
            ("resolution", row.resolution_due),
        ]
        counter = daemon.metrics.sla_breaches.labels("acme", "urgent", "response")
        assert counter._value.get() == 1
