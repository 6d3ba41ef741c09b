"""The monitor: probes each site when the scheduler says, judges the result, tells incidents.

Data flows one way: the scheduler calls `probe_site`; the prober does the I/O; `judge` decides
what the result means; the incident service opens, upgrades or resolves; the writer stores the
result and the site's state in the next batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from uptimeguard.clock import Clock
from uptimeguard.cluster.handover import Handover, first_probe
from uptimeguard.config.models import ChecksConfig, SiteRef
from uptimeguard.incidents.cert_expiry import CAUSE as CERT
from uptimeguard.incidents.service import IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.monitor import cert_watch
from uptimeguard.monitor.gate import DirectGate, IncidentGate, IncidentSignal
from uptimeguard.monitor.maintenance import in_maintenance
from uptimeguard.monitor.scheduler import HeapScheduler, loop_time_of, next_slot_in, phase_of
from uptimeguard.monitor.tracker import Rules, TrackerState, judge
from uptimeguard.probe import Prober, ProbeResult
from uptimeguard.site_series import SiteSeries
from uptimeguard.status.live_rollups import max_span
from uptimeguard.status.rollup_job import resume
from uptimeguard.status.zones import page_timezone
from uptimeguard.storage.models import DEFAULT_LOCATION
from uptimeguard.storage.repository import Store
from uptimeguard.storage.writer import ResultWriter

log = logging.getLogger(__name__)

SiteKey = tuple[str, str]


MAX_UNSENT = 16


def squash(signals: list[IncidentSignal]) -> list[IncidentSignal]:
    """Drop repeats of the same signal (keeping the first, whose time matters), and bound the
    list, keeping the oldest, which opens the incident."""
    kept: list[IncidentSignal] = []
    for signal in signals:
        if not kept or kept[-1].cause != signal.cause:
            kept.append(signal)
    if len(kept) > MAX_UNSENT:
        kept = [kept[0], *kept[-(MAX_UNSENT - 1) :]]
    return kept


# A site's stored state (`site_states`) is rewritten when it changes, and otherwise at least
# this often, so its `last_checked_at` after a restart is at most this old. Every probe's
# result is still stored; this saves the state upsert that doubled each healthy probe's writes.
STATE_REFRESH = timedelta(minutes=10)


@dataclass(slots=True)
class SiteLive:
    """What the monitor knows of a site now (read by the API and metrics)."""

    ref: SiteRef
    rules: Rules
    timezone: str  # the plan calendar's: maintenance windows are written in it
    tracker: TrackerState
    page_zone: str = "UTC"  # the status page's: whose calendar days its rollups are
    # The last probe's error (not the whole result: at 100,000 sites its URL, times and dates
    # were about 40 MiB that nothing read).
    last_error: str | None = None
    last_checked_at: datetime | None = None
    last_outcome: str | None = None
    last_status_code: int | None = None
    # What the incident service could not store (the database was away), oldest first:
    # retried at each probe with its original time, so an outage seen during a database
    # outage opens its incident at the right moment once the database is back.
    unsent: list[IncidentSignal] = field(default_factory=list)
    # The site's labelled metric series, looked up once instead of on every probe.
    series: SiteSeries | None = None
    # What was last queued for its `site_states` row, and the probe time it was for: a probe
    # that changes none of it (a healthy site) writes no state row until `STATE_REFRESH`.
    stored: tuple[object, ...] | None = None
    stored_at: datetime | None = None
    # The certificate warning level last told to the incident service (`cert_watch`).
    cert_told: int = 0
    # The first failed probe of the current run of failures (None while good).
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PreparedSites:
    """A checks file's sites, built ready to use: a fresh `SiteLive` for each (a site already
    running keeps its own and takes the new one's ref, rules and time zone)."""

    config: ChecksConfig
    sites: dict[SiteKey, SiteLive]
    phases: dict[SiteKey, float]  # each site's slot in its interval (`phase_of`)


def prepare_sites(config: ChecksConfig) -> PreparedSites:
    """Everything a switch to `config` builds that touches no running state, so a reload can
    build it off the event loop: at 100,000 sites this was 7 s of the loop's time."""
    sites: dict[SiteKey, SiteLive] = {}
    phases: dict[SiteKey, float] = {}
    shared: dict[Rules, Rules] = {}  # one object per distinct set of rules, not one per site
    for ref in config.site_refs():
        rules = Rules(
            interval=ref.interval,
            recheck=ref.recheck,
            confirm=ref.confirm,
            recover=ref.recover,
        )
        rules = shared.setdefault(rules, rules)
        timezone = config.calendars[config.plans[ref.customer.plan].calendar].timezone
        page_zone = page_timezone(config, ref.customer)
        sites[ref.key] = SiteLive(
            ref=ref, rules=rules, timezone=timezone, tracker=TrackerState(), page_zone=page_zone
        )
        phases[ref.key] = phase_of(ref.key, ref.interval.total_seconds())
    return PreparedSites(config, sites, phases)


class Monitor:
    def __init__(
        self,
        config: ChecksConfig,
        prober: Prober,
        incidents: IncidentService,
        writer: ResultWriter,
        store: Store,
        metrics: Metrics,
        clock: Clock,
        concurrency: int = 1000,
        location: str = DEFAULT_LOCATION,
        sharded: bool = False,
        gate: IncidentGate | None = None,
    ) -> None:
        self._prober = prober
        self._incidents = incidents
        # What a confirmed failure or a recovery means for incidents: directly, or once the
        # locations agree (several nodes).
        self.gate: IncidentGate = gate or DirectGate(incidents)
        self._writer = writer
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self.sites: dict[SiteKey, SiteLive] = {}
        self.scheduler = HeapScheduler(
            self.probe_site, concurrency=concurrency, on_lag=metrics.scheduler_lag.observe
        )
        self.config = config
        self.running = False
        # Where this node probes from; results and site states carry it.
        self.location = location
        # Sharded (several nodes): only the sites handed over by `take` are probed; else all.
        self.sharded = sharded

    async def start(self) -> None:
        """Restore per-site state from the database and schedule every site (sharded: none
        until `take` hands them over)."""
        saved = await self._store.site_states(self.location)
        self._apply(self.config, saved)
        if not self.sharded:
            await self.resume_rollups(list(self.sites))
        # A site whose monitor-opened incident is still open is down, whatever its saved state
        # says: the process may have died after storing a recovery but before resolving the
        # incident, and only a site that is down can signal the recovery again.
        for incident in await self._store.incidents(unresolved=True, limit=100_000):
            live = self.sites.get((incident.customer, incident.site or ""))
            if live is not None and incident.source == "monitor" and incident.cause == CERT:
                live.cert_told = cert_watch.UNKNOWN  # the site itself may well be up
            elif live is not None and incident.source == "monitor":
                live.tracker.state = "down"

    def reload(self, config: ChecksConfig, prepared: PreparedSites | None = None) -> None:
        """Use a new checks file: new sites start, removed sites stop, the rest keep state.

        `prepared` (from `prepare_sites`, which a reload runs off the event loop) leaves only the
        switch itself to do here.
        """
        self._commit(prepared or prepare_sites(config), {})

    def _apply(self, config: ChecksConfig, saved: dict[SiteKey, Any]) -> None:
        self._commit(prepare_sites(config), saved)

    async def switch(self, prepared: PreparedSites, batch: int = 5_000) -> None:
        """`reload` with the sites prepared, giving the event loop a turn after every `batch`
        sites: at 230,000 new sites the switch is about 2 s of work, which would otherwise
        stop probes and the web server for as long. Removed sites stop first; until the last
        batch, some new sites are not yet listed."""
        for _ in self._commit_steps(prepared, {}, batch):
            await asyncio.sleep(0)

    def _commit(self, prepared: PreparedSites, saved: dict[SiteKey, Any]) -> None:
        for _ in self._commit_steps(prepared, saved, batch=0):
            pass

    def _commit_steps(
        self, prepared: PreparedSites, saved: dict[SiteKey, Any], batch: int
    ) -> Iterator[None]:
        """The switch to `prepared`, pausing (a `yield`) after every `batch` sites (0: never)."""
        self.config = prepared.config
        wanted = prepared.sites
        removed = [key for key in self.sites if key not in wanted]
        for key in removed:
            self.scheduler.remove(key)
            del self.sites[key]
        if self._writer.rollups is not None:
            self._writer.rollups.drop(removed)
        added: list[tuple[SiteKey, float, float]] = []
        for done, (key, fresh) in enumerate(wanted.items(), 1):
            live = self.sites.get(key)
            if live is not None:
                live.ref, live.rules, live.timezone = fresh.ref, fresh.rules, fresh.timezone
                live.page_zone = fresh.page_zone
            else:
                live = fresh
                row = saved.get(key)
                if row is not None:
                    restore(live, row)
                self.sites[key] = live
                added.append((key, live.ref.interval.total_seconds(), prepared.phases[key]))
            if batch and done % batch == 0:
                if not self.sharded:
                    self.scheduler.add_many(added)
                added = []
                yield
        if not self.sharded:
            self.scheduler.add_many(added)

    # -- sharing the sites between nodes (uptimeguard.cluster.ownership) ----------------------

    @property
    def owned(self) -> list[SiteKey]:
        """The sites this node probes now."""
        return [key for key in self.sites if key in self.scheduler]

    async def take(self, handovers: dict[SiteKey, Handover]) -> int:
        """Start probing these sites, each from its location's saved state (written by the
        node that probed it before), first at the moment `handover.first_probe` says."""
        if not handovers:
            return 0
        saved = await self._store.site_states(self.location)
        await self.resume_rollups([key for key in handovers if key not in self.scheduler])
        loop = asyncio.get_running_loop()
        now = time.time()
        taken = 0
        for key, handover in handovers.items():
            live = self.sites.get(key)
            if live is None or key in self.scheduler:
                continue
            row = saved.get(key)
            if row is not None and (
                live.last_checked_at is None
                or (row.last_checked_at and row.last_checked_at > live.last_checked_at)
            ):
                restore(live, row)
            interval = live.rules.interval.total_seconds()
            tracker = live.tracker
            failing = tracker.state in ("down", "degraded") or tracker.failures > 0
            at = first_probe(
                handover,
                phase_of(key, interval),
                interval,
                now,
                failing=failing,
                timeout=live.ref.timeout.total_seconds(),
            )
            self.scheduler.add(key, interval, loop_time_of(at, loop))
            taken += 1
        return taken

    async def resume_rollups(self, keys: list[SiteKey]) -> None:
        """Continue these sites' daily rollups from this location's stored ones (and the
        results stored since) before probing them; a database that cannot say leaves them
        to start afresh from their next result (the time between is unobserved)."""
        rollups = self._writer.rollups
        if rollups is None or not keys:
            return
        try:
            days = await resume(self._store, self.config, keys, self.location, self._clock.now())
        except Exception as error:  # the database is outside us
            log.warning("cannot read the daily rollups to continue them: %s", error)
            return
        spans = {key: max_span(self.sites[key].ref) for key in keys if key in self.sites}
        rollups.adopt([day for day in days if (day.customer, day.site) in spans], spans)

    def drop(self, keys: Iterable[SiteKey]) -> None:
        """Stop probing these sites (a probe under way finishes and is kept); their probe
        series leave this node's metrics, since the new owner reports them now."""
        dropped = [key for key in keys if key in self.scheduler]
        for key in dropped:
            self.scheduler.remove(key)
            live = self.sites.get(key)
            if live is not None:
                live.series = None
        self._metrics.sites.drop_probes(dropped)
        if self._writer.rollups is not None:
            self._writer.rollups.drop(dropped)

    def probe_now(self, key: SiteKey) -> bool:
        """Probe an owned site now, not at its next turn; False when it is not this node's."""
        if key not in self.scheduler:
            return False
        self.scheduler.reschedule(key, asyncio.get_running_loop().time())
        return True

    async def run(self) -> None:
        self.running = True
        try:
            await self.scheduler.run()
        finally:
            self.running = False

    async def probe_site(self, key: Hashable, due: float) -> float:
        """Probe one site, act on the result; returns the loop time of the next probe."""
        live = self.sites.get(key)  # type: ignore[call-overload]
        loop = asyncio.get_running_loop()
        if live is None:
            return due + 3600.0
        ref = live.ref
        started_at = self._clock.now()
        began = loop.time()
        result = await self._prober.check(
            ref.site, timeout=ref.timeout.total_seconds(), started_at=started_at
        )
        now = self._clock.now()
        windows = ref.site.maintenance
        maintenance = bool(windows) and in_maintenance(windows, live.timezone, started_at)
        verdict = judge(live.tracker, result.outcome, live.rules)
        if live.tracker.failures == 0:
            live.failing_since = None
        elif live.failing_since is None:
            live.failing_since = started_at
        self._remember(live, result, started_at, maintenance)
        self.gate.probed(ref, result.outcome, started_at)
        signal: IncidentSignal | None = None
        if verdict.failing is not None and not maintenance:
            signal = IncidentSignal(verdict.failing, now, result.error or "", live.failing_since)
        elif verdict.recovered:
            signal = IncidentSignal(None, now)
        if signal is not None or live.unsent:
            await self._tell_incidents(live, signal)
        if verdict.recovered:
            live.cert_told = 0  # the recovery resolved any open incident, a certificate's too
        watch, expires = ref.site.cert_expiry, result.tls_expires_at
        if watch is not None and expires is not None and not maintenance:
            live.cert_told = await cert_watch.watch_cert(
                self._incidents, ref.key, live.cert_told, watch.warn, expires, now
            )
        if verdict.next_in >= live.rules.interval:
            # Back on the site's phase (after rechecks too): its next slot of wall-clock time,
            # the same on every node, so a hand-over keeps the rhythm. A probe made off its
            # slot (a missed slot caught up after a hand-over, the last recheck) skips a slot
            # that falls within its timeout after it, or it would probe twice at once.
            interval = live.rules.interval.total_seconds()
            gap = min(interval / 2, ref.timeout.total_seconds())
            return next_slot_in(key, interval, loop, not_before=began + gap)
        return loop.time() + verdict.next_in.total_seconds()

    async def _tell_incidents(self, live: SiteLive, signal: IncidentSignal | None) -> None:
        customer, site = live.ref.key
        signals = [*live.unsent, signal] if signal is not None else live.unsent
        for index, each in enumerate(signals):
            try:
                if each.cause is not None:
                    await self.gate.failing(live.ref, each)
                else:
                    await self.gate.recovered(live.ref, each)
            except Exception as error:
                if not live.unsent:
                    log.warning(
                        "cannot record an incident change for %s/%s (%s); will retry",
                        customer,
                        site,
                        error,
                    )
                live.unsent = squash(signals[index:])
                return
        live.unsent = []

    def _remember(
        self, live: SiteLive, result: ProbeResult, at: datetime, maintenance: bool
    ) -> None:
        customer, site = live.ref.key
        live.last_error = result.error
        live.last_checked_at = at
        live.last_outcome = result.outcome
        live.last_status_code = result.status_code
        series = live.series
        if series is None:
            series = live.series = self._metrics.sites.series(customer, site)
        tls_expiry = result.tls_expires_at
        series.record(
            result.outcome,
            result.total,
            result.status_code,
            None if tls_expiry is None else tls_expiry.timestamp(),
        )
        error = (result.error or None) and result.error[:300]
        tracker = live.tracker
        # Stored successes stop at `recover`: past it the count changes nothing on restore.
        successes = min(tracker.successes, live.rules.recover)
        substance = (
            tracker.state,
            result.outcome,
            result.status_code,
            error,
            tracker.failures,
            successes,
            result.tls_expires_at,
        )
        state = None
        stale = live.stored_at is None or at - live.stored_at >= STATE_REFRESH
        if substance != live.stored or stale:
            live.stored, live.stored_at = substance, at
            state = {
                "customer": customer,
                "site": site,
                "state": tracker.state,
                "last_outcome": result.outcome,
                "last_status_code": result.status_code,
                "last_checked_at": at,
                "last_error": error,
                "failures": tracker.failures,
                "successes": successes,
                "tls_expires_at": result.tls_expires_at,
                "location": self.location,
            }
        self._writer.add(
            {
                "customer": customer,
                "site": site,
                "checked_at": at,
                "outcome": result.outcome,
                "status_code": result.status_code,
                "total_seconds": result.total,
                "error": error,
                "in_maintenance": maintenance,
                "location": self.location,
            },
            state,
            max_span(live.ref),
            live.page_zone,
        )


def restore(live: SiteLive, row: Any) -> None:
    """Carry on from a saved `site_states` row."""
    tracker = live.tracker
    tracker.state = row.state
    tracker.failures = row.failures
    tracker.successes = row.successes
    live.last_checked_at = row.last_checked_at
    live.last_outcome = row.last_outcome
    live.last_status_code = row.last_status_code
