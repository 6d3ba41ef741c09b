"""Agreement across locations, between the monitor and the incident service.

When this node's probes of a site reach `confirm`, it writes its location's view (failing,
with the cause) and asks the other locations to probe the site now: a request row per
location, claimed there with `FOR UPDATE SKIP LOCKED` by the node that probes the site, woken
by `NOTIFY`. Then it reads every location's view and opens (or upgrades) the incident only when
`agree` counted locations see the site failing (`agreement.decide`); the incident service stays
the only writer, and the database's one-open-incident-per-site index makes two nodes racing
to open open one. A location opening on its word alone (no other counted location agrees) is
first checked for being degraded (`degraded`): if its own network fails, nothing opens.

On recovery it writes its view back to not failing, and the incident is resolved once no
counted location still sees the site failing. The timeline says which locations saw what and
when: at opening, every location's view; later, each location that confirms the failure or
sees the site up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from uptimeguard.cluster import agreement_sql as sql
from uptimeguard.cluster.agreement import View, decide, describe, still_failing
from uptimeguard.cluster.degraded import LocationSample, judge, may_be_degraded, reason, window
from uptimeguard.cluster.node import ClusterNode
from uptimeguard.config.models import SiteRef
from uptimeguard.incidents.cert_expiry import CAUSE as CERT_EXPIRY
from uptimeguard.incidents.service import IncidentService
from uptimeguard.monitor.gate import IncidentSignal
from uptimeguard.storage.models import IncidentRow
from uptimeguard.storage.repository import NewEvent, Store

log = logging.getLogger(__name__)

REQUESTS_KEPT = timedelta(hours=1)
EVENT = "locations"  # the timeline entries of this module


@dataclass(slots=True)
class _Site:
    """What this node remembers of one site's agreement."""

    written: tuple[bool, str | None] | None = None  # the view it last wrote
    asked: bool = False  # the other locations were asked to probe, this failing run
    waiting: bool = False  # "waiting for more locations" logged, this failing run
    noted: int | None = None  # the incident whose timeline has this location's view


class AgreementGate:
    def __init__(
        self,
        node: ClusterNode,
        incidents: IncidentService,
        store: Store,
        owns: Any,
        probe_now: Any,
        local_stats: Any,
    ) -> None:
        self._node = node
        self._incidents = incidents
        self._store = store
        self._engine = store.engine
        self._owns = owns  # key -> bool: this node probes the site
        self._probe_now = probe_now  # key -> bool
        self._local_stats = local_stats  # () -> this node's window counts
        self._sites: dict[tuple[str, str], _Site] = {}
        self._pending: dict[tuple[str, str], int] = {}  # requests claimed, not yet probed
        self._claim_soon = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._short_seen: tuple[int, int] | None = None
        self._degraded_logged: set[str] = set()

    # -- the monitor's side (IncidentGate) ---------------------------------------------------

    async def failing(self, ref: SiteRef, signal: IncidentSignal) -> None:
        node, key = self._node, ref.key
        customer, site = key
        state = self._sites.setdefault(key, _Site())
        mine = node.location
        if state.written != (True, signal.cause):
            view = View(mine, True, signal.cause, signal.since, signal.at, node.name, signal.detail)
            await sql.write_view(self._engine, customer, site, view)
            state.written = (True, signal.cause)
        counted = self.counted()
        if not state.asked:
            await self._ask(ref, counted)
            state.asked = True
        if mine not in counted:
            self._say_degraded(mine)
            return
        views = await sql.views_of(self._engine, customer, site)
        decision = decide(views, counted, ref.agree, lambda cause: self._rank(customer, cause))
        if not decision.open:
            if not state.waiting:
                state.waiting = True
                log.info(
                    "%s/%s fails from %s; waiting for %d of %d locations to agree (agree: %d)",
                    customer,
                    site,
                    ", ".join(decision.agreeing) or mine,
                    decision.need,
                    len(counted),
                    ref.agree,
                )
            return
        if decision.agreeing == (mine,) and len(counted) > 1 and await self.degraded_now(mine):
            return  # its own network fails: its word alone opens nothing
        assert decision.cause is not None
        detail = signal.detail if decision.cause == signal.cause else ""
        # Which locations saw what: written with the opening (or upgrade) itself, so the
        # other locations find it there and do not repeat it.
        seen = self._entry(signal.at, f"seen: {describe(views, counted)}", "failing",
                           list(decision.agreeing))  # fmt: skip
        row = await self._incidents.site_failing(
            customer, site, decision.cause, signal.at, detail, also=[seen]
        )
        if row is not None:
            await self._note(state, row, views, counted, signal.at)

    async def recovered(self, ref: SiteRef, signal: IncidentSignal) -> None:
        node, key = self._node, ref.key
        customer, site = key
        state = self._sites.setdefault(key, _Site())
        if state.written != (False, None):
            view = View(node.location, False, None, None, None, node.name)
            await sql.write_view(self._engine, customer, site, view)
            state.written = (False, None)
        state.asked = state.waiting = False
        counted = self.counted()
        views = await sql.views_of(self._engine, customer, site)
        still = [loc for loc in still_failing(views, counted) if loc != node.location]
        incident = await self._store.open_incident_for_site(customer, site)
        if incident is None or incident.source != "monitor":
            return
        text = f"up again from {node.location}: " + describe(views, counted)
        await self._event(incident.id, signal.at, text, "up", [node.location])
        if not still:
            await self._incidents.site_recovered(customer, site, signal.at)

    def probed(self, ref: SiteRef, outcome: str, at: datetime) -> None:
        request = self._pending.pop(ref.key, None)
        if request is not None:
            self._spawn(sql.done(self._engine, request, outcome))

    # -- which locations count ---------------------------------------------------------------

    def counted(self) -> frozenset[str]:
        """Locations with a live node and not degraded: those that have a say."""
        return self._node.live_locations() - frozenset(self._node.degraded)

    def short_sites(self, refs: Collection[SiteRef]) -> int:
        """Sites whose `agree` asks for more locations than are counted; logged on change."""
        counted = len(self.counted())
        short = sum(1 for ref in refs if ref.agree > counted)
        if (counted, short) != self._short_seen:
            self._short_seen = (counted, short)
            if short:
                log.warning(
                    "only %d location%s live and not degraded (%s): %d site%s asking to agree "
                    "across more are decided by every live location",
                    counted,
                    " is" if counted == 1 else "s are",
                    ", ".join(sorted(self.counted())) or "none",
                    short,
                    "" if short == 1 else "s",
                )
        return short

    def _window(self) -> timedelta:
        defaults = self._incidents.config.defaults
        return window(defaults.recheck, defaults.confirm)

    def _rank(self, customer: str, cause: str) -> int | None:
        try:
            plan = self._incidents.config.plan_for(customer)
        except KeyError:
            return None
        severity = plan.causes.get(cause)
        return plan.rank(severity) if severity is not None else None

    # -- degraded locations ------------------------------------------------------------------

    def _sample_counts(self, location: str) -> LocationSample:
        node = self._node
        sites = failing = 0
        for member in node.live_members():
            if member.location != location:
                continue
            if member.name == node.name:  # its own figures, fresh
                stats = self._local_stats()
                sites += stats["window_sites"]
                failing += stats["window_failing"]
            else:
                sites += member.window_sites
                failing += member.window_failing
        return LocationSample(location, sites, failing)

    async def judge_location(self, location: str) -> tuple[bool, LocationSample]:
        """Whether `location` is degraded now, and what that rests on."""
        degraded_now = location in self._node.degraded
        counts = self._sample_counts(location)
        if not may_be_degraded(counts, degraded_now):
            return (degraded_now and counts.sites == 0), counts
        others = self.counted() - {location}
        found = await sql.sample(self._engine, location, counts.sites, others, self._window())
        return judge(found, degraded_now), found

    async def degraded_now(self, location: str) -> bool:
        """Judge `location` now (before it opens on its word alone); mark it if degraded."""
        degraded, found = await self.judge_location(location)
        if degraded and location not in self._node.degraded:
            await self.mark(location, True, found)
        return degraded

    async def mark(self, location: str, degraded: bool, found: LocationSample) -> None:
        """Open or close the location's degraded spell and tell every node."""
        node = self._node
        if degraded:
            why = reason(found, self._window().total_seconds())
            if await sql.open_spell(self._engine, location, node.now() - self._window(), why):
                log.warning(
                    "location %s is degraded: %s; its probes open and upgrade no incident "
                    "and count for no uptime until it recovers",
                    location,
                    why,
                )
        elif await sql.close_spell(self._engine, location):
            why = reason(found, self._window().total_seconds())
            log.info("location %s is no longer degraded: %s", location, why)
        node.degraded = dict(node.degraded)
        if degraded:
            node.degraded.setdefault(location, node.now())
        else:
            node.degraded.pop(location, None)
        await node.announce("nodes")

    def _say_degraded(self, location: str) -> None:
        if location not in self._degraded_logged:
            self._degraded_logged.add(location)
            log.warning(
                "location %s is degraded: its confirmed failures open no incident", location
            )

    async def sweep_degraded(self) -> None:
        """The leader's sweep: judge every live location; clear spells of vanished ones."""
        node = self._node
        self._degraded_logged &= set(node.degraded)
        for location in sorted(node.live_locations() | set(node.degraded)):
            degraded, found = await self.judge_location(location)
            if degraded != (location in node.degraded):
                await self.mark(location, degraded, found)

    async def sweep_resolved(self) -> None:
        """The leader's sweep: resolve a monitor incident no counted location sees failing
        any more while one sees it up (its last failing location died, or is degraded)."""
        open_rows = [
            row
            for row in await self._store.incidents(unresolved=True, limit=100_000)
            # Opened by failing probes; a certificate's incident ends when it is renewed.
            if row.source == "monitor" and row.site is not None and row.cause != CERT_EXPIRY
        ]
        if not open_rows:
            return
        counted = self.counted()
        views = await sql.views_of_many(
            self._engine, [(row.customer, row.site or "") for row in open_rows]
        )
        now = self._node.now()
        for row in open_rows:
            seen = views.get((row.customer, row.site or ""), [])
            up = [v for v in seen if v.location in counted and not v.failing]
            if still_failing(seen, counted) or not up:
                continue
            text = "no live location sees it failing any more: " + describe(seen, counted)
            await self._event(row.id, now, text, "up", [v.location for v in up])
            await self._incidents.site_recovered(row.customer, row.site or "", now)

    async def sweep_requests(self) -> None:
        await sql.forget_requests(self._engine, REQUESTS_KEPT)

    # -- probe requests ----------------------------------------------------------------------

    async def _ask(self, ref: SiteRef, counted: frozenset[str]) -> None:
        node = self._node
        others = sorted(counted - {node.location})
        if not others:
            return
        customer, site = ref.key
        expires = max(ref.interval, timedelta(seconds=60))
        message = node.message("request", locations=others)
        await sql.ask(
            self._engine, node.channel, message, customer, site, others, node.name,
            node.location, expires,
        )  # fmt: skip

    def _requested(self, message: dict[str, Any]) -> None:
        if self._node.location in (message.get("locations") or ()):
            self._claim_soon.set()

    async def run(self) -> None:
        """Claim this location's requests when woken, and every heartbeat period anyway."""
        node = self._node
        node.on_message("request", self._requested)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._claim_soon.wait(), node.identity.heartbeat_every)
            self._claim_soon.clear()
            try:
                claimed = await sql.claim(
                    self._engine, node.location, node.name, self._owns, node.identity.timeout
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.debug("cannot claim probe requests: %s", error)
                continue
            for request_id, customer, site in claimed:
                key = (customer, site)
                if self._probe_now(key):
                    self._pending[key] = request_id

    # -- the timeline ------------------------------------------------------------------------

    async def _note(
        self,
        state: _Site,
        row: IncidentRow,
        views: list[View],
        counted: frozenset[str],
        at: datetime,
    ) -> None:
        """Put this location's view in the incident's timeline once, unless an opening or
        an upgrade already carries it."""
        mine = self._node.location
        if state.noted == row.id:
            return
        for event in await self._store.events(row.id):
            data = event.data or {}
            if event.kind == EVENT and mine in (data.get("locations") or ()):
                state.noted = row.id
                return
        text = f"also failing from {mine}: {describe(views, counted)}"
        await self._event(row.id, at, text, "failing", [mine])
        state.noted = row.id

    def _entry(self, at: datetime, text: str, state: str, locations: list[str]) -> NewEvent:
        """A timeline entry: `locations` now see the site `state` (failing or up)."""
        data = {"state": state, "locations": sorted(locations)}
        return NewEvent(EVENT, at, text, self._node.name, data)

    async def _event(
        self, incident_id: int, at: datetime, text: str, state: str, locations: list[str]
    ) -> None:
        await self._incidents.record_event(incident_id, self._entry(at, text, state, locations))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
