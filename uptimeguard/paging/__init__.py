"""Paging: who is on call (rota), the escalation ladder, the policy of who hears what, the
outbox of pages, and Twilio (SMS, voice, webhooks)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from uptimeguard.clock import Clock
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.paging.service import PagingService
from uptimeguard.paging.twilio.client import Sender, TwilioSender
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store

__all__ = ["PagingService", "paging_service"]

log = logging.getLogger(__name__)


def sender_from(settings: Settings) -> Sender | None:
    """A Twilio sender when the account, token and number are all set; None otherwise."""
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not (settings.twilio_account_sid and token and settings.twilio_from):
        return None
    if not settings.public_url:
        log.warning(
            "UPTIMEGUARD_PUBLIC_URL is not set: Twilio cannot reach the webhooks, so there "
            "will be no delivery statuses, no SMS replies and no keypress acknowledgements"
        )
    return TwilioSender(
        settings.twilio_account_sid, token, settings.twilio_from, settings.twilio_api_base
    )


@contextlib.asynccontextmanager
async def paging_service(
    settings: Settings,
    store: Store,
    incidents: IncidentService,
    metrics: Metrics,
    clock: Clock,
    sender: Sender | None = None,
    node: str | None = None,
) -> AsyncIterator[PagingService]:
    """The paging service, subscribed to incident changes; closes its Twilio client on exit.
    The caller runs `service.run()` as a task. `sender` replaces the one built from settings;
    `node` names this node on the pages it claims."""
    sender = sender if sender is not None else sender_from(settings)
    service = PagingService(store, incidents, metrics, clock, sender, settings.public_url, node)
    service.outbox.sms_segments = settings.sms_max_segments
    incidents.subscribe(service.on_incident)
    try:
        yield service
    finally:
        if sender is not None:
            await sender.close()
