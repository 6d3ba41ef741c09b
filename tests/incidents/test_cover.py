"""Ad-hoc cover: acme's bundled `cover: [{from: 2026-12-20, to: 2027-01-04, plan: enhanced}]`.

Incidents opened in the period work under `enhanced` (07:00-22:00 every day, bank holidays
included); one opened the day after works under `standard` (Mon-Fri 08:00-18:00 without bank
holidays). London is on GMT in January, so local time is UTC. By hand, for a bug_fix (2 h
response, 1 working day resolution) opened at 20:00:

- Monday 4 January 2027 (the cover's last day): in enhanced hours; response after 2 business
  hours, 20:00-22:00, so 22:00; resolution the same time the next working day: Tue 5 Jan 20:00.
- Tuesday 5 January (the day after): out of standard hours, held over to Wednesday 08:00;
  response 10:00; resolution 1 working day from the opening: Wednesday 18:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from uptimeguard.config import load_config
from uptimeguard.config.cover import cover_bounds, plan_in_force
from uptimeguard.incidents.service import IncidentService
from uptimeguard.incidents.views import incident_dict
from uptimeguard.report import build_report, render
from uptimeguard.storage.repository import Store

BUNDLED = Path(__file__).resolve().parents[2] / "checks.yaml"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def config():  # type: ignore[no-untyped-def]
    return load_config(BUNDLED, env={})


def test_the_period_is_whole_local_days(config) -> None:  # type: ignore[no-untyped-def]
    acme = config.customer("acme")
    [cover] = acme.cover
    assert cover_bounds(config, acme, cover) == (utc(2026, 12, 20), utc(2027, 1, 5))
    assert plan_in_force(config, "acme", utc(2026, 12, 19, 23, 59))[0].id == "standard"
    assert plan_in_force(config, "acme", utc(2026, 12, 20))[0].id == "enhanced"
    assert plan_in_force(config, "acme", utc(2027, 1, 4, 23, 59))[0].id == "enhanced"
    assert plan_in_force(config, "acme", utc(2027, 1, 5))[0].id == "standard"
    assert plan_in_force(config, "globex", utc(2026, 12, 25)) == (config.plans["gold"], None)


async def test_cover_plan_deadlines_then_the_normal_plan_the_day_after(
    store: Store,
    config,  # type: ignore[no-untyped-def]
) -> None:
    service = IncidentService(store, config)
    during = await service.open_manual(
        "acme", "www", "bug_fix", "checkout fails", utc(2027, 1, 4, 20, 0)
    )
    assert (during.plan, during.cover) == ("enhanced", "2026-12-20..2027-01-04")
    assert not during.held_over
    assert during.response_due == utc(2027, 1, 4, 22, 0)
    assert during.resolution_due == utc(2027, 1, 5, 20, 0)
    await service.resolve(during.id, "alice", utc(2027, 1, 4, 21, 0))

    after = await service.open_manual(
        "acme", "www", "bug_fix", "checkout fails again", utc(2027, 1, 5, 20, 0)
    )
    assert (after.plan, after.cover) == ("standard", None)
    assert after.held_over and after.clock_starts_at == utc(2027, 1, 6, 8, 0)
    assert after.response_due == utc(2027, 1, 6, 10, 0)
    assert after.resolution_due == utc(2027, 1, 6, 18, 0)

    # The API shows the cover; the timeline says so.
    shown = incident_dict(during)
    assert shown["cover"] == {"period": "2026-12-20..2027-01-04", "plan": "enhanced"}
    assert shown["sla"]["plan"] == "enhanced"
    assert incident_dict(after)["cover"] is None
    opened = (await store.events(during.id))[0]
    assert "under plan enhanced: ad-hoc cover 2026-12-20..2027-01-04" in opened.message

    # So does the report.
    report = await build_report(store, config, "acme", "2027-01", utc(2027, 1, 31))
    data = json.loads(render(report, "json"))
    lines = {i["id"]: i for i in data["incidents"]}
    assert lines[during.id]["cover"] == "2026-12-20..2027-01-04"
    assert lines[during.id]["plan"] == "enhanced"
    assert lines[during.id]["response"]["target"] == "2h"
    assert lines[after.id]["cover"] is None and lines[after.id]["plan"] == "standard"
    text = render(report, "text")
    assert f"#{during.id} opened in ad-hoc cover 2026-12-20..2027-01-04" in text
    assert "bug_fix (cover: plan enhanced)" in text
    assert "ad-hoc cover 2026-12-20..2027-01-04, plan enhanced" in render(report, "html")
    assert "enhanced,2026-12-20..2027-01-04" in render(report, "csv")


async def test_an_incident_open_when_cover_begins_keeps_its_plan(
    store: Store,
    config,  # type: ignore[no-untyped-def]
) -> None:
    service = IncidentService(store, config)
    before = await service.site_failing("acme", "www", "http_5xx", utc(2026, 12, 19, 20, 0))
    assert before is not None and before.plan == "standard"
    upgraded = await service.site_failing("acme", "www", "down", utc(2026, 12, 20, 10, 0))
    assert upgraded is not None
    assert (upgraded.plan, upgraded.severity, upgraded.cover) == (
        "standard", "mission_critical", None,
    )  # fmt: skip
