"""The paging service: decides who hears of each incident and plans the pages, then sends them.

It is driven by the database, not by memory: every tick it reads the incidents paging has not
finished with and moves each on (a new incident gets its decision, a due ladder rung is
planned, an acknowledged or resolved incident stops its ladder and sends the resolution
notice). Incident changes only wake it early. So an incident acknowledged from the CLI (another
process), or a crash between an incident opening and its first page, is handled all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from uptimeguard.clock import Clock
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.service import IncidentChange, IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.paging import messages, policy, timeline
from uptimeguard.paging.climb import climb, climb_again, not_reached
from uptimeguard.paging.dispatch import Dispatcher
from uptimeguard.paging.escalation import SlaEscalation
from uptimeguard.paging.held import tell_held_over
from uptimeguard.paging.inbound import Inbound
from uptimeguard.paging.models import (
    DESK,
    DESK_PERSON,
    HELD_OVER,
    LADDER,
    PENDING,
    RESOLVED,
    SKIPPED,
    SLA,
    PageRow,
    PagingStateRow,
)
from uptimeguard.paging.outbox import Conflict, NewPage, Outbox
from uptimeguard.paging.twilio.client import Sender
from uptimeguard.storage.models import IncidentRow
from uptimeguard.storage.repository import NewEvent, Store

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
MAX_PASSES = 10
# A full pass reads every open incident (about 35 us of CPU each: 3,000 open incidents cost
# a tenth of a core at one pass a second). A tick nothing woke skips it while nothing can have
# changed since the last full pass (`_Seen`), and makes one at least this often regardless.
FULL_PASS_EVERY = timedelta(seconds=30)
STOP_SECONDS = 20.0  # longer than one Twilio request may take
RUNNING, STOPPED, NONE = "running", "stopped", "none"


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the last full pass saw: the newest timeline line of any incident (every change to
    an incident writes one, from this process or another), each plan's calendar open or shut,
    the earliest moment a ladder rung or a held-over start falls due, and the checks file."""

    marker: int | None
    hours: tuple[bool, ...]
    next_due: datetime | None
    config: ChecksConfig
    at: datetime


class PagingService:
    def __init__(
        self,
        store: Store,
        incidents: IncidentService,
        metrics: Metrics,
        clock: Clock,
        sender: Sender | None,
        public_url: str | None,
        node: str | None = None,
    ) -> None:
        self._store = store
        self._incidents = incidents
        self._metrics = metrics
        self._clock = clock
        self.outbox = Outbox(store, node)
        # Whether this process plans pages (decisions, ladder rungs, SLA steps, held-over
        # notices): with several nodes only the leader does; every node sends what is due.
        self.planning: Callable[[], bool] = lambda: True
        self._wake = asyncio.Event()
        self._started_at = clock.now()
        self._stopping = False
        self.dispatcher = Dispatcher(
            self.outbox, store, incidents, metrics, clock, sender, public_url, self._not_reached
        )
        self.inbound = Inbound(self, public_url)
        self._sla = SlaEscalation(self)
        self._seen: _Seen | None = None

    # -- what the rest reads -----------------------------------------------------------------

    @property
    def config(self) -> ChecksConfig:
        return self._incidents.config  # follows SIGHUP reloads

    @property
    def store(self) -> Store:
        return self._store

    @property
    def incidents(self) -> IncidentService:
        return self._incidents

    @property
    def clock(self) -> Clock:
        return self._clock

    def facts(self, incident: IncidentRow) -> messages.Facts:
        try:
            customer = self.config.customer(incident.customer).name
        except KeyError:
            customer = incident.customer
        return messages.Facts(
            incident.id,
            customer,
            incident.site,
            incident.cause,
            incident.severity,
            incident.summary,
            incident.opened_at,
        )

    def timezone(self, plan_id: str) -> str:
        plan = self.config.plans.get(plan_id)
        calendar = self.config.calendars.get(plan.calendar) if plan else None
        return calendar.timezone if calendar else "UTC"

    def in_hours(self, plan_id: str, at: datetime) -> bool:
        try:
            return self._incidents.sla.calendar(plan_id).is_open(at)
        except KeyError:  # a plan removed by a reload: tell the desk rather than nobody
            return True

    async def record(self, incident_id: int, event: NewEvent) -> None:
        try:
            await self._incidents.record_event(incident_id, event)
        except Exception:
            log.exception("cannot write to the timeline of incident %s", incident_id)

    # -- the loop ----------------------------------------------------------------------------

    async def on_incident(self, change: IncidentChange) -> None:
        """Listener for incident changes: measure acknowledgements, wake the loop."""
        if change.kind == "acknowledged" and not (change.data or {}).get("again"):
            sent = [p.sent_at for p in await self.outbox.pages(change.incident.id) if p.sent_at]
            if sent:
                seconds = (change.at - min(sent)).total_seconds()
                self._metrics.page_ack.observe(max(seconds, 0.0))
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[asyncio.Task[None]]:
        """Run the dispatcher as a task; on exit let the page being sent finish (so it is
        recorded, not left half-sent) before the task ends."""
        task = asyncio.create_task(self.run(), name="paging")
        try:
            yield task
        finally:
            self._stopping = True
            self.wake()
            try:
                await asyncio.wait_for(task, STOP_SECONDS)
            except TimeoutError:
                log.warning("paging did not stop within %ss; cancelled", STOP_SECONDS)
            except Exception:
                log.exception("paging stopped with an error")

    async def run(self) -> None:
        """The dispatcher: every second, or at once when woken, until `stop()`."""
        await self.recover()
        failing = False
        quiet = False  # the first tick is a full pass
        while not self._stopping:
            try:
                await self.tick(quiet=quiet)
            except Exception as error:
                # Once per spell of failures (the database away, say), not once a second.
                if not failing:
                    log.exception("paging tick failed (%s); trying again every second", error)
                failing = True
            else:
                if failing:
                    log.info("paging works again")
                failing = False
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            quiet = not self._wake.is_set()
            self._wake.clear()

    async def recover(self, dead: Collection[str] | None = None) -> None:
        """Pages a previous process left half-sent are marked interrupted, never resent; with
        `dead`, those that these dead nodes were sending (the leader's sweep)."""
        now = self._clock.now()
        for page in await self.outbox.interrupted(self._started_at, now, dead):
            log.warning(
                "page %s was being sent when %s stopped; not resending",
                page.id,
                f"node {page.claimed_by}" if page.claimed_by else "the daemon",
            )
            await self.record(page.incident_id, timeline.page_event(page, now, "interrupted"))

    async def tick(self, now: datetime | None = None, quiet: bool = False) -> None:
        """Decide, plan what is due and send it, passing again while a pass moved something
        on (a step that reached nobody makes the next one due at once). `quiet`: nothing woke
        this tick, so the pass over open incidents is skipped if nothing can have changed."""
        now = now or self._clock.now()
        for _ in range(MAX_PASSES):
            self._wake.clear()
            await self._pass(now, quiet)
            if not self._wake.is_set():
                return
            quiet = False

    async def _pass(self, now: datetime, quiet: bool = False) -> None:
        if self.planning():
            if not (quiet and await self._nothing_new(now)):
                await self._full_pass(now)
            await self._sla.sweep(now)
        else:
            self._seen = None  # a node that starts leading makes a full pass first
        await self.dispatcher.send_due(now)

    async def _full_pass(self, now: datetime) -> None:
        self._seen = None  # set again only if this pass completes
        marker = await self.outbox.last_event_id()  # read first: later changes are seen next
        for incident in await self.outbox.unhandled():
            await self._decide(incident, now)
        active = await self.outbox.active()
        for incident, state in active:
            await self._follow(incident, state, now)
        held = [(i, s) for i, s in active if s.decision == policy.HOLD]
        # A held-over incident whose clock starts out of office hours (a severity worked at
        # weekends, held from a Friday evening) is worked by the on-call ladder, not the desk.
        started = [(i, s) for i, s in held if self._starts_out_of_hours(i, s, now)]
        for incident, _ in started:
            await self._hand_over(incident, now, policy.HOLD)
        await tell_held_over(self, [h for h in held if h not in started], now)
        moments: list[datetime | None] = [
            s.next_due_at for _, s in active if s.ladder == RUNNING and s.next_due_at
        ]
        moments += [i.clock_starts_at for i, s in held if s.held_told_at is None and i.held_over]
        moments += [self._incidents.ack_expires_at(i) for i, _ in active if i.acknowledged_at]
        due = [m for m in moments if m is not None]
        self._seen = _Seen(marker, self._hours(now), min(due, default=None), self.config, now)

    async def _nothing_new(self, now: datetime) -> bool:
        """Whether a full pass now would find what the last one left: no timeline line since,
        no rung or held-over start due, no calendar opened or closed, the same checks file."""
        seen = self._seen
        if seen is None or seen.config is not self.config or now - seen.at >= FULL_PASS_EVERY:
            return False
        if seen.next_due is not None and seen.next_due <= now:
            return False
        if self._hours(now) != seen.hours:
            return False
        return await self.outbox.last_event_id() == seen.marker

    def _hours(self, now: datetime) -> tuple[bool, ...]:
        """Each plan's calendar open or shut, and each severity worked or not, at `now`."""
        sla = self._incidents.sla
        return tuple(
            flag
            for plan_id in sorted(self.config.plans)
            for flag in (
                self.in_hours(plan_id, now),
                *(sla.covered(plan_id, s.name, now) for s in self.config.plans[plan_id].severities),
            )
        )

    def covered(self, incident: IncidentRow, at: datetime) -> bool:
        """Whether the incident's severity is worked at `at` under its plan."""
        try:
            return self._incidents.sla.covered(incident.plan, incident.severity, at)
        except KeyError:  # a plan or severity removed by a reload
            return False

    async def delivery(self, page_id: int, params: Mapping[str, str]) -> bool:
        return await self.dispatcher.delivery(page_id, params)

    # -- decisions ---------------------------------------------------------------------------

    async def _decide(self, incident: IncidentRow, now: datetime) -> None:
        in_hours = self.in_hours(incident.plan, now)
        decision = policy.decide(in_hours=in_hours, covered=not incident.held_over)
        fields: dict[str, object] = {"decision": decision, "severity": incident.severity}
        pages: list[NewPage] = []
        if incident.acknowledged_at is not None:
            message = "already acknowledged: nobody is paged"
        elif decision == policy.DESK:
            pages = [self.desk_page(incident, messages.page_sms(self.facts(incident)), now)]
            message = "in business hours: the desk is told"
        elif decision == policy.PAGE:
            oncall = self.config.oncall
            if oncall is None or not oncall.escalation:
                message = "out of hours and covered, but no oncall escalation is configured"
            else:
                fields.update(ladder=RUNNING, next_position=0, next_due_at=now)
                message = "out of hours and covered: paging the on-call escalation ladder"
        else:
            starts = incident.clock_starts_at.isoformat() if incident.clock_starts_at else "?"
            message = f"out of hours and not covered: held over; the desk is told at {starts}"
        try:
            created = await self.outbox.begin(incident.id, fields, pages, now)
        except Conflict:
            return
        await self.record(incident.id, timeline.paging_event(now, message, decision=decision))
        await self.record_skipped(created, now)
        self.wake()

    def desk_page(self, incident: IncidentRow, body: str, now: datetime) -> NewPage:
        plan = self.config.plans.get(incident.plan)
        rank = plan.rank(incident.severity) if plan else 0
        phone = self.config.oncall.desk_phone if self.config.oncall else None
        return NewPage(
            DESK,
            DESK_PERSON,
            "the desk",
            phone or "",
            "sms",
            body,
            now,
            step=rank,
            status=PENDING if phone else SKIPPED,
            cause=None if phone else "no desk phone configured (oncall: desk: phone)",
        )

    async def _follow(self, incident: IncidentRow, state: PagingStateRow, now: datetime) -> None:
        if incident.resolved_at is not None:
            await self._resolved(incident, state, now)
        elif incident.acknowledged_at is not None:
            if state.ladder == RUNNING:
                await self._stop(
                    incident, state, now, f"acknowledged by {incident.acknowledged_by}"
                )
            else:
                expires = self._incidents.ack_expires_at(incident)
                if expires is not None and expires <= now:
                    await self._incidents.expire_acknowledgement(
                        incident.id, incident.acknowledged_at, now
                    )
                    self.wake()  # the next pass starts the ladder again
        elif state.ladder == STOPPED:
            # Stopped by an acknowledgement that has since expired (`oncall.ack_timeout`).
            await climb_again(self, incident, state, now)
        elif incident.severity != state.severity:
            await self._upgraded(incident, state, now)
        elif state.ladder == RUNNING and state.next_due_at and state.next_due_at <= now:
            await climb(self, incident, state, now)
        elif state.decision == policy.DESK and self._still_open_at_closing(incident, state, now):
            await self._hand_over(incident, now)

    def _still_open_at_closing(
        self, incident: IncidentRow, state: PagingStateRow, now: datetime
    ) -> bool:
        """A covered incident the desk was told of in hours, still unacknowledged now the
        calendar has closed: nobody is at the desk to see it, so the on-call ladder takes it."""
        if state.ladder != NONE or self.in_hours(incident.plan, now):
            return False
        return self.covered(incident, now)

    def _starts_out_of_hours(
        self, incident: IncidentRow, state: PagingStateRow, now: datetime
    ) -> bool:
        """A held-over incident whose clock has started while the office is shut but its
        severity is worked (not yet told, acknowledged or resolved)."""
        starts = incident.clock_starts_at
        return (
            state.held_told_at is None
            and state.ladder == NONE
            and incident.held_over
            and incident.severity == state.severity
            and incident.acknowledged_at is None
            and incident.resolved_at is None
            and starts is not None
            and starts <= now
            and not self.in_hours(incident.plan, now)
            and self.covered(incident, now)
        )

    async def _hand_over(
        self, incident: IncidentRow, now: datetime, decision: policy.Decision = policy.DESK
    ) -> None:
        oncall = self.config.oncall
        if oncall is None or not oncall.escalation:
            return
        try:
            await self.outbox.move(
                incident.id,
                {"decision": decision, "ladder": NONE},
                {
                    "decision": policy.PAGE,
                    "ladder": RUNNING,
                    "next_position": 0,
                    "next_due_at": now,
                },
                [],
                now,
            )
        except Conflict:
            return
        if decision == policy.HOLD:
            message = "held over until now, out of office hours and worked: paging the ladder"
        else:
            message = "still unacknowledged when business hours ended: paging the on-call ladder"
        await self.record(incident.id, timeline.paging_event(now, message))
        self.wake()

    async def _stop(
        self, incident: IncidentRow, state: PagingStateRow, now: datetime, why: str
    ) -> None:
        try:
            await self.outbox.move(
                incident.id,
                {"ladder": RUNNING, "next_position": state.next_position},
                {"ladder": STOPPED, "next_due_at": None},
                [],
                now,
            )
        except Conflict:
            return
        cancelled = await self.outbox.cancel_pending(incident.id, (LADDER,), why, now)
        note = f"; {len(cancelled)} unsent pages cancelled" if cancelled else ""
        await self.record(
            incident.id, timeline.paging_event(now, f"escalation stopped: {why}{note}")
        )

    async def _resolved(self, incident: IncidentRow, state: PagingStateRow, now: datetime) -> None:
        """Stop everything and send one resolution message to everyone paged."""
        body = messages.resolved_sms(self.facts(incident), incident.resolved_by)
        pages = [
            NewPage(RESOLVED, p.person, p.name, p.phone, "sms", body, now)
            for p in await self.outbox.paged(incident.id)
        ]
        changes: dict[str, object] = {"closed": True, "next_due_at": None}
        if state.ladder == RUNNING:
            changes["ladder"] = STOPPED
        try:
            await self.outbox.move(incident.id, {"closed": False}, changes, pages, now)
        except Conflict:
            return
        why = f"resolved by {incident.resolved_by}"
        cancelled = await self.outbox.cancel_pending(
            incident.id, (LADDER, DESK, SLA, HELD_OVER), why, now
        )
        if pages or cancelled or state.ladder == RUNNING:
            told = f"; resolution notice to {len(pages)}" if pages else ""
            note = f"; {len(cancelled)} unsent pages cancelled" if cancelled else ""
            event = timeline.paging_event(now, f"paging finished: {why}{told}{note}")
            await self.record(incident.id, event)
        self.wake()

    async def _upgraded(self, incident: IncidentRow, state: PagingStateRow, now: datetime) -> None:
        previous = policy.PAGE if state.ladder != NONE else state.decision
        action = policy.on_upgrade(
            previous,  # type: ignore[arg-type]
            in_hours=self.in_hours(incident.plan, now),
            covered=not incident.held_over,
        )
        changes: dict[str, object] = {"severity": incident.severity}
        pages: list[NewPage] = []
        message = None
        if action == policy.DESK:
            changes["decision"] = policy.DESK
            pages = [self.desk_page(incident, messages.upgrade_sms(self.facts(incident)), now)]
            message = f"upgraded to {incident.severity} in business hours: the desk is told"
        elif action == policy.PAGE and self.config.oncall and self.config.oncall.escalation:
            changes.update(decision=policy.PAGE, ladder=RUNNING, next_position=0, next_due_at=now)
            message = f"upgraded to {incident.severity}, covered out of hours: paging the ladder"
        try:
            created = await self.outbox.move(
                incident.id, {"severity": state.severity}, changes, pages, now
            )
        except Conflict:
            return
        if message:
            await self.record(incident.id, timeline.paging_event(now, message))
        await self.record_skipped(created, now)
        if action == policy.PAGE:  # the first rung goes now, not a tick later
            moved = await self.outbox.state(incident.id)
            if moved is not None and moved.ladder == RUNNING:
                await climb(self, incident, moved, now)
        self.wake()

    async def _not_reached(self, page: PageRow, now: datetime) -> None:
        await not_reached(self, page, now)

    async def record_skipped(self, created: list[PageRow], now: datetime) -> None:
        for page in created:
            if page.status == SKIPPED:
                await self.record(page.incident_id, timeline.page_event(page, now, "skipped"))
