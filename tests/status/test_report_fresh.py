"""A report asked for right after an outage counts it, though the daemon has not rolled it up.

The daemon folds probe results into the daily rollups every few minutes; a report read the
rollups alone, so just after an outage it listed the incident with "down 0 s". It now folds,
in memory, the results stored since the last rollup (writing nothing).

1 December 2026 (UTC; London is on GMT): probes every 5 minutes from 00:00, up until 00:30,
connections refused from 00:35 to 00:55. The daemon rolled up at 00:30 (to 00:29, a minute
of grace). At 01:00 the report counts, as the daemon's next run would, up to a minute ago.
By hand: up 00:00-00:35 = 2,100 s; down 00:35-00:59 = 1,440 s (the last result, at 00:55,
speaks for up to two intervals and a timeout, so up to 00:59); uptime 2,100 / 3,540 =
59.322%.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from uptimeguard.config import load_config_text
from uptimeguard.report import build_report
from uptimeguard.status.rollup_job import roll_up
from uptimeguard.storage.repository import Store

CHECKS = """
defaults: {interval: 5m, timeout: 10s, confirm: 2, recover: 2}
calendars:
  uk-office: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}}
plans:
  standard:
    calendar: uk-office
    severities: {mission_critical: {response: 15m, resolution: 4h, clock: 24x7}}
    causes: {down: mission_critical}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {id: www, url: "https://www.acme.example/"}
  - id: beta
    name: Beta plc
    plan: standard
    sites:
      - {id: shop, url: "https://shop.beta.example/"}
"""
CONFIG = load_config_text(CHECKS, path="checks.yaml")
MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)


def results(until: datetime) -> list[dict]:
    rows = []
    moment = MIDNIGHT
    while moment < until:
        failing = moment >= MIDNIGHT + timedelta(minutes=35)
        for customer, site in (("acme", "www"), ("beta", "shop")):
            rows.append(
                {
                    "customer": customer,
                    "site": site,
                    "checked_at": moment,
                    "outcome": "refused" if failing and site == "www" else "up",
                    "status_code": None if failing and site == "www" else 200,
                    "total_seconds": 0.1,
                    "error": None,
                    "in_maintenance": False,
                }
            )
        moment += timedelta(minutes=5)
    return rows


async def test_the_report_counts_an_outage_not_yet_rolled_up(store: Store):
    await store.insert_results(results(MIDNIGHT + timedelta(minutes=31)))
    await roll_up(store, CONFIG, MIDNIGHT + timedelta(minutes=30))  # the daemon's last run
    await store.insert_results(
        [r for r in results(MIDNIGHT + timedelta(hours=1)) if r["checked_at"].minute > 30]
    )
    service_now = MIDNIGHT + timedelta(hours=1)
    before = await store.latest_rollups()

    report = await build_report(store, CONFIG, "acme", "2026-12", service_now)

    (site,) = report.sites
    assert site.up_seconds == 2100
    assert site.down_seconds == 1440
    assert site.uptime_percent == 59.322
    assert site.longest_outage_seconds == 1440
    assert site.longest_outage_started_at == MIDNIGHT + timedelta(minutes=35)
    assert site.probes == 12
    after = await store.latest_rollups()
    assert {k: r.accounted_to for k, r in after.items()} == {
        k: r.accounted_to for k, r in before.items()
    }  # nothing written: the daemon's rollups are its own


async def test_a_past_month_reads_the_rollups_as_they_are(store: Store):
    await store.insert_results(results(MIDNIGHT + timedelta(hours=1)))
    await roll_up(store, CONFIG, MIDNIGHT + timedelta(hours=1))
    report = await build_report(store, CONFIG, "acme", "2026-11", MIDNIGHT + timedelta(hours=1))
    (site,) = report.sites
    assert site.probes == 0 and site.down_seconds == 0


async def test_fresh_rows_of_two_locations_are_added_up_with_the_stored_ones(store: Store):
    """Probed from `eu` and `us`, each location's rollups written to 00:29 by its own nodes:
    the report at 01:00 holds both locations' time (twice one location's), with `eu`'s and
    `us`'s results since folded each into its own location's row."""
    rows = results(MIDNIGHT + timedelta(hours=1))
    for location in ("eu", "us"):
        await store.insert_results(
            [{**r, "location": location} for r in rows if r["checked_at"].minute <= 30]
        )
        await roll_up(store, CONFIG, MIDNIGHT + timedelta(minutes=30), location=location)
        await store.insert_results(
            [{**r, "location": location} for r in rows if r["checked_at"].minute > 30]
        )

    report = await build_report(store, CONFIG, "acme", "2026-12", MIDNIGHT + timedelta(hours=1))

    (site,) = report.sites
    assert (site.up_seconds, site.down_seconds) == (2 * 2100, 2 * 1440)
    assert site.uptime_percent == 59.322
    assert site.probes == 2 * 12
