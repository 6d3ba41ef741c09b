"""Sending claimed pages through the `Sender`, and what Twilio later says about them.

Each outcome is stored on the page row, written to the incident's timeline and counted in
`uptimeguard_pages_total`. A passing failure is retried with backoff; a permanent one, or a
delivery status that says nobody was reached, hands the page to `on_not_reached` so the
ladder can move on at once. A call counts as answered only when a person took it: one answered
by a machine (Twilio's answering-machine detection, `AnsweredBy`) or, unless the incident's
plan says `call_needs_keypress: false`, one on which no key was pressed is `no_answer`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from uptimeguard.clock import Clock
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.paging import timeline
from uptimeguard.paging.models import (
    CANCELLED,
    DELIVERED,
    FAILED,
    INTERRUPTED,
    LADDER,
    NO_ANSWER,
    RESOLVED,
    SENDING,
    SENT,
    SKIPPED,
    SLA,
    PageRow,
)
from uptimeguard.paging.outbox import Outbox
from uptimeguard.paging.twilio import twiml
from uptimeguard.paging.twilio.client import Sender
from uptimeguard.paging.twilio.errors import TransportError, delivery_cause
from uptimeguard.paging.twilio.webhooks import answered_by_machine, delivery_status
from uptimeguard.storage.repository import NewEvent, Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Pages sent in one pass, at most. Each is claimed only when the one before it is done, so a
# crash leaves at most the page on the wire in doubt (`interrupted`), never a whole batch.
SEND_PER_PASS = 20
NOT_CONFIGURED = "skipped: twilio not configured"
NotReached = Callable[[PageRow, datetime], Awaitable[None]]


def backoff(attempt: int) -> timedelta:
    """The wait before retry `attempt` + 1: 2 s, 4 s, 8 s, 16 s, then 30 s."""
    return timedelta(seconds=min(2**attempt, 30))


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        store: Store,
        incidents: IncidentService,
        metrics: Metrics,
        clock: Clock,
        sender: Sender | None,
        public_url: str | None,
        on_not_reached: NotReached,
    ) -> None:
        self._outbox = outbox
        self._store = store
        self._incidents = incidents
        self._metrics = metrics
        self._clock = clock
        self._sender = sender
        self._public_url = public_url.rstrip("/") if public_url else None
        self._on_not_reached = on_not_reached
        self._warned = False

    async def send_due(self, now: datetime, limit: int = SEND_PER_PASS) -> int:
        """Send pages due by `now`, up to `limit`, claiming each one only when the one before
        it is done; returns how many were claimed."""
        claimed = 0
        while claimed < limit:
            page = await self._outbox.claim_next(now)
            if page is None:
                break
            claimed += 1
            try:
                await self._send(page)
            except Exception:  # one bad page must not stop the others; it stays `sending`
                log.exception("sending page %s failed unexpectedly", page.id)
        return claimed

    async def _send(self, page: PageRow) -> None:
        stale = await self._stale(page)
        if stale is not None:
            await self._finish(page, CANCELLED, stale, "cancelled")
            return
        if self._sender is None:
            if not self._warned:
                log.warning(
                    "Twilio is not configured (UPTIMEGUARD_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, "
                    "_FROM): pages are recorded in incident timelines but not sent"
                )
                self._warned = True
            await self._finish(page, SKIPPED, NOT_CONFIGURED, "not sent")
            return
        try:
            sid = await self._hand_over(page, self._sender)
        except TransportError as error:
            await self._failed(page, error)
            return
        now = self._clock.now()
        await self._outbox.mark_sent(page.id, sid, now)
        page.sid, page.status, page.cause = sid, SENT, None
        self._metrics.pages.labels(page.channel, "sent").inc()
        await self._record(page, timeline.page_event(page, now, "sent"))

    async def _hand_over(self, page: PageRow, sender: Sender) -> str:
        callback = f"{self._public_url}/twilio/status/{page.id}" if self._public_url else None
        if page.channel == "sms":
            return await sender.send_sms(page.phone, page.body, callback)
        if self._public_url:
            url = f"{self._public_url}/twilio/voice/{page.id}"
            return await sender.place_call(
                page.phone, url=url, twiml=None, status_callback=callback
            )
        spoken = twiml.spoken_only(page.body)
        return await sender.place_call(page.phone, url=None, twiml=spoken, status_callback=None)

    async def _failed(self, page: PageRow, error: TransportError) -> None:
        now = self._clock.now()
        if error.maybe_taken:
            # Twilio may have it and takes no idempotency key: as with a page a crash caught
            # mid-send, never send it again. The ladder goes on at its own pace, and a status
            # callback, if Twilio did take it, still records what became of it.
            await self._finish(
                page, INTERRUPTED, error.cause, "not confirmed and not resent (it may have gone)"
            )
            log.warning(
                "page %s to %s not confirmed (%s); not resending, it may have gone",
                page.id,
                page.person,
                error.cause,
            )
            return
        if not error.permanent and page.attempts < MAX_ATTEMPTS:
            delay = backoff(page.attempts)
            await self._outbox.retry_later(page.id, now + delay, error.cause, now)
            seconds = int(delay.total_seconds())
            what = (
                f"not sent: {error.cause}; retrying in {seconds}s "
                f"(attempt {page.attempts} of {MAX_ATTEMPTS})"
            )
            await self._record(page, timeline.page_event(page, now, what, cause=error.cause))
            return
        why = (
            "permanent, not retried" if error.permanent else f"gave up after {page.attempts} tries"
        )
        row = await self._finish(page, FAILED, error.cause, f"failed ({why})")
        self._metrics.pages.labels(page.channel, "failed").inc()
        log.warning("page %s to %s failed: %s", page.id, page.person, error.cause)
        if row is not None:
            await self._on_not_reached(row, now)

    async def _finish(self, page: PageRow, status: str, cause: str, what: str) -> PageRow | None:
        now = self._clock.now()
        row = await self._outbox.finish(page.id, status, cause, now, only_from=(SENDING,))
        if row is not None:
            await self._record(row, timeline.page_event(row, now, what))
        return row

    async def _stale(self, page: PageRow) -> str | None:
        """Why a claimed page should no longer go out, if it should not."""
        incident = await self._store.incident(page.incident_id)
        if incident is None:
            return "the incident no longer exists"
        if incident.resolved_at is not None and page.purpose != RESOLVED:
            return "the incident was resolved before it was sent"
        response_page = page.purpose == LADDER or (
            page.purpose == SLA and (page.data or {}).get("target") == "response"
        )
        if incident.acknowledged_at is not None and response_page:
            return "the incident was acknowledged before it was sent"
        return None

    async def _record(self, page: PageRow, event: NewEvent) -> None:
        # A held-over notice covers several incidents: each timeline shows it.
        for incident_id in (page.data or {}).get("incidents") or [page.incident_id]:
            try:
                await self._incidents.record_event(incident_id, event)
            except Exception:
                log.exception("cannot write page %s to incident %s", page.id, incident_id)

    # -- status callbacks --------------------------------------------------------------------

    async def delivery(self, page_id: int, params: Mapping[str, str]) -> bool:
        """A status callback for a page; False when the page is unknown."""
        page = await self._outbox.page(page_id)
        if page is None:
            return False
        status, raw = delivery_status(params)
        if status is None:  # queued, sent, ringing, ...: on the way
            return True
        cause = None if status == DELIVERED else delivery_cause(raw, params.get("ErrorCode"))
        if status == DELIVERED and page.channel == "voice":
            unanswered = await self._unanswered(page, params)
            if unanswered is not None:
                status, cause = NO_ANSWER, unanswered
        await self._settle(page, status, cause, raw)
        return True

    async def _unanswered(self, page: PageRow, params: Mapping[str, str]) -> str | None:
        """Why a completed call still reached nobody, if it did: a machine answered it, or
        nobody pressed a key (unless the incident's plan has `call_needs_keypress: false`)."""
        if answered_by_machine(params):
            return f"answered by a machine ({params.get('AnsweredBy')}), not a person"
        if "keypress" in (page.data or {}):
            return None
        incident = await self._store.incident(page.incident_id)
        plan = self._incidents.config.plans.get(incident.plan) if incident else None
        if plan is not None and not plan.call_needs_keypress:
            return None
        return "answered, but no key was pressed"

    async def machine_answered(self, page: PageRow, answered_by: str) -> None:
        """Twilio fetched the call's TwiML with `AnsweredBy` naming a machine: no answer, now
        (the ladder goes on at once, not when the call ends)."""
        cause = f"answered by a machine ({answered_by}), not a person"
        await self._settle(page, NO_ANSWER, cause, "completed")

    async def _settle(self, page: PageRow, status: str, cause: str | None, raw: str) -> None:
        """Give the page its final status, once; a page that reached nobody moves the ladder."""
        now = self._clock.now()
        row = await self._outbox.finish(
            page.id, status, cause, now, only_from=(SENDING, SENT, INTERRUPTED)
        )
        if row is None:  # a repeated callback, or the page already has its final word
            return
        self._metrics.pages.labels(row.channel, status).inc()
        await self._record(row, timeline.status_event(row, now, raw))
        if status != DELIVERED:
            await self._on_not_reached(row, now)
