"""The daemon end to end: a site turns to 500, then refuses connections, then recovers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from support import TargetSite, eventually, free_port, get_json

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  standard:
    calendar: always
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
      bug_fix: {{response: 2h, resolution: 1d}}
    causes: {{down: mission_critical, http_5xx: bug_fix, content: bug_fix}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - id: www
        url: {url}
        expect: {{status: 200, body_contains: Welcome}}
"""


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
async def target():
    site = TargetSite()
    await site.start()
    yield site
    await site.stop()


async def test_outage_opens_upgrades_and_resolves(target: TargetSite, tmp_path: Path):
    config = load_config_text(CHECKS.format(url=target.url), path="checks.yaml")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        listen=f"127.0.0.1:{free_port()}",
        write_interval_seconds=0.2,
    )
    async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{daemon.port}"

        async def site() -> dict:
            return (await get_json(http, f"{base}/api/v1/sites"))["sites"][0]

        async def incidents() -> list[dict]:
            return (await get_json(http, f"{base}/api/v1/incidents"))["incidents"]

        await eventually(site, lambda s: s["state"] == "up")

        target.mode = "500"
        turned_500 = datetime.now().astimezone()
        opened = (await eventually(incidents, lambda items: len(items) == 1))[0]
        assert (opened["severity"], opened["cause"], opened["status"]) == (
            "bug_fix",
            "http_5xx",
            "open",
        )
        opened_at = parse(opened["opened_at"])
        # confirm = 2: the second failing probe (a recheck 1 s after the first) opens it.
        assert timedelta(0) < opened_at - turned_500 < timedelta(seconds=4)
        assert parse(opened["sla"]["response_due"]) == opened_at + timedelta(hours=2)
        # `1d` on an always-open business calendar: the same time on the next working day.
        assert parse(opened["sla"]["resolution_due"]) == opened_at + timedelta(days=1)
        assert opened["held_over"] is False
        assert (await site())["state"] == "down"

        await target.stop()  # connections are now refused
        upgraded = await eventually(
            incidents, lambda items: items[0]["severity"] == "mission_critical"
        )
        incident = upgraded[0]
        assert incident["id"] == opened["id"] and incident["cause"] == "down"
        detail = await get_json(http, f"{base}/api/v1/incidents/{incident['id']}")
        upgrade_event = next(e for e in detail["timeline"] if e["kind"] == "upgraded")
        upgraded_at = parse(upgrade_event["at"])
        assert upgraded_at > opened_at
        # Each deadline is the earlier of the current one and the new severity's.
        assert parse(incident["sla"]["response_due"]) == upgraded_at + timedelta(minutes=15)
        assert parse(incident["sla"]["resolution_due"]) == upgraded_at + timedelta(hours=4)
        site_now = await site()
        assert site_now["open_incident"] == incident["id"]
        assert site_now["last_outcome"] == "refused"

        target.mode = "ok"
        await target.start()
        resolved = (await eventually(incidents, lambda items: items[0]["status"] == "resolved"))[0]
        assert resolved["resolved_by"] == "monitor"
        assert parse(resolved["resolved_at"]) > upgraded_at
        assert resolved["sla"]["response_breached"] is False
        assert (await site())["state"] == "up"

        detail = await get_json(http, f"{base}/api/v1/incidents/{incident['id']}")
        kinds = [event["kind"] for event in detail["timeline"]]
        assert kinds[0] == "opened" and "upgraded" in kinds and kinds[-1] == "resolved"

    # Everything is in the database after a clean stop.
    async with running_daemon(settings, config) as again:
        stored = await again.store.incidents()
        assert [(i.severity, i.status) for i in stored] == [("mission_critical", "resolved")]
        # Raw rows of what changed (healthy probes live in the daily rollups): the first
        # result, the HTTP 500s, the refusals and the recovery, in that order.
        stored_results = await again.store.results_for_site("acme", "www")
        outcomes = [r.outcome for r in sorted(stored_results, key=lambda r: r.checked_at)]
        changes = [o for i, o in enumerate(outcomes) if i == 0 or o != outcomes[i - 1]]
        assert changes == ["up", "http_5xx", "refused", "up"], outcomes
