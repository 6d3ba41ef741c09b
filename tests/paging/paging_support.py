"""Paging test support: the README's example checks file, and a harness wiring incidents,
paging and the Twilio webhook routes to a fake Twilio REST API on 127.0.0.1 that the real
twilio client calls."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from fake_twilio import FROM, SID, TOKEN, FakeTwilio
from twilio.request_validator import RequestValidator

from uptimeguard.config import load_config_text
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.paging import PagingService, paging_service
from uptimeguard.paging.models import PageRow
from uptimeguard.settings import Settings
from uptimeguard.storage.models import IncidentEventRow, IncidentRow
from uptimeguard.storage.repository import Store
from uptimeguard.web import twilio_routes
from uptimeguard.web.context import CONTEXT, WebContext
from uptimeguard.web.errors import error_middleware

PUBLIC_URL = "https://guard.example.com"

# The README's example, with a second site and a second customer for the held-over grouping.
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
      major:            {response: 1h,  resolution: 8h}
      bug_fix:          {response: 2h,  resolution: 1d}
      query:            {response: 8h,  resolution: 10d}
    causes: {down: mission_critical, http_5xx: bug_fix, http_4xx: bug_fix, content: bug_fix}
    sla_escalation:
      - {at: 75% response, notify: support_manager}
      - {at: 100% response, notify: quality_manager}
      - {at: 100% resolution, notify: service_director}
people:
  alice:  {name: Alice Smith, phone: "+447700900001"ALICE_CAP}
  bob:    {name: Bob Jones,   phone: "+447700900002"}
  carol:  {name: Carol White, phone: "+447700900003", role: support_manager}
  dave:   {name: Dave Green,  phone: "+447700900004", role: quality_manager}
  erin:   {name: Erin Black,  phone: "+447700900005", role: service_director}
oncall:
  timezone: Europe/London
  rotation: {members: [alice, bob], start: "2026-01-05 09:00", every: 1w}
  overrides: [{person: bob, from: "2026-12-24T18:00", to: "2026-12-27T09:00"}]
  desk: {phone: "+447700900099"}
  escalation:
    - {notify: oncall, via: sms, then_wait: 5m}
    - {notify: oncall, via: voice, then_wait: 10m}
    - {notify: support_manager, via: [sms, voice], then_wait: 15m}
    - {notify: service_director, via: [sms, voice]}
  repeat: 2
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {id: www, url: "https://www.acme.example/"}
      - {id: api, url: "https://api.acme.example/"}
  - id: beta
    name: Beta plc
    plan: standard
    sites:
      - {id: shop, url: "https://shop.beta.example/"}
"""

ALICE, BOB, CAROL, DAVE, ERIN = (f"+44770090000{i}" for i in range(1, 6))
DESK = "+447700900099"
# Saturday 28 November 2026, 03:00 in London (GMT): out of hours; alice's week on the rota.
SATURDAY_NIGHT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def checks(alice_cap: int | None = None) -> ChecksConfig:
    cap = f", max_pages_per_hour: {alice_cap}" if alice_cap else ""
    return load_config_text(CHECKS.replace("ALICE_CAP", cap), "checks.yaml")


_SIDS = itertools.count(1)


def message_sid() -> str:
    """A fresh Twilio MessageSid, as every inbound SMS carries."""
    return f"SM{next(_SIDS):032x}"


def sign(url_path: str, fields: Mapping[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_URL + url_path, dict(fields))


@dataclass
class Harness:
    store: Store
    incidents: IncidentService
    paging: PagingService
    clock: Any
    twilio: FakeTwilio
    metrics: Metrics
    client: TestClient

    async def tick(self) -> None:
        await self.paging.tick()

    async def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        await self.paging.tick()

    async def outage(
        self,
        site: str = "www",
        customer: str = "acme",
        cause: str = "down",
        detail: str = "connection refused",
    ) -> IncidentRow:
        incident = await self.incidents.site_failing(
            customer, site, cause, self.clock.now(), detail
        )
        assert incident is not None
        await self.paging.tick()
        return incident

    async def post(
        self, path: str, fields: Mapping[str, str], signature: str | None = "sign"
    ) -> tuple[int, str]:
        if path == "/twilio/sms" and "MessageSid" not in fields:
            fields = {**fields, "MessageSid": message_sid()}  # as Twilio sends every SMS
        headers = {}
        if signature == "sign":
            headers["X-Twilio-Signature"] = sign(path, fields)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        response = await self.client.post(path, data=dict(fields), headers=headers)
        return response.status, await response.text()

    async def pages(self, incident_id: int | None = None) -> list[PageRow]:
        return await self.paging.outbox.pages(incident_id)

    async def sid(self, page_id: int) -> str:
        """Twilio's sid of a page sent (a call's `CallSid`, as its webhooks carry it)."""
        page = await self.paging.outbox.page(page_id)
        assert page is not None and page.sid
        return page.sid

    async def incident(self, incident_id: int) -> IncidentRow:
        row = await self.store.incident(incident_id)
        assert row is not None
        return row

    async def timeline(self, incident_id: int) -> list[IncidentEventRow]:
        return await self.store.events(incident_id)

    def count(self, channel: str, result: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "uptimeguard_pages_total", {"channel": channel, "result": result}
        )
        return value or 0.0


def settings_for(twilio: FakeTwilio | None, public_url: str | None = PUBLIC_URL) -> Settings:
    if twilio is None:
        return Settings(_env_file=None, public_url=public_url)  # type: ignore[call-arg]
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url=public_url,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=FROM,
        twilio_api_base=twilio.url,
    )


async def make_harness(
    store: Store, clock: Any, twilio: FakeTwilio, config: ChecksConfig, settings: Settings
) -> AsyncIterator[Harness]:
    metrics = Metrics(process=False)
    incidents = IncidentService(store, config)
    async with paging_service(settings, store, incidents, metrics, clock) as paging:
        app = web.Application(middlewares=[error_middleware])
        app[CONTEXT] = WebContext(
            settings=settings,
            store=store,
            incidents=incidents,
            monitor=None,  # type: ignore[arg-type]
            metrics=metrics,
            clock=clock,
            ready=None,  # type: ignore[arg-type]
            paging=paging,
        )
        twilio_routes.add_routes(app)
        async with TestClient(TestServer(app)) as client:
            yield Harness(store, incidents, paging, clock, twilio, metrics, client)
