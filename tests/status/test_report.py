"""The monthly SLA report on a month with a known outage, an SLA breach and maintenance.

November 2026 (30 days; Europe/London is on GMT, so local time is UTC). One site, probed every
5 minutes all month, with:

- maintenance every Sunday 02:00-04:00 (1, 8, 15, 22, 29 Nov): 5 x 2 h = 10 h, not counted,
  even on 15 Nov when the site refused connections during the window;
- outage A: connections refused Tue 10 Nov 03:00-05:00 (2 h), a mission_critical incident
  acknowledged after 10 minutes and resolved by the monitor: both targets met;
- outage B: HTTP 500 from Tue 17 Nov 10:00 to Wed 18 Nov 11:00 (25 h, across midnight), a
  bug_fix incident acknowledged late and resolved late: both targets breached;
- incident C: a customer's query opened Fri 27 Nov 17:00, acknowledged Mon 30 Nov 09:00
  (2 business hours, met), still open at the end of the month (resolution pending).

By hand: counted time = 30 x 86400 - 5 x 7200 = 2,556,000 s; down = 7,200 + 90,000 =
97,200 s; uptime = 2,458,800 / 2,556,000 = 96.19718...%. Longest outage 25 h from 17 Nov
10:00. Response met 2 of 3 (66.67%); resolution met 1 of 2 decided (50%), 1 pending.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from uptimeguard.cli import main
from uptimeguard.config import load_config_text
from uptimeguard.incidents.service import IncidentService
from uptimeguard.monitor.maintenance import in_maintenance
from uptimeguard.report import build_report, render
from uptimeguard.report.model import ReportError, parse_month
from uptimeguard.status.rollup_job import roll_up
from uptimeguard.storage.database import make_engine, upgrade_schema
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
      mission_critical: {response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}
      bug_fix: {response: 2h, resolution: 1d}
      query: {response: 8h, resolution: 10d}
    causes: {down: mission_critical, http_5xx: bug_fix}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - id: www
        name: Acme website
        url: https://www.acme.example/
        maintenance:
          - {every: "sun 02:00", duration: 2h}
"""
CONFIG = load_config_text(CHECKS, path="checks.yaml")
SITE = CONFIG.customers[0].sites[0]
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def outcome_at(moment: datetime) -> str:
    if t(10, 3) <= moment < t(10, 5):
        return "refused"
    if t(17, 10) <= moment < t(18, 11):
        return "http_5xx"
    if t(15, 2, 30) <= moment < t(15, 3, 30):
        return "refused"  # inside the maintenance window: not counted
    return "up"


def month_of_results() -> list[dict]:
    rows = []
    moment = t(1, 0)
    while moment < t(1, 0, month=12):
        outcome = outcome_at(moment)
        rows.append(
            {
                "customer": "acme",
                "site": "www",
                "checked_at": moment,
                "outcome": outcome,
                "status_code": {"up": 200, "http_5xx": 500}.get(outcome),
                "total_seconds": 0.1,
                "error": None,
                "in_maintenance": in_maintenance(SITE.maintenance, "Europe/London", moment),
            }
        )
        moment += timedelta(minutes=5)
    return rows


async def make_month(store: Store) -> dict[str, int]:
    """The month's probe results, incidents (through the real service) and rollups."""
    await store.insert_results(month_of_results())
    service = IncidentService(store, CONFIG)
    before = await service.open_manual("acme", None, "query", "October question", t(30, 9, 0, 10))
    await service.resolve(before.id, "alice", t(30, 10, 0, 10))

    # A: the second refused probe (03:05) opens it; two good probes (05:00, 05:05) resolve it.
    a = await service.site_failing("acme", "www", "down", t(10, 3, 5))
    assert a is not None and a.response_due == t(10, 3, 20) and a.resolution_due == t(10, 7, 5)
    await service.acknowledge(a.id, "alice", t(10, 3, 15))
    await service.site_recovered("acme", "www", t(10, 5, 5))

    # B: 2 business hours to respond (due 12:05), 1 working day to resolve (Wed 10:05).
    b = await service.site_failing("acme", "www", "http_5xx", t(17, 10, 5))
    assert b is not None and b.response_due == t(17, 12, 5) and b.resolution_due == t(18, 10, 5)
    await service.check_breaches(t(17, 12, 6))
    await service.acknowledge(b.id, "bob", t(17, 13, 0))
    await service.site_recovered("acme", "www", t(18, 11, 5))

    # C: Fri 17:00 + 8 business hours = 1 h on Friday + 7 h on Monday: due Mon 30 Nov 15:00.
    c = await service.open_manual("acme", None, "query", "How do I export?", t(27, 17, 0))
    assert c.response_due == t(30, 15, 0)
    await service.acknowledge(c.id, "carol", t(30, 9, 0))

    await roll_up(store, CONFIG, NOW)
    return {"a": a.id, "b": b.id, "c": c.id}


async def test_report_for_a_month_with_an_outage_a_breach_and_maintenance(store: Store):
    ids = await make_month(store)
    report = await build_report(store, CONFIG, "acme", "2026-11", NOW)

    (site,) = report.sites
    counted = 30 * 86400 - 5 * 7200
    down = 2 * 3600 + 25 * 3600
    assert site.maintenance_seconds == 5 * 7200
    assert site.down_seconds == down
    assert site.up_seconds == counted - down
    assert site.uptime_percent == 96.197  # 2,458,800 / 2,556,000, rounded down
    assert site.longest_outage_seconds == 25 * 3600
    assert site.longest_outage_started_at == t(17, 10)

    assert [i.id for i in report.incidents] == [ids["a"], ids["b"], ids["c"]]
    a, b, c = report.incidents
    assert (a.severity, a.response.result, a.resolution.result) == (
        "mission_critical",
        "met",
        "met",
    )
    assert a.response.took_seconds == 600 and a.resolution.took_seconds == 2 * 3600
    assert (a.response.target, a.response.clock) == ("15m", "24x7")
    assert (b.severity, b.response.result, b.resolution.result) == (
        "bug_fix",
        "breached",
        "breached",
    )
    # Business time: Tue 10:05-13:00 = 2 h 55 min; Tue 10:05-18:00 + Wed 08:00-11:05 = 11 h.
    assert b.response.took_seconds == 2 * 3600 + 55 * 60
    assert b.resolution.took_seconds == 11 * 3600
    assert (c.severity, c.response.result, c.resolution.result) == ("query", "met", "pending")
    assert c.response.took_seconds == 2 * 3600 and c.resolution.took_seconds is None

    assert (report.response.met, report.response.breached, report.response.pending) == (2, 1, 0)
    assert report.response.percent == 66.67
    assert (report.resolution.met, report.resolution.breached) == (1, 1)
    assert report.resolution.pending == 1 and report.resolution.percent == 50.0

    text = render(report, "text")
    assert "96.197%" in text and "1 d 1 h from 17 Nov 2026 10:00 UTC" in text
    assert "response:   2 of 3 met (66.67%)" in text
    assert "resolution: 1 of 2 met (50%), 1 pending" in text

    data = json.loads(render(report, "json"))
    assert data["sites"][0]["uptime_percent"] == 96.197
    assert data["sites"][0]["longest_outage"] == {
        "seconds": 90000,
        "started_at": "2026-11-17T10:00:00Z",
    }
    assert data["targets_met"]["response"] == {
        "met": 2,
        "breached": 1,
        "pending": 0,
        "percent": 66.67,
    }
    assert data["incidents"][1]["response"]["due"] == "2026-11-17T12:05:00Z"

    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert [r["record"] for r in rows] == [
        "site",
        "incident",
        "incident",
        "incident",
        "target",
        "target",
        "nps",
    ]
    assert rows[6]["responses"] == "0" and rows[6]["nps"] == ""  # no survey answered
    assert rows[0]["uptime_percent"] == "96.197" and rows[0]["down_seconds"] == "97200"
    assert rows[2]["response_result"] == "breached" and rows[2]["response_target"] == "2h business"
    assert rows[5]["target"] == "resolution" and rows[5]["met_percent"] == "50.0"

    html = render(report, "html")
    assert "<table>" in html and "96.197%" in html and "66.67%" in html
    assert 'class="breached"' in html
    # People's names are internal even in the customer's report.
    for name in ("alice", "bob", "carol"):
        assert name not in text + html + json.dumps(data)


def test_month_parsing():
    assert parse_month("2026-12") == (t(1, 0, month=12), datetime(2027, 1, 1, tzinfo=UTC))
    for bad in ("2026-13", "2026-1", "26-11", "november"):
        with pytest.raises(ReportError, match="YYYY-MM"):
            parse_month(bad)


async def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'report.db'}"
    engine = make_engine(url)
    await upgrade_schema(engine)
    await make_month(Store(engine))
    await engine.dispose()
    checks = tmp_path / "checks.yaml"
    checks.write_text(CHECKS)
    monkeypatch.chdir(tmp_path)
    base = ["report", "--config", str(checks), "--database", url, "--customer", "acme"]

    markers = {
        "text": "96.197%",
        "json": '"uptime_percent": 96.197',
        "csv": "site,www,Acme website,96.197",
        "html": "<!doctype html>",
    }
    for fmt, marker in markers.items():
        code = await _run(main, [*base, "--month", "2026-11", "--format", fmt])
        out = capsys.readouterr().out
        assert code == 0 and marker in out, fmt

    assert await _run(main, [*base, "--month", "2026-13"]) == 2
    assert "--month: expected YYYY-MM" in capsys.readouterr().err
    code = await _run(main, [*base[:-1], "nobody", "--month", "2026-11"])
    assert code == 2 and "unknown customer 'nobody'" in capsys.readouterr().err


async def _run(func, argv):  # type: ignore[no-untyped-def]
    """The CLI calls asyncio.run, which cannot nest in this test's loop: use a thread."""
    import asyncio

    return await asyncio.to_thread(func, argv)
