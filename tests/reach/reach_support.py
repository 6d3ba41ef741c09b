"""Customer-channel test support: the bundled checks file, and a harness wiring incidents,
paging (against the fake Twilio REST API the real twilio client calls) and the web routes,
with Twilio's own `RequestValidator` signing each webhook post as Twilio would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from paging.fake_twilio import FROM, SID, TOKEN, FakeTwilio
from twilio.request_validator import RequestValidator

from uptimeguard.config import load_config
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.service import IncidentService
from uptimeguard.mail import MailService, mail_service
from uptimeguard.metrics import Metrics
from uptimeguard.paging import PagingService, paging_service
from uptimeguard.settings import Settings
from uptimeguard.storage.models import IncidentEventRow, IncidentRow
from uptimeguard.storage.repository import Store
from uptimeguard.web import reach_routes, status_routes, twilio_routes
from uptimeguard.web.context import CONTEXT, WebContext
from uptimeguard.web.errors import error_middleware

BUNDLED = Path(__file__).resolve().parents[2] / "checks.yaml"
PUBLIC_URL = "https://guard.example.com"
CHARLIE = "+447700900151"  # Wonka's contact (three-level service, 9-5 weekdays)
JO = "+447700900101"  # Acme's contact (Azzure IT standard hours)
STRANGER = "+15005550123"
DESK = "+447700900099"
ALICE = "+447700900001"  # on call in November 2026


def bundled() -> ChecksConfig:
    return load_config(BUNDLED, env={})


def sign(path: str, fields: Mapping[str, str], token: str = TOKEN) -> str:
    """The `X-Twilio-Signature` Twilio sends for a POST of `fields` to PUBLIC_URL + path."""
    return RequestValidator(token).compute_signature(PUBLIC_URL + path, dict(fields))


def call(caller: str, **extra: str) -> dict[str, str]:
    """The form fields Twilio posts for an inbound call to our number."""
    return {
        "AccountSid": SID,
        "CallSid": "CA" + "1" * 32,
        "From": caller,
        "To": FROM,
        "CallStatus": "ringing",
        "Direction": "inbound",
        **extra,
    }


def recording(caller: str | None, sid: str = "RE" + "a" * 32, **extra: str) -> dict[str, str]:
    """The fields of the `<Record>` action (with `From`) or, without a caller, of the
    recording status callback (which carries no `From`)."""
    fields = {
        "AccountSid": SID,
        "CallSid": "CA" + "1" * 32,
        "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{sid}",
        "RecordingDuration": "17",
        **extra,
    }
    if caller is not None:
        fields.update(From=caller, To=FROM)
    else:
        fields.update(RecordingStatus="completed", RecordingSource="RecordVerb")
    return fields


@dataclass
class Harness:
    store: Store
    incidents: IncidentService
    paging: PagingService
    clock: Any
    twilio: FakeTwilio
    client: TestClient
    metrics: Metrics
    mail: MailService

    async def send_mail(self) -> int:
        """Let the mail worker send what is due (as its loop would)."""
        return await self.mail.worker.send_due()

    async def post(
        self, path: str, fields: Mapping[str, str], signed: bool = True
    ) -> tuple[int, str]:
        headers = {"X-Twilio-Signature": sign(path, fields)} if signed else {}
        response = await self.client.post(path, data=dict(fields), headers=headers)
        return response.status, await response.text()

    async def incidents_of(self, customer: str) -> list[IncidentRow]:
        return list(reversed(await self.store.incidents(customer=customer)))

    async def timeline(self, incident_id: int) -> list[IncidentEventRow]:
        return await self.store.events(incident_id)


def smtp(port: int) -> dict[str, Any]:
    """Settings that send mail to the SMTP server on loopback (the `sink` fixture)."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "mail_from": "Support desk <desk@uptimeguard.example>",
        "smtp_timeout_seconds": 5,
    }


def settings_for(twilio: FakeTwilio, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url=PUBLIC_URL,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=FROM,
        twilio_api_base=twilio.url,
        **extra,
    )


async def make_harness(
    store: Store,
    clock: Any,
    twilio: FakeTwilio,
    config: ChecksConfig,
    settings: Settings,
) -> AsyncIterator[Harness]:
    metrics = Metrics(process=False)
    metrics.use_config(config)
    incidents = IncidentService(store, config)
    mail = mail_service(settings, store, clock, lambda customer, url: None)
    async with paging_service(settings, store, incidents, metrics, clock) as paging:
        app = web.Application(middlewares=[error_middleware])
        context = WebContext(
            settings=settings,
            store=store,
            incidents=incidents,
            monitor=SimpleNamespace(sites={}),  # type: ignore[arg-type]  # no site probed yet
            metrics=metrics,
            clock=clock,
            ready=None,  # type: ignore[arg-type]
            paging=paging,
            mail=mail,
        )
        app[CONTEXT] = context
        reach_routes.add_routes(app, context)
        twilio_routes.add_routes(app)
        status_routes.add_routes(app, context)
        reach_routes.add_public_routes(app, context)
        async with TestClient(TestServer(app)) as client:
            yield Harness(store, incidents, paging, clock, twilio, client, metrics, mail)
        await mail.worker.close()
