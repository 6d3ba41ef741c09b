"""What the web layer reads: handed in by `app.py`, never looked up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from uptimeguard.clock import Clock
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.monitor.service import Monitor
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store


@dataclass
class WebContext:
    settings: Settings
    store: Store
    incidents: IncidentService
    monitor: Monitor
    metrics: Metrics
    clock: Clock
    # True when the database answers and the scheduler runs (for /readyz).
    ready: Callable[[], Awaitable[bool]]
    # The paging service (Twilio webhooks); None when paging is not configured.
    paging: Any = None
    # The mail outbox and its worker (`uptimeguard.mail.MailService`).
    mail: Any = None
    # Subscriptions and maintenance notices (`uptimeguard.notify.Notify`); None: not offered.
    notify: Any = None


CONTEXT = web.AppKey("context", WebContext)
