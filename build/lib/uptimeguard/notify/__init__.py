"""Telling customers: status-page subscriptions by e-mail, webhooks, maintenance notices.

Every message is planned in the mail outbox (`uptimeguard.mail`) in the transaction of the
change that causes it: a public incident update (`fanout.IncidentNotices`, a `Store` event
hook), a subscription request (`subscriptions`), a maintenance phase (`maintenance`). What
counts as a public update is defined once, in `uptimeguard.status.updates`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from uptimeguard.config.models import ChecksConfig
from uptimeguard.mail import MailService
from uptimeguard.notify.fanout import IncidentNotices
from uptimeguard.notify.maintenance import MaintenanceNotices
from uptimeguard.notify.subscriptions import Subscriptions
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store


@dataclass(frozen=True, slots=True)
class Notify:
    subscriptions: Subscriptions
    maintenance: MaintenanceNotices
    public_url: str | None
    # Subscribing needs a way to send the confirmation and a public address for its link.
    subscribing: bool


def notify_service(
    settings: Settings, store: Store, config: Callable[[], ChecksConfig], mail: MailService
) -> Notify:
    """Build the pieces and hook public incident updates into the store's transactions."""
    store.event_hooks.append(IncidentNotices(config, mail.outbox, settings.public_url))
    return Notify(
        subscriptions=Subscriptions(store, mail.outbox),
        maintenance=MaintenanceNotices(store, config, mail.outbox, settings.public_url),
        public_url=settings.public_url,
        subscribing=mail.smtp_configured and bool(settings.public_url),
    )
