"""The incident lifecycle: the only writer of incidents.

The monitor reports confirmed failures and recoveries; people (API, CLI) acknowledge, resolve,
annotate and open incidents by hand. Each change is one transaction that updates the incident
and appends to its timeline, then the change is announced to listeners (paging, metrics).
Deadlines come from the SLA engine; breaches are recorded here when the clock says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from uptimeguard.config.cover import plan_in_force
from uptimeguard.config.durations import format_duration
from uptimeguard.config.models import ChecksConfig, Cover, Plan
from uptimeguard.incidents import ack_timeout, pausing
from uptimeguard.incidents.cert_expiry import CAUSE as CERT_EXPIRY
from uptimeguard.incidents.cert_expiry import cert_severity
from uptimeguard.incidents.changes import IncidentChange, Listener
from uptimeguard.incidents.clock_pauses import ClockPauses
from uptimeguard.incidents.errors import Conflict, IncidentError, NotFound
from uptimeguard.sla import SlaEngine
from uptimeguard.sla.deadlines import Deadlines
from uptimeguard.status.public import display_name
from uptimeguard.status.updates import PUBLIC_UPDATE, public_update
from uptimeguard.storage.models import IncidentEventRow, IncidentRow
from uptimeguard.storage.repository import NewEvent, Store

log = logging.getLogger(__name__)


class IncidentService:
    def __init__(self, store: Store, config: ChecksConfig) -> None:
        self._store = store
        self._listeners: list[Listener] = []
        self._site_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._pauses = ClockPauses(self)
        self.use_config(config)

    def use_config(self, config: ChecksConfig) -> None:
        """Switch to a reloaded checks file (open incidents keep their deadlines)."""
        self.config = config
        self.sla = SlaEngine(plans=config.plans, calendars=config.calendars)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def _announce(self, change: IncidentChange) -> None:
        for listener in self._listeners:
            try:
                await listener(change)
            except Exception:
                log.exception(
                    "listener failed on %s of incident %s", change.kind, change.incident.id
                )

    def _lock(self, customer: str, site: str) -> asyncio.Lock:
        return self._site_locks.setdefault((customer, site), asyncio.Lock())

    def _plan(self, customer: str, at: datetime) -> tuple[Plan, Cover | None]:
        """The plan an incident opened at `at` works under: the customer's own, or the plan
        of the ad-hoc cover period `at` falls in."""
        try:
            return plan_in_force(self.config, customer, at)
        except KeyError:
            raise NotFound(f"unknown customer {customer!r}") from None

    def plan_of(self, incident: IncidentRow) -> Plan:
        """The plan an incident works under (the one it opened under, while it exists)."""
        plan = self.config.plans.get(incident.plan)
        return plan if plan is not None else self._plan(incident.customer, incident.opened_at)[0]

    # -- from the monitor --------------------------------------------------------------------

    async def site_failing(
        self,
        customer: str,
        site: str,
        cause: str,
        now: datetime,
        detail: str = "",
        also: Sequence[NewEvent] = (),
    ) -> IncidentRow | None:
        """A confirmed failure: open an incident, or upgrade the open one if `cause` is worse.
        `also`: timeline entries written with the opening or the upgrade, in its transaction
        (which locations saw what), and not otherwise.

        Returns the incident, or None when the plan opens nothing for this cause. An open
        incident keeps the plan it opened under (a cover period beginning meanwhile changes
        nothing for it).
        """
        return await self._failing(
            customer, site, cause, now, detail, lambda p: p.causes.get(cause), also
        )

    async def site_cert_expiring(
        self, customer: str, site: str, level: int, now: datetime, detail: str
    ) -> IncidentRow | None:
        """A site's certificate passed its `level`th warning threshold: open a `cert_expiry`
        incident, or upgrade the open one to that level's severity (see `cert_expiry`).

        Returns the incident, or None when the plan opens nothing for certificates.
        """

        def severity_in(plan: Plan) -> str | None:
            return cert_severity(plan, level)

        return await self._failing(customer, site, CERT_EXPIRY, now, detail, severity_in)

    async def site_cert_renewed(
        self, customer: str, site: str, now: datetime
    ) -> IncidentRow | None:
        """The certificate is no longer near expiry: resolve an open `cert_expiry` incident."""
        async with self._lock(customer, site):
            current = await self._store.open_incident_for_site(customer, site)
            if current is None or current.source != "monitor" or current.cause != CERT_EXPIRY:
                return None
            return await self._resolve(current, "monitor", now, "certificate renewed")

    async def _failing(
        self,
        customer: str,
        site: str,
        cause: str,
        now: datetime,
        detail: str,
        severity_in: Callable[[Plan], str | None],
        also: Sequence[NewEvent] = (),
    ) -> IncidentRow | None:
        """Open an incident for `cause`, or upgrade the open one; `severity_in` names the
        severity `cause` means under a plan (None: that plan opens nothing for it)."""
        plan, cover = self._plan(customer, now)
        async with self._lock(customer, site):
            current = await self._store.open_incident_for_site(customer, site)
            if current is None:
                severity = severity_in(plan)
                if severity is None:
                    return None
                summary = f"{site} {cause.replace('_', ' ')}" + (f": {detail}" if detail else "")
                return await self._open(
                    plan,
                    customer,
                    site,
                    severity,
                    cause,
                    summary,
                    now,
                    source="monitor",
                    by="monitor",
                    cover=cover,
                    also=also,
                )
            plan = self.plan_of(current)
            severity = severity_in(plan)
            if severity is None:
                return None
            if plan.rank(severity) < plan.rank(current.severity):
                return await self._upgrade(plan, current, severity, cause, now, detail, also)
            return current

    async def site_recovered(self, customer: str, site: str, now: datetime) -> IncidentRow | None:
        async with self._lock(customer, site):
            current = await self._store.open_incident_for_site(customer, site)
            if current is None or current.source != "monitor":
                return None
            return await self._resolve(current, "monitor", now, "site recovered")

    # -- from people -------------------------------------------------------------------------

    async def open_manual(
        self,
        customer: str,
        site: str | None,
        severity: str,
        summary: str,
        now: datetime,
        by: str = "api",
    ) -> IncidentRow:
        plan, cover = self._plan(customer, now)
        try:
            plan.severity(severity)
        except KeyError:
            names = ", ".join(s.name for s in plan.severities)
            raise IncidentError(
                f"unknown severity {severity!r} for plan {plan.id}; expected one of: {names}"
            ) from None
        if site is not None and site not in {s.id for s in self.config.customer(customer).sites}:
            raise IncidentError(f"unknown site {site!r} for customer {customer!r}")
        if site is None:
            return await self._open(
                plan, customer, None, severity, "manual", summary, now, "manual", by, cover
            )
        async with self._lock(customer, site):
            if await self._store.open_incident_for_site(customer, site) is not None:
                raise IncidentError(f"site {customer}/{site} already has an open incident")
            return await self._open(
                plan, customer, site, severity, "manual", summary, now, "manual", by, cover
            )

    async def open_from_channel(
        self,
        customer: str,
        channel: str,
        summary: str,
        now: datetime,
        by: str,
        data: dict[str, Any] | None = None,
    ) -> IncidentRow:
        """An incident a customer raised through a channel, `phone` (a message on the phone
        line) or `callback` (a callback request): no site, the plan's `phone` or `callback`
        severity, and the channel as its source and cause."""
        plan, cover = self._plan(customer, now)
        severity = plan.phone_severity if channel == "phone" else plan.callback_severity
        return await self._open(
            plan, customer, None, severity, channel, summary, now, channel, by, cover, data
        )

    async def acknowledge(
        self, incident_id: int, by: str, now: datetime, note: str | None = None
    ) -> IncidentRow:
        row, _ = await self.try_acknowledge(incident_id, by, now, note)
        return row

    async def try_acknowledge(
        self, incident_id: int, by: str, now: datetime, note: str | None = None
    ) -> tuple[IncidentRow, bool]:
        """Acknowledge for `by` unless somebody already has; returns the incident and whether
        this call is the acknowledgement that took. The write is one conditional update
        (`WHERE acknowledged_at IS NULL AND resolved_at IS NULL`), so of two at once, on
        SQLite or PostgreSQL, exactly one takes and the other reads who did."""
        incident = await self._get(incident_id)
        if incident.resolved_at is not None:
            raise Conflict(f"incident {incident_id} is already resolved")
        if incident.acknowledged_at is not None:
            if self.ack_expires_at(incident) is None:
                return incident, False
            return await self._renew(incident, by, now, note)
        await self._record_breaches(incident, now)
        events = [
            self._posted(
                incident, NewEvent("acknowledged", now, note or f"acknowledged by {by}", by)
            )
        ]
        updated = await self._store.update_incident(
            incident_id,
            {"status": "acknowledged", "acknowledged_at": now, "acknowledged_by": by},
            events,
            only_if={"acknowledged_at": None, "resolved_at": None},
        )
        if updated is None:  # somebody else got there first
            return await self._get(incident_id), False
        await self._announce(IncidentChange("acknowledged", updated, now))
        return updated, True

    def ack_expires_at(self, incident: IncidentRow) -> datetime | None:
        """When the incident's acknowledgement expires (`oncall.ack_timeout`), if it does."""
        oncall = self.config.oncall
        try:
            calendar = self.sla.calendar(incident.plan)
        except KeyError:  # a plan removed by a reload
            return None
        timeout = oncall.ack_timeout if oncall is not None else None
        return ack_timeout.expires_at(
            incident.acknowledged_at, incident.resolved_at, timeout, calendar
        )

    async def _renew(
        self, incident: IncidentRow, by: str, now: datetime, note: str | None
    ) -> tuple[IncidentRow, bool]:
        """Acknowledged again while the acknowledgement timeout runs: it starts over."""
        event = NewEvent(
            "ack_renewed",  # not a public update: the page said so at the first
            now,
            note or f"acknowledged again by {by}: the acknowledgement timeout starts over",
            by,
            {"again": True},
        )
        updated = await self._store.update_incident(
            incident.id,
            {
                "acknowledged_at": now,
                "acknowledged_by": by,
                "responded_at": incident.responded_at or incident.acknowledged_at,
            },
            [event],
            only_if={"acknowledged_at": incident.acknowledged_at, "resolved_at": None},
        )
        if updated is None:
            return await self._get(incident.id), False
        await self._announce(IncidentChange("acknowledged", updated, now, {"again": True}))
        return updated, True

    async def expire_acknowledgement(
        self, incident_id: int, acknowledged_at: datetime, now: datetime
    ) -> IncidentRow | None:
        """The acknowledgement made at `acknowledged_at` ran out (`oncall.ack_timeout`): the
        incident goes back to triggered. None when that acknowledgement is no longer the
        incident's (acknowledged again, resolved, or expired by another node already). The
        response target stays met: `responded_at` keeps the first acknowledgement."""
        incident = await self._get(incident_id)
        if incident.resolved_at is not None or incident.acknowledged_at != acknowledged_at:
            return None
        timeout = self.config.oncall.ack_timeout if self.config.oncall else None
        after = f" after {format_duration(timeout)}" if timeout else ""
        event = NewEvent(
            "ack_expired",
            now,
            f"acknowledgement by {incident.acknowledged_by} expired{after}, neither resolved "
            "nor acknowledged again: triggered again",
            "paging",
            {"acknowledged_at": _iso(acknowledged_at), "acknowledged_by": incident.acknowledged_by},
        )
        updated = await self._store.update_incident(
            incident_id,
            {
                "status": "open",
                "acknowledged_at": None,
                "acknowledged_by": None,
                "responded_at": incident.responded_at or acknowledged_at,
            },
            [event],
            only_if={"acknowledged_at": acknowledged_at, "resolved_at": None},
        )
        if updated is None:
            return None
        log.info("incident %s: acknowledgement expired, triggered again", incident_id)
        await self._announce(IncidentChange("ack_expired", updated, now))
        return updated

    async def resolve(
        self, incident_id: int, by: str, now: datetime, note: str | None = None
    ) -> IncidentRow:
        """Resolve for `by`; Conflict when it is resolved already (by anyone, or itself)."""
        incident = await self._get(incident_id)
        if incident.resolved_at is not None:
            raise Conflict(f"incident {incident_id} is already resolved")
        return await self._resolve(incident, by, now, note or f"resolved by {by}")

    async def add_note(
        self, incident_id: int, by: str, note: str, now: datetime, public: bool = False
    ) -> IncidentRow:
        """Append a note; a `public` one is also an update on the customer's status page."""
        incident = await self._get(incident_id)
        data = {"public": True} if public else None
        event = self._posted(incident, NewEvent("note", now, note, by, data))
        await self._store.add_event(incident_id, event)
        await self._announce(IncidentChange("noted", incident, now, {"note": note}))
        return incident

    async def pause(self, incident_id: int, by: str, reason: str, now: datetime) -> IncidentRow:
        """Stop the incident's SLA clock at `now` (waiting on the customer, say): every target
        not yet reached has no deadline until `resume`. Conflict when it is resolved or paused.
        """
        return await self._pauses.pause(incident_id, by, reason, now)

    async def resume(self, incident_id: int, by: str, now: datetime) -> IncidentRow:
        """Restart the SLA clock at `now`: each deadline moves on by the clock time the pause
        stopped (never earlier than before the pause). Conflict when it is not paused."""
        return await self._pauses.resume(incident_id, by, now)

    async def sla_history(self, incident: IncidentRow) -> tuple[str, list[tuple[str, datetime]]]:
        """The severity the incident opened with, and each upgrade since (from its timeline)."""
        return await self._pauses.sla_history(incident)

    async def record_event(self, incident_id: int, event: NewEvent) -> None:
        """Append a timeline entry written by another component (a page, a delivery status)."""
        await self._store.add_event(incident_id, event)

    # -- the SLA clock -----------------------------------------------------------------------

    async def check_breaches(self, now: datetime) -> list[IncidentChange]:
        """Record every deadline passed by `now` that is not yet recorded; each once."""
        changes: list[IncidentChange] = []
        for incident in await self._store.incidents(unresolved=True, limit=100_000):
            changes.extend(await self._record_breaches(incident, now))
        return changes

    async def _record_breaches(self, incident: IncidentRow, now: datetime) -> list[IncidentChange]:
        recorded = [
            target
            for target in ("response", "resolution")
            if getattr(incident, f"{target}_breached_at") is not None
        ]
        # An acknowledgement that later expired still met the response target.
        responded = incident.responded_at or incident.acknowledged_at
        found = self.sla.breaches(
            _deadlines_of(incident), responded, incident.resolved_at, now, recorded
        )
        changes = []
        for breach in found:
            column = f"{breach.target}_breached_at"
            updated = await self._store.update_incident(
                incident.id,
                {column: breach.at},
                [
                    NewEvent(
                        "breach",
                        breach.at,
                        f"{breach.target} target missed (due {breach.at.isoformat()})",
                        data={"target": breach.target},
                    )
                ],
                only_if={column: None},
            )
            if updated is None:  # recorded by another writer meanwhile
                continue
            change = IncidentChange("breached", updated, now, {"target": breach.target})
            await self._announce(change)
            changes.append(change)
        return changes

    # -- internals ---------------------------------------------------------------------------

    def _posted(self, incident: IncidentRow, event: NewEvent) -> NewEvent:
        """`event` with the words it makes public stored in it (`data["public_update"]`), so
        the status page, its feed and its history read as they did when it was posted, after
        an upgrade changes the wording or the checks file renames the site."""
        try:
            sites = self.config.customer(incident.customer).sites
        except KeyError:
            sites = ()
        names = {site.id: display_name(site) for site in sites}
        row = IncidentEventRow(at=event.at, kind=event.kind, by=event.by, message=event.message,
                               data=event.data)  # fmt: skip
        update = public_update(incident, row, names)
        if update is None:
            return event
        words = {"status": update.status, "message": update.message}
        return replace(event, data={**(event.data or {}), PUBLIC_UPDATE: words})

    async def _get(self, incident_id: int) -> IncidentRow:
        incident = await self._store.incident(incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        return incident

    async def _open(
        self,
        plan: Plan,
        customer: str,
        site: str | None,
        severity: str,
        cause: str,
        summary: str,
        now: datetime,
        source: str,
        by: str,
        cover: Cover | None = None,
        data: dict[str, Any] | None = None,
        also: Sequence[NewEvent] = (),
    ) -> IncidentRow:
        deadlines = self.sla.deadlines(plan.id, severity, now)
        fields = {
            "customer": customer,
            "site": site,
            "plan": plan.id,
            "severity": severity,
            "cause": cause,
            "status": "open",
            "source": source,
            "summary": summary,
            "opened_at": now,
            "held_over": deadlines.held_over,
            "clock_starts_at": deadlines.clock_starts,
            "response_due": deadlines.response_due,
            "resolution_due": deadlines.resolution_due,
            "cover": cover.label if cover is not None else None,
        }
        message = f"opened as {severity} ({cause})"
        if cover is not None:
            message += f" under plan {plan.id}: ad-hoc cover {cover.label}"
        if deadlines.held_over:
            message += (
                f"; held over: not worked now, clock starts {deadlines.clock_starts.isoformat()}"
            )
        details = {"severity": severity, "cause": cause, "summary": summary, **(data or {})}
        event = self._posted(IncidentRow(**fields), NewEvent("opened", now, message, by, details))
        try:
            incident = await self._store.create_incident(fields, event, also)
        except IntegrityError:  # another writer opened one for this site a moment ago
            existing = await self._store.open_incident_for_site(customer, site or "")
            if existing is None:
                raise
            return existing
        log.info("incident %s opened: %s/%s %s (%s)", incident.id, customer, site, severity, cause)
        await self._announce(IncidentChange("opened", incident, now))
        return incident

    async def _upgrade(
        self,
        plan: Plan,
        incident: IncidentRow,
        severity: str,
        cause: str,
        now: datetime,
        detail: str,
        also: Sequence[NewEvent] = (),
    ) -> IncidentRow:
        # A running pause stops the new severity's clock too: it counts from the resume.
        pauses = pausing.as_pauses(await self._store.pauses(incident.id))
        new = self.sla.upgrade(plan.id, _deadlines_of(incident), severity, now, pauses)
        changes: dict[str, Any] = {
            "severity": severity,
            "cause": cause,
            "response_due": new.response_due,
            "resolution_due": new.resolution_due,
            "held_over": new.held_over,
            "clock_starts_at": new.clock_starts,
        }
        message = f"upgraded from {incident.severity} to {severity} ({cause})"
        if detail:
            message += f": {detail}"
        event = NewEvent(
            "upgraded",
            now,
            message,
            "monitor",
            {"from": incident.severity, "to": severity, "cause": cause},
        )
        # Conditional: another node may upgrade the same incident at the same moment; one
        # upgrade is recorded, announced and paged.
        updated = await self._store.update_incident(
            incident.id,
            changes,
            [event, *also],
            only_if={"severity": incident.severity, "resolved_at": None},
        )
        if updated is None:
            return await self._get(incident.id)
        log.info("incident %s upgraded to %s (%s)", incident.id, severity, cause)
        await self._announce(IncidentChange("upgraded", updated, now, {"from": incident.severity}))
        return updated

    async def _resolve(
        self, incident: IncidentRow, by: str, now: datetime, note: str
    ) -> IncidentRow:
        # A deadline that passed before this resolution is a breach even if no timer saw it.
        await self._record_breaches(incident, now)
        # Conditional on the pause as read: a pause or resume meanwhile means reading again.
        for _ in range(3):
            updated = await self._resolve_once(incident, by, now, note)
            if updated is not None:
                log.info("incident %s resolved by %s", incident.id, by)
                await self._announce(IncidentChange("resolved", updated, now))
                return updated
            incident = await self._get(incident.id)
            if incident.resolved_at is not None:
                return incident
        raise Conflict(f"incident {incident.id} keeps changing; try again")

    async def _resolve_once(
        self, incident: IncidentRow, by: str, now: datetime, note: str
    ) -> IncidentRow | None:
        changes: dict[str, Any] = {"status": "resolved", "resolved_at": now, "resolved_by": by}
        also = None
        if incident.paused_at is not None:  # the resolution ends the pause
            moved, running = await self._pauses.unpaused(incident, now)
            changes.update(moved)
            if running is not None:
                incident_id = incident.id

                async def end(session: Any) -> None:
                    await pausing.end_running(session, incident_id, now, by)

                also = end
        return await self._store.update_incident(
            incident.id,
            changes,
            [self._posted(incident, NewEvent("resolved", now, note, by))],
            only_if={"resolved_at": None, "paused_at": incident.paused_at},
            also=also,
        )


def _deadlines_of(incident: IncidentRow) -> Deadlines:
    """The SLA engine's view of a stored incident's deadlines."""
    return Deadlines(
        severity=incident.severity,
        opened_at=incident.opened_at,
        clock_starts=incident.clock_starts_at or incident.opened_at,
        response_due=incident.response_due,
        resolution_due=incident.resolution_due,
        held_over=incident.held_over,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
