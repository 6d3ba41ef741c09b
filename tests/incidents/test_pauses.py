"""Pausing the SLA clock: deadlines move exactly as the engine computes them, hand-checked on a
business calendar, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from uptimeguard.config import load_config_text
from uptimeguard.housekeeping import Housekeeping
from uptimeguard.incidents.errors import Conflict
from uptimeguard.incidents.service import IncidentChange, IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.report import build_report, render
from uptimeguard.storage.repository import Store

CHECKS = """
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
      bug_fix: {response: 8h, resolution: 16h}
    causes: {down: mission_critical, http_5xx: bug_fix}
customers:
  - id: acme
    name: Acme
    plan: standard
    sites:
      - {id: www, url: "http://127.0.0.1:9/"}
"""


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# November: London keeps GMT, so its wall clock reads UTC. Tue 24 Nov 10:00, in hours.
TUE_10 = utc(24, 10)


@pytest.fixture
def service(store: Store) -> IncidentService:
    return IncidentService(store, load_config_text(CHECKS))


@pytest.fixture
def changes(service: IncidentService) -> list[IncidentChange]:
    seen: list[IncidentChange] = []

    async def listen(change: IncidentChange) -> None:
        seen.append(change)

    service.subscribe(listen)
    return seen


async def test_a_pause_moves_deadlines_by_the_business_time_paused(
    service: IncidentService, store: Store, changes: list[IncidentChange]
) -> None:
    incident = await service.site_failing("acme", "www", "http_5xx", TUE_10)
    assert incident is not None
    # 8 business hours: Tue 10:00-18:00. 16: and Wed 08:00-16:00.
    assert (incident.response_due, incident.resolution_due) == (utc(24, 18), utc(25, 16))

    paused = await service.pause(incident.id, "alice", "waiting on the customer", utc(24, 16))
    assert paused.paused_at == utc(24, 16)
    assert (paused.response_due, paused.resolution_due) == (None, None)  # the clock stands
    # Past the old response deadline while paused: nothing is breached.
    assert await service.check_breaches(utc(25, 9)) == []

    resumed = await service.resume(incident.id, "bob", utc(25, 10))
    # Paused Tue 16:00-18:00 and Wed 08:00-10:00: 4 business hours (the night does not count).
    # Response: 2 h were left at 16:00, so Wed 10:00 + 2 h = 12:00. Resolution: 10 h were
    # left, Wed 10:00-18:00 is 8 and Thu 08:00-10:00 the other 2.
    assert (resumed.response_due, resumed.resolution_due) == (utc(25, 12), utc(26, 10))
    assert resumed.paused_at is None
    # Exactly what the engine says for this pause.
    expected = service.sla.deadlines("standard", "bug_fix", TUE_10, [(utc(24, 16), utc(25, 10))])
    assert (expected.response_due, expected.resolution_due) == (utc(25, 12), utc(26, 10))
    assert resumed.response_breached_at is None and resumed.resolution_breached_at is None

    (pause,) = await store.pauses(incident.id)
    assert (pause.started_at, pause.ended_at, pause.paused_by, pause.resumed_by) == (
        utc(24, 16), utc(25, 10), "alice", "bob",
    )  # fmt: skip
    assert pause.reason == "waiting on the customer"
    timeline = [e for e in await store.events(incident.id) if e.kind in ("paused", "resumed")]
    assert [(e.kind, e.at, e.by) for e in timeline] == [
        ("paused", utc(24, 16), "alice"),
        ("resumed", utc(25, 10), "bob"),
    ]
    assert timeline[0].message == "SLA clock paused by alice: waiting on the customer"
    assert timeline[1].message == (
        "SLA clock resumed by bob after 18 h paused (waiting on the customer); "
        "response due 2026-11-25T12:00:00Z, resolution due 2026-11-26T10:00:00Z"
    )
    assert [c.kind for c in changes] == ["opened", "paused", "resumed"]


async def test_pauses_add_up_and_a_night_moves_nothing(service: IncidentService) -> None:
    incident = await service.site_failing("acme", "www", "http_5xx", TUE_10)
    assert incident is not None
    # Tue 19:00 to Wed 07:30: the office is shut, no business time is paused.
    await service.pause(incident.id, "alice", "customer asleep", utc(24, 19))
    row = await service.resume(incident.id, "alice", utc(25, 7, 30))
    assert (row.response_due, row.resolution_due) == (utc(24, 18), utc(25, 16))
    # Wed 09:00-09:45 then 11:00-11:15: an hour of business time in all.
    await service.pause(incident.id, "alice", "waiting for logs", utc(25, 9))
    await service.resume(incident.id, "alice", utc(25, 9, 45))
    await service.pause(incident.id, "alice", "waiting for logs again", utc(25, 11))
    row = await service.resume(incident.id, "alice", utc(25, 11, 15))
    assert row.resolution_due == utc(25, 17)
    # The response deadline (Tue 18:00) passed before these pauses: it stays, breached.
    assert row.response_due == utc(24, 18)
    assert row.response_breached_at == utc(24, 18)


async def test_a_pause_never_makes_a_deadline_earlier(service: IncidentService) -> None:
    incident = await service.site_failing("acme", "www", "http_5xx", TUE_10)
    assert incident is not None
    # The checks file is reloaded with shorter targets while it is paused: the deadlines the
    # new targets give are earlier, and the resume keeps the ones it stood at.
    await service.pause(incident.id, "alice", "waiting", utc(24, 11))
    shorter = CHECKS.replace("{response: 8h, resolution: 16h}", "{response: 1h, resolution: 2h}")
    service.use_config(load_config_text(shorter))
    row = await service.resume(incident.id, "alice", utc(24, 11, 30))
    assert (row.response_due, row.resolution_due) == (utc(24, 18), utc(25, 16))


async def test_what_cannot_be_paused_or_resumed(service: IncidentService) -> None:
    incident = await service.site_failing("acme", "www", "http_5xx", TUE_10)
    assert incident is not None
    with pytest.raises(Conflict, match="is not paused"):
        await service.resume(incident.id, "alice", utc(24, 11))
    await service.pause(incident.id, "alice", "waiting", utc(24, 11))
    with pytest.raises(Conflict, match="already paused"):
        await service.pause(incident.id, "bob", "again", utc(24, 12))
    # Resolving ends the pause; the deadlines are those of the pause that ran until then.
    resolved = await service.resolve(incident.id, "alice", utc(24, 12))
    assert resolved.paused_at is None
    # An hour of business time paused: Tue 18:00 becomes Wed 09:00, Wed 16:00 Wed 17:00.
    assert (resolved.response_due, resolved.resolution_due) == (utc(25, 9), utc(25, 17))
    with pytest.raises(Conflict, match="resolved incident cannot be paused"):
        await service.pause(incident.id, "alice", "too late", utc(24, 13))
    with pytest.raises(Conflict, match="is not paused"):
        await service.resume(incident.id, "alice", utc(24, 13))


async def test_an_upgrade_while_paused_counts_from_the_resume(service: IncidentService) -> None:
    incident = await service.site_failing("acme", "www", "http_5xx", TUE_10)
    assert incident is not None
    await service.pause(incident.id, "alice", "waiting", utc(24, 11))
    upgraded = await service.site_failing("acme", "www", "down", utc(24, 11, 30))
    assert upgraded is not None and upgraded.severity == "mission_critical"
    assert (upgraded.response_due, upgraded.resolution_due) == (None, None)
    row = await service.resume(incident.id, "alice", utc(24, 12))
    # mission_critical on 24x7 from the upgrade, its clock stopped until 12:00: 15 min, 4 h.
    assert (row.response_due, row.resolution_due) == (utc(24, 12, 15), utc(24, 16))


async def test_the_report_shows_paused_time_and_reason(service: IncidentService, store: Store):
    incident = await service.site_failing("acme", "www", "http_5xx", TUE_10)
    assert incident is not None
    await service.pause(incident.id, "alice", "waiting on the customer", utc(24, 16))
    await service.resume(incident.id, "alice", utc(25, 10))
    await service.acknowledge(incident.id, "alice", utc(25, 11))
    report = await build_report(store, service.config, "acme", "2026-11", utc(25, 12))
    (line,) = report.incidents
    # 11 business hours from Tue 10:00 to Wed 11:00, 4 of them paused: 7 h taken, met.
    assert (line.response.result, line.response.took_seconds) == ("met", 7 * 3600)
    assert line.response.due == utc(25, 12)
    assert line.paused_seconds == 18 * 3600
    text = render(report, "text")
    assert "#1 SLA clock paused 18 h from 24 Nov 2026 16:00 UTC: waiting on the customer" in text
    data = json.loads(render(report, "json"))["incidents"][0]
    assert data["paused_seconds"] == 18 * 3600
    assert data["pauses"] == [
        {"started_at": "2026-11-24T16:00:00Z", "ended_at": "2026-11-25T10:00:00Z",
         "seconds": 18 * 3600, "reason": "waiting on the customer"},
    ]  # fmt: skip
    assert "waiting on the customer" in render(report, "html")
    assert "alice" not in text + render(report, "html")  # people stay internal


async def test_breach_timers_stop_and_re_arm(
    service: IncidentService, store: Store, clock: Any
) -> None:
    keeper = Housekeeping(store, service, Metrics(process=False), clock, timedelta(days=1))
    service.subscribe(keeper.on_incident)
    incident = await service.site_failing("acme", "www", "http_5xx", TUE_10)
    assert incident is not None

    def timers() -> dict[str, datetime]:
        found = {}
        for target in ("response_due", "resolution_due"):
            job = keeper.scheduler.get_job(f"breach-{incident.id}-{target}")
            if job is not None:
                found[target] = job.trigger.run_date
        return found

    assert timers() == {"response_due": utc(24, 18), "resolution_due": utc(25, 16)}
    await service.pause(incident.id, "alice", "waiting", utc(24, 16))
    assert timers() == {}
    await service.resume(incident.id, "alice", utc(25, 10))
    assert timers() == {"response_due": utc(25, 12), "resolution_due": utc(26, 10)}
