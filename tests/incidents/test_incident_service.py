"""The incident lifecycle with exact instants, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from uptimeguard.config import load_config_text
from uptimeguard.incidents.errors import Conflict, IncidentError, NotFound
from uptimeguard.incidents.service import IncidentChange, IncidentService
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
      major: {response: 1h, resolution: 8h}
      bug_fix: {response: 2h, resolution: 1d}
      query: {response: 8h, resolution: 10d}
    causes: {down: mission_critical, http_5xx: bug_fix, content: bug_fix}
customers:
  - id: acme
    name: Acme
    plan: standard
    sites:
      - {id: www, url: "http://127.0.0.1:9/"}
      - {id: api, url: "http://127.0.0.1:9/api"}
"""

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


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


async def test_open_in_hours(service: IncidentService, changes):
    incident = await service.site_failing("acme", "www", "http_5xx", TUESDAY_10, "HTTP 500")
    assert incident is not None
    assert (incident.severity, incident.cause, incident.held_over) == ("bug_fix", "http_5xx", False)
    assert incident.response_due == TUESDAY_10 + timedelta(hours=2)
    # 1 working day: the same local time on the next working day.
    assert incident.resolution_due == TUESDAY_10 + timedelta(days=1)
    assert [c.kind for c in changes] == ["opened"]


async def test_unmapped_cause_opens_nothing(service: IncidentService):
    assert await service.site_failing("acme", "www", "slow", TUESDAY_10) is None


async def test_one_open_incident_per_site_even_when_racing(service: IncidentService, store):
    results = await asyncio.gather(
        *[service.site_failing("acme", "www", "http_5xx", TUESDAY_10) for _ in range(5)]
    )
    assert len({r.id for r in results}) == 1
    assert len(await store.incidents(unresolved=True)) == 1


async def test_held_over_out_of_hours(service: IncidentService):
    incident = await service.site_failing("acme", "www", "http_5xx", SATURDAY_10)
    monday_8 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert incident.held_over is True
    assert incident.clock_starts_at == monday_8
    assert incident.response_due == monday_8 + timedelta(hours=2)


async def test_covered_out_of_hours_is_not_held(service: IncidentService):
    incident = await service.site_failing("acme", "www", "down", SATURDAY_10)
    assert incident.held_over is False
    assert incident.response_due == SATURDAY_10 + timedelta(minutes=15)


async def test_upgrade_takes_the_earlier_deadline(service: IncidentService, store, changes):
    opened = await service.site_failing("acme", "www", "http_5xx", TUESDAY_10)
    later = TUESDAY_10 + timedelta(minutes=30)
    upgraded = await service.site_failing("acme", "www", "down", later, "connection refused")
    assert upgraded.id == opened.id
    assert (upgraded.severity, upgraded.cause) == ("mission_critical", "down")
    assert upgraded.response_due == later + timedelta(minutes=15)
    assert upgraded.resolution_due == later + timedelta(hours=4)
    # A less urgent cause afterwards changes nothing.
    again = await service.site_failing("acme", "www", "http_5xx", later + timedelta(minutes=5))
    assert again.severity == "mission_critical"
    assert [c.kind for c in changes] == ["opened", "upgraded"]
    kinds = [e.kind for e in await store.events(opened.id)]
    assert kinds == ["opened", "upgraded"]


async def test_recovery_resolves_monitor_incidents_only(service: IncidentService):
    incident = await service.site_failing("acme", "www", "http_5xx", TUESDAY_10)
    resolved = await service.site_recovered("acme", "www", TUESDAY_10 + timedelta(minutes=10))
    assert resolved.id == incident.id and resolved.resolved_by == "monitor"
    manual = await service.open_manual("acme", "api", "query", "slow login", TUESDAY_10)
    assert await service.site_recovered("acme", "api", TUESDAY_10) is None
    assert (await service._store.incident(manual.id)).resolved_at is None


async def test_breach_recorded_once_at_the_deadline(service: IncidentService, store, changes):
    incident = await service.site_failing("acme", "www", "http_5xx", TUESDAY_10)
    due = incident.response_due
    assert await service.check_breaches(due) == []  # reaching the deadline is not missing it
    found = await service.check_breaches(due + timedelta(seconds=1))
    assert [c.data["target"] for c in found] == ["response"]
    assert await service.check_breaches(due + timedelta(hours=1)) == []
    stored = await store.incident(incident.id)
    assert stored.response_breached_at == due
    assert stored.resolution_breached_at is None
    breaches = [e for e in await store.events(incident.id) if e.kind == "breach"]
    assert len(breaches) == 1 and breaches[0].at == due


async def test_ack_in_time_meets_response(service: IncidentService, store):
    incident = await service.site_failing("acme", "www", "http_5xx", TUESDAY_10)
    await service.acknowledge(incident.id, "alice", TUESDAY_10 + timedelta(minutes=5))
    assert await service.check_breaches(TUESDAY_10 + timedelta(hours=3)) == []


async def test_late_resolution_records_breaches(service: IncidentService, store):
    incident = await service.site_failing("acme", "www", "down", TUESDAY_10)
    await service.resolve(incident.id, "bob", TUESDAY_10 + timedelta(hours=5))
    stored = await store.incident(incident.id)
    assert stored.response_breached_at == TUESDAY_10 + timedelta(minutes=15)
    assert stored.resolution_breached_at == TUESDAY_10 + timedelta(hours=4)


async def test_manual_incident_errors(service: IncidentService):
    with pytest.raises(IncidentError, match="severity"):
        await service.open_manual("acme", None, "urgent", "x", TUESDAY_10)
    with pytest.raises(IncidentError, match="site"):
        await service.open_manual("acme", "nope", "query", "x", TUESDAY_10)
    with pytest.raises(NotFound):
        await service.open_manual("nobody", None, "query", "x", TUESDAY_10)
    with pytest.raises(NotFound):
        await service.acknowledge(12345, "alice", TUESDAY_10)


async def test_ack_is_idempotent_and_resolving_twice_is_refused(service: IncidentService, store):
    incident = await service.site_failing("acme", "www", "http_5xx", TUESDAY_10)
    first = await service.acknowledge(incident.id, "alice", TUESDAY_10 + timedelta(minutes=1))
    second = await service.acknowledge(incident.id, "bob", TUESDAY_10 + timedelta(minutes=2))
    assert first.acknowledged_by == second.acknowledged_by == "alice"
    await service.resolve(incident.id, "alice", TUESDAY_10 + timedelta(minutes=3))
    with pytest.raises(Conflict, match=f"incident {incident.id} is already resolved"):
        await service.resolve(incident.id, "bob", TUESDAY_10 + timedelta(minutes=4))
    with pytest.raises(Conflict, match="already resolved"):
        await service.acknowledge(incident.id, "bob", TUESDAY_10 + timedelta(minutes=5))
    assert (await store.incident(incident.id)).resolved_by == "alice"
    kinds = [e.kind for e in await store.events(incident.id)]
    assert kinds == ["opened", "acknowledged", "resolved"]
