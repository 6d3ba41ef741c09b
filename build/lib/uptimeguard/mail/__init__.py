"""Outbound messages: e-mail over SMTP and signed webhook calls, through one outbox.

`MailOutbox` (`outbox.py`, whose docstring shows how to send mail) plans messages;
`MailWorker` (`worker.py`) sends them. `mail_service` builds both from the settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from uptimeguard.clock import Clock
from uptimeguard.mail.outbox import Mail, MailOutbox, WebhookCall
from uptimeguard.mail.smtp import SmtpSender
from uptimeguard.mail.webhook import SecretOf, WebhookSender
from uptimeguard.mail.worker import MailWorker, RetryPolicy
from uptimeguard.metrics import Metrics
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store

__all__ = ["Mail", "MailOutbox", "MailService", "MailWorker", "WebhookCall", "mail_service"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MailService:
    outbox: MailOutbox
    worker: MailWorker
    smtp_configured: bool


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        first=timedelta(seconds=settings.mail_retry_first_seconds),
        longest=timedelta(seconds=settings.mail_retry_max_seconds),
        give_up=timedelta(hours=settings.mail_give_up_hours),
    )


def mail_service(
    settings: Settings,
    store: Store,
    clock: Clock,
    secret_of: SecretOf,
    metrics: Metrics | None = None,
) -> MailService:
    """The outbox and its worker; e-mail is sent when SMTP_HOST and MAIL_FROM are set."""
    smtp = None
    if settings.smtp_host and settings.mail_from:
        smtp = SmtpSender(settings)
    elif settings.smtp_host or settings.mail_from:
        log.warning("mail needs both UPTIMEGUARD_SMTP_HOST and UPTIMEGUARD_MAIL_FROM: not sending")
    outbox = MailOutbox(store, clock)
    webhooks = WebhookSender(secret_of)
    worker = MailWorker(outbox, clock, smtp, webhooks, retry_policy(settings), metrics)
    return MailService(outbox, worker, smtp is not None)
