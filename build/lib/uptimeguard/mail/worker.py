"""Sending the outbox: one message at a time, each claimed just before it is sent.

Every node may run a worker; the conditional claim gives each row to one of them. A message
the server did not take is retried after `RetryPolicy.delay` (doubling from `first` to
`longest`) until `give_up` after it was planned; a permanent refusal fails it at once. On
the way out the message being sent is finished and recorded; a process killed mid-send
leaves its row `sending`, which the next sweep marks `interrupted`, never resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from uptimeguard.clock import Clock
from uptimeguard.mail.errors import DeliveryError
from uptimeguard.mail.models import EMAIL, FAILED, INTERRUPTED, SKIPPED, MailRow
from uptimeguard.mail.outbox import MailOutbox
from uptimeguard.mail.smtp import SmtpSender
from uptimeguard.mail.webhook import NotConfigured, WebhookSender
from uptimeguard.metrics import Metrics

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
# A row `sending` for longer than this belongs to a sender that died (every send times out
# well before it).
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first: timedelta = timedelta(seconds=10)
    longest: timedelta = timedelta(minutes=10)
    give_up: timedelta = timedelta(hours=48)

    def delay(self, attempts: int) -> timedelta:
        """The wait after failed attempt number `attempts` (1, 2, ...)."""
        return min(self.first * 2 ** max(0, attempts - 1), self.longest)


class MailWorker:
    def __init__(
        self,
        outbox: MailOutbox,
        clock: Clock,
        smtp: SmtpSender | None,
        webhooks: WebhookSender,
        retry: RetryPolicy,
        metrics: Metrics | None = None,
    ) -> None:
        self._outbox = outbox
        self._clock = clock
        self._smtp = smtp
        self._webhooks = webhooks
        self._retry = retry
        self._metrics = metrics
        self._stopping = False
        self._warned = False
        self._started_at = clock.now()
        self._last_sweep: datetime | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[asyncio.Task[None]]:
        task = asyncio.create_task(self.run(), name="mail-worker")
        try:
            yield task
        finally:
            self._stopping = True
            self._outbox.wake()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 30)
            await self.close()

    async def close(self) -> None:
        if self._smtp is not None:
            await self._smtp.close()
        await self._webhooks.close()

    async def run(self) -> None:
        woken = self._outbox.woken
        while not self._stopping:
            try:
                await self.sweep()
                await self.send_due()
            except Exception as error:  # the database away, most likely: try again soon
                log.warning("mail outbox: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), POLL_SECONDS)
            woken.clear()

    async def sweep(self) -> None:
        """Mark rows a dead sender left `sending` as interrupted (at start, then each minute)."""
        now = self._clock.now()
        if self._last_sweep is not None and now - self._last_sweep < timedelta(minutes=1):
            return
        before = self._started_at if self._last_sweep is None else now - STALE_CLAIM
        self._last_sweep = now
        for row in await self._outbox.interrupted(before, now):
            self._count(row, "interrupted")
            log.warning("mail %s (%s) was interrupted mid-send; not resent", row.id, row.kind)

    async def send_due(self) -> int:
        """Send every message due now, one claim at a time; returns how many were claimed."""
        sent = 0
        try:
            while not self._stopping:
                row = await self._outbox.claim_next(self._clock.now())
                if row is None:
                    break
                sent += 1
                await self._send(row)
        finally:
            if self._smtp is not None:
                await self._smtp.close()  # one connection per burst
        return sent

    async def _send(self, row: MailRow) -> None:
        now = self._clock.now()
        try:
            if row.kind == EMAIL:
                if self._smtp is None:
                    if not self._warned:
                        log.warning(
                            "mail is not configured (UPTIMEGUARD_SMTP_HOST, _MAIL_FROM): "
                            "messages are recorded as skipped, not sent"
                        )
                        self._warned = True
                    await self._outbox.finish(row.id, SKIPPED, "SMTP not configured", now)
                    self._count(row, "skipped")
                    return
                await self._smtp.send(row)
            else:
                await self._webhooks.send(row, math.floor(now.timestamp()))
        except NotConfigured:
            await self._outbox.finish(row.id, SKIPPED, "webhook no longer configured", now)
            self._count(row, "skipped")
            return
        except DeliveryError as error:
            await self._failed(row, error)
            return
        await self._outbox.mark_sent(row.id, self._clock.now())
        self._count(row, "sent")

    def _count(self, row: MailRow, result: str) -> None:
        if self._metrics is not None:
            self._metrics.mail.labels(row.kind, result).inc()

    async def _failed(self, row: MailRow, error: DeliveryError) -> None:
        now = self._clock.now()
        if error.maybe_taken:
            cause = f"{error.cause}; not resent, it may have gone"
            await self._outbox.finish(row.id, INTERRUPTED, cause, now)
            log.warning("mail %s not confirmed (%s); not resending", row.id, error.cause)
            self._count(row, "interrupted")
            return
        if error.permanent or now - row.created_at >= self._retry.give_up:
            why = "refused" if error.permanent else f"gave up after {row.attempts} tries"
            await self._outbox.finish(row.id, FAILED, f"{error.cause} ({why})", now)
            log.warning("%s %s failed: %s (%s)", row.kind, row.id, error.cause, why)
            self._count(row, "failed")
            return
        delay = self._retry.delay(row.attempts)
        await self._outbox.retry_later(row.id, now + delay, error.cause, now)
        self._count(row, "retried")
        log.info(
            "%s %s not sent (%s); retrying in %.1fs", row.kind, row.id, error.cause,
            delay.total_seconds(),
        )  # fmt: skip
