"""Certificate expiry as its own cause: one incident per site, opened at the plan's
`cert_expiry` severity and upgraded as each threshold passes, never to a night page; resolved
when the certificate is renewed. Exact instants, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from uptimeguard.config import load_config, load_config_text
from uptimeguard.incidents.cert_expiry import cert_level, cert_severity, describe
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.monitor.service import Monitor
from uptimeguard.probe import ProbeResult
from uptimeguard.storage.repository import Store

BUNDLED = Path(__file__).resolve().parents[2] / "checks.yaml"
CHECKS = """
calendars:
  uk-office:
    timezone: Europe/London
    hours: {mon-fri: "08:00-18:00"}
plans:
  standard:
    calendar: uk-office
    severities:
      mission_critical: {response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}
      major: {response: 1h, resolution: 8h}
      bug_fix: {response: 2h, resolution: 1d}
      query: {response: 8h, resolution: 10d}
    causes: {down: mission_critical, cert_expiry: query}
customers:
  - id: acme
    name: Acme
    plan: standard
    status_page: {slug: acme}
    sites:
      - id: www
        url: "https://127.0.0.1:9/"
        cert_expiry: {warn: [30d, 14d, 7d, 3d, 1d]}
"""
KEY = ("acme", "www")
WARN = (timedelta(days=30), timedelta(days=14), timedelta(days=7))
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_levels_count_the_thresholds_passed() -> None:
    expires = TUESDAY_10 + timedelta(days=40)
    assert cert_level(expires, TUESDAY_10, WARN) == 0
    assert cert_level(expires, expires - timedelta(days=30), WARN) == 1
    assert cert_level(expires, expires - timedelta(days=13), WARN) == 2
    assert cert_level(expires, expires - timedelta(days=7), WARN) == 3
    assert cert_level(expires, expires + timedelta(days=1), WARN) == 3  # expired
    assert cert_level(None, TUESDAY_10, WARN) == 0


def test_each_level_is_one_severity_more_urgent_but_never_out_of_hours() -> None:
    plan = load_config_text(CHECKS).plans["standard"]
    assert [cert_severity(plan, level) for level in range(6)] == [
        None, "query", "bug_fix", "major", "major", "major",
    ]  # fmt: skip


def test_bundled_plans_map_cert_expiry_to_office_hours_severities() -> None:
    config = load_config(BUNDLED)
    for plan in config.plans.values():
        office = [s for s in plan.severities if s.periods == {"office"}]
        if not office:  # every severity is worked around the clock: nothing to map it to
            assert "cert_expiry" not in plan.causes, plan.id
            continue
        assert "cert_expiry" in plan.causes, plan.id
        for level in range(1, 6):
            severity = cert_severity(plan, level)
            assert severity is not None
            assert plan.severity(severity).periods == {"office"}, (plan.id, level, severity)


def test_the_detail_says_when_and_how_long() -> None:
    expires = datetime(2027, 1, 7, 12, 0, tzinfo=UTC)
    assert describe(expires, expires - timedelta(days=13, hours=1), WARN) == (
        "certificate expires 2027-01-07 12:00 UTC (13 days left; warned at 14d)"
    )
    assert describe(expires, expires + timedelta(hours=1), WARN) == (
        "certificate expired 2027-01-07 12:00 UTC"
    )


@pytest.fixture
def service(store: Store) -> IncidentService:
    return IncidentService(store, load_config_text(CHECKS))


async def test_one_incident_upgraded_at_each_threshold_then_resolved(service, store) -> None:  # type: ignore[no-untyped-def]
    opened = await service.site_cert_expiring("acme", "www", 1, TUESDAY_10, "30 days left")
    assert opened is not None
    assert (opened.severity, opened.cause, opened.held_over) == ("query", "cert_expiry", False)
    again = await service.site_cert_expiring("acme", "www", 1, TUESDAY_10, "29 days left")
    assert again is not None and again.id == opened.id and again.severity == "query"
    later = TUESDAY_10 + timedelta(days=16)
    upgraded = await service.site_cert_expiring("acme", "www", 2, later, "14 days left")
    assert upgraded is not None and upgraded.id == opened.id
    assert upgraded.severity == "bug_fix"
    last = await service.site_cert_expiring("acme", "www", 5, later, "1 day left")
    assert last is not None and last.severity == "major"  # never mission_critical
    resolved = await service.site_cert_renewed("acme", "www", later + timedelta(hours=1))
    assert resolved is not None and resolved.id == opened.id
    assert resolved.status == "resolved" and resolved.resolved_by == "monitor"
    assert len(await store.incidents(limit=10)) == 1


async def test_out_of_hours_it_is_held_over_not_paged(service) -> None:  # type: ignore[no-untyped-def]
    saturday_night = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    incident = await service.site_cert_expiring("acme", "www", 3, saturday_night, "7 days left")
    assert incident is not None and incident.severity == "major"
    assert incident.held_over  # its clock starts on Monday at 08:00; nobody is woken


async def test_renewal_leaves_other_causes_open(service) -> None:  # type: ignore[no-untyped-def]
    down = await service.site_failing("acme", "www", "down", TUESDAY_10, "refused")
    assert down is not None
    assert await service.site_cert_renewed("acme", "www", TUESDAY_10) is None
    cert = await service.site_cert_expiring("acme", "www", 1, TUESDAY_10, "30 days left")
    assert cert is not None and cert.id == down.id and cert.severity == "mission_critical"


class CertProber:
    """Answers `up`, with the certificate expiry the test sets."""

    def __init__(self) -> None:
        self.expires: datetime | None = None

    async def check(self, site, *, timeout, started_at):  # type: ignore[no-untyped-def]
        return ProbeResult(
            url=site.url,
            outcome="up",
            status_code=200,
            error=None,
            started_at=started_at,
            tls_expires_at=self.expires,
        )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class ListWriter:
    rollups = None  # results are kept raw, none folded

    def add(
        self, result: dict, state: dict | None = None, span: object = None, zone: str = "UTC"
    ) -> None:
        pass


def monitor_for(store: Store, service: IncidentService, prober, clock) -> Monitor:  # type: ignore[no-untyped-def]
    return Monitor(
        load_config_text(CHECKS),
        prober,
        service,
        ListWriter(),  # type: ignore[arg-type]
        store=store,
        metrics=Metrics(CollectorRegistry(), process=False),
        clock=clock,  # type: ignore[arg-type]
    )


async def test_the_monitor_tells_each_threshold_once(store, service) -> None:  # type: ignore[no-untyped-def]
    prober, clock = CertProber(), Clock(TUESDAY_10)
    expires = TUESDAY_10 + timedelta(days=40)
    prober.expires = expires
    monitor = monitor_for(store, service, prober, clock)
    await monitor.start()
    loop = asyncio.get_running_loop()

    async def probe_at(moment: datetime) -> list[tuple[str, str]]:
        clock.current = moment
        await monitor.probe_site(KEY, loop.time())
        rows = await store.incidents(limit=10)
        return [(row.severity, row.status) for row in rows]

    assert await probe_at(TUESDAY_10) == []
    assert await probe_at(expires - timedelta(days=29)) == [("query", "open")]
    assert await probe_at(expires - timedelta(days=28)) == [("query", "open")]
    assert await probe_at(expires - timedelta(days=13)) == [("bug_fix", "open")]
    assert await probe_at(expires - timedelta(days=6)) == [("major", "open")]
    [incident] = await store.incidents(limit=10)
    assert incident.cause == "cert_expiry" and "certificate expires" in incident.summary
    assert monitor.sites[KEY].tracker.state == "up"  # the site works; only the cert is due

    # A restart: the open certificate incident does not make the site down, and a renewed
    # certificate seen by the new monitor resolves it.
    restarted = monitor_for(store, service, prober, clock)
    await restarted.start()
    assert restarted.sites[KEY].tracker.state != "down"
    prober.expires = clock.current + timedelta(days=90)
    clock.current += timedelta(minutes=5)
    await restarted.probe_site(KEY, loop.time())
    [resolved] = await store.incidents(limit=10)
    assert (resolved.status, resolved.resolved_by) == ("resolved", "monitor")


async def test_the_public_status_page_does_not_show_it(service, store) -> None:  # type: ignore[no-untyped-def]
    from uptimeguard.status.public import SiteNow, build_status

    await service.site_cert_expiring("acme", "www", 1, TUESDAY_10, "30 days left")
    incidents = await store.incidents(limit=10)
    customer = service.config.customer("acme")
    assert [i.cause for i in incidents] == ["cert_expiry"]
    live = {"www": SiteNow("up", TUESDAY_10)}
    page = build_status(customer, live, [], incidents, [], TUESDAY_10)
    assert page["incidents"] == {"open": [], "resolved_recently": []}
    assert page["status"]["indicator"] == "operational"
