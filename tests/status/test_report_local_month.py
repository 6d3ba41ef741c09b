"""The monthly report and the page's days in the customer's time: a London customer in March.

March 2026 in Europe/London runs from Sun 1 Mar 00:00 GMT (00:00 UTC) to Wed 1 Apr 00:00 BST
(31 Mar 23:00 UTC): 31 days, one of them (Sun 29 Mar, when the clocks go forward at 01:00 GMT)
23 hours long, so the month is 743 hours = 2,674,800 s. One site, probed every 5 minutes from
28 Feb 22:00 to 1 Apr 02:00 UTC, with three outages (connections refused):

- A, across the month's start: 28 Feb 23:30 - 1 Mar 00:30 UTC; March holds 00:00-00:30: 1,800 s;
- B, across the change of clocks: 29 Mar 00:30 GMT - 03:30 BST (00:30 - 02:30 UTC): three
  hours on the wall clock, 7,200 s of time;
- C, across the month's end: 31 Mar 23:30 BST - 1 Apr 01:30 BST (22:30 - 00:30 UTC); March
  holds 23:30-24:00 BST: 1,800 s. (A UTC month would hold 5,400 s of it.)

By hand: down = 1,800 + 7,200 + 1,800 = 10,800 s; up = 2,674,800 - 10,800 = 2,664,000 s;
uptime = 2,664,000 / 2,674,800 = 99.59623...%, shown rounded down as 99.596%. Longest outage: B,
7,200 s from 29 Mar 00:30 UTC. Sunday 29 March's row holds 23 hours (82,800 s) of time.
An incident opened at 23:40 BST on 31 March (22:40 UTC) is in March's report; one opened at
00:10 BST on 1 April (23:10 UTC on 31 March) is April's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from uptimeguard.config import load_config_text
from uptimeguard.incidents.service import IncidentService
from uptimeguard.report import build_report
from uptimeguard.status.rollup_job import roll_up
from uptimeguard.storage.repository import Store

CHECKS = """
defaults: {interval: 5m, timeout: 10s, confirm: 2, recover: 2}
calendars:
  uk-office:
    timezone: Europe/London
    hours: {mon-fri: "08:00-18:00"}
    holidays: england-and-wales
plans:
  standard:
    calendar: uk-office
    severities:
      query: {response: 8h, resolution: 10d}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    status_page: {slug: acme}
    sites:
      - id: www
        url: https://www.acme.example/
"""
CONFIG = load_config_text(CHECKS, path="checks.yaml")
NOW = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


OUTAGES = [
    (utc(2, 28, 23, 30), utc(3, 1, 0, 30)),
    (utc(3, 29, 0, 30), utc(3, 29, 2, 30)),
    (utc(3, 31, 22, 30), utc(4, 1, 0, 30)),
]


def results() -> list[dict]:
    rows = []
    moment = utc(2, 28, 22)
    while moment < utc(4, 1, 2):
        down = any(start <= moment < end for start, end in OUTAGES)
        rows.append(
            {
                "customer": "acme",
                "site": "www",
                "checked_at": moment,
                "outcome": "refused" if down else "up",
                "status_code": None if down else 200,
                "total_seconds": 0.1,
                "error": None,
                "in_maintenance": False,
            }
        )
        moment += timedelta(minutes=5)
    return rows


async def test_a_london_march_report_counts_local_days_and_the_23_hour_day(store: Store) -> None:
    await store.insert_results(results())
    service = IncidentService(store, CONFIG)
    march = await service.open_manual("acme", None, "query", "Late question", utc(3, 31, 22, 40))
    april = await service.open_manual("acme", None, "query", "April question", utc(3, 31, 23, 10))
    await roll_up(store, CONFIG, NOW)

    report = await build_report(store, CONFIG, "acme", "2026-03", NOW)

    assert (report.start, report.end) == (utc(3, 1, 0), utc(3, 31, 23))
    (site,) = report.sites
    assert site.down_seconds == 10_800
    assert site.up_seconds == 2_674_800 - 10_800
    assert site.uptime_percent == 99.596
    assert (site.longest_outage_seconds, site.longest_outage_started_at) == (
        7_200,
        utc(3, 29, 0, 30),
    )
    assert [i.id for i in report.incidents] == [march.id]
    assert april.id not in [i.id for i in report.incidents]

    days = {r.day: r for r in await store.rollups("acme", date(2026, 3, 1), date(2026, 3, 31))}
    assert len(days) == 31
    short = days[date(2026, 3, 29)]
    assert short.up_seconds + short.down_seconds == 23 * 3600
    assert short.down_seconds == 7_200
    assert days[date(2026, 3, 31)].down_seconds == 1_800
    assert all(
        r.up_seconds + r.down_seconds == 24 * 3600 for d, r in days.items() if d.day not in (29,)
    )

    april_report = await build_report(store, CONFIG, "acme", "2026-04", NOW)
    (april_site,) = april_report.sites
    # April 1, 00:00-01:30 BST down (23:00-00:30 UTC): 5,400 s, up to the last result's span.
    assert april_site.down_seconds == 5_400
