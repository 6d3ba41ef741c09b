"""A checks file full of things that must never be public, and a database seeded with them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.service import IncidentService
from uptimeguard.status.rollup_job import roll_up
from uptimeguard.storage.repository import NewEvent, Store

# Every string here is internal: none may appear on a public page or in its JSON.
SECRETS = (
    "Alice", "Secretname", "alice", "Carol", "Hiddenperson", "carol", "7700900", "+44",
    "probeuser", "probepass123", "secret-admin-path", "tok-SECRET-42", "INTERNAL", "hunter2",
    "Other Customer", "other-customer-path", "mission_critical", "bug_fix", "standard",
    "response_due", "resolution_due", "breach", "held", "SMS", "acknowledged_by",
    "uk-office", "sun 02:00",
)  # fmt: skip

LEAKY_CHECKS = """
defaults: {interval: 5m, timeout: 10s}
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
    causes: {down: mission_critical, http_5xx: bug_fix}
people:
  alice: {name: Alice Secretname, phone: "+447700900101"}
  carol: {name: Carol Hiddenperson, phone: "+447700900103", role: support_manager}
oncall:
  timezone: Europe/London
  rotation: {members: [alice], start: "2026-01-05 09:00", every: 1w}
  desk: {phone: "+447700900199"}
  escalation:
    - {notify: oncall, via: sms, then_wait: 5m}
    - {notify: support_manager, via: [sms, voice]}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    status_page: {slug: acme, title: Acme service status}
    sites:
      - id: www
        name: Acme website
        url: https://www.acme.example/shop
      - id: backoffice
        name: Acme back office
        url: https://probeuser:probepass123@admin.acme.example:8443/secret-admin-path?token=tok-SECRET-42
        private: true
      - id: api
        name: Acme API
        url: https://api.acme.example/v1/health
        maintenance:
          - {every: "sun 02:00", duration: 2h}
  - id: other
    name: Other Customer Internal
    plan: standard
    status_page: {slug: other-co}
    sites:
      - {id: hidden, url: "https://other.example/other-customer-path"}
  - id: nopage
    name: No Page Ltd
    plan: standard
    sites:
      - {id: x, url: "https://nopage.example/"}
"""


def live_site(state: str, checked: Any, timezone: str = "Europe/London") -> SimpleNamespace:
    """Just what the status page reads of the monitor's `SiteLive`."""
    return SimpleNamespace(
        tracker=SimpleNamespace(state=state), last_checked_at=checked, timezone=timezone
    )


async def seed(store: Store, config: ChecksConfig, clock: Any) -> dict[str, int]:
    """Two days of results, a rollup, and incidents with timelines full of internal entries."""
    now = clock.now()
    rows = []
    moment = now - timedelta(days=2)
    while moment < now:
        for ref in config.site_refs():
            down = ref.site.id == "www" and now - timedelta(hours=3) <= moment
            rows.append(
                {
                    "customer": ref.customer.id,
                    "site": ref.site.id,
                    "checked_at": moment,
                    "outcome": "refused" if down else "up",
                    "status_code": None if down else 200,
                    "total_seconds": 0.1,
                    "error": "connection refused by 10.0.0.7 INTERNAL" if down else None,
                    "in_maintenance": False,
                }
            )
        moment += timedelta(minutes=5)
    await store.insert_results(rows)
    await roll_up(store, config, now)

    service = IncidentService(store, config)
    opened_at = now - timedelta(hours=3) + timedelta(minutes=5)
    www = await service.site_failing("acme", "www", "down", opened_at, "refused by 10.0.0.7")
    assert www is not None
    await service.acknowledge(
        www.id, "alice", opened_at + timedelta(minutes=4), "INTERNAL ack: Alice on it"
    )
    await service.add_note(
        www.id, "alice", "INTERNAL: call Carol on +447700900103, db password hunter2", opened_at
    )
    await service.add_note(
        www.id, "carol", "We found the cause and are fixing it.", now - timedelta(hours=1),
        public=True,
    )  # fmt: skip
    await store.add_event(
        www.id,
        NewEvent(
            "page", opened_at, "SMS to Alice Secretname (+447700900101) sent", "paging",
            {"to": "+447700900101", "person": "alice"},
        ),
    )  # fmt: skip
    await service.check_breaches(now)  # the 15m response target was met: no breach

    back = await service.open_manual(
        "acme", "backoffice", "bug_fix", "INTERNAL summary: hunter2 leaked", now - timedelta(days=3)
    )
    await service.resolve(back.id, "carol", now - timedelta(days=2), "INTERNAL resolve note")
    other = await service.open_manual(
        "other", "hidden", "bug_fix", "INTERNAL other", now - timedelta(hours=2)
    )
    old = await service.open_manual(
        "acme", "api", "bug_fix", "INTERNAL old", now - timedelta(days=20)
    )
    await service.resolve(old.id, "monitor", now - timedelta(days=19))
    return {"www": www.id, "backoffice": back.id, "other": other.id, "old": old.id}
