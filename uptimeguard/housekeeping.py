"""Timed work that is not probing, on APScheduler 3.x with an in-memory job store.

- SLA timers: a one-off job at each open incident's next deadline records the breach at that
  moment; a sweep every 30 s catches anything a timer missed (a restart, a reload).
- Gauges kept current from the database: open incidents, uptime ratios.
- Daily uptime rollups (`uptimeguard.status.rollup_job`): completed days once, today every
  few minutes, so the status page and the SLA report never scan raw results.
- Pruning of raw probe results past the retention period, never past what is rolled up.
- Maintenance notices (`uptimeguard.notify.maintenance`): every minute, tell subscribers of
  announced windows that came into view, started or ended.

The job store is memory only: APScheduler's FAQ forbids sharing one between processes, and
these jobs are rebuilt from the database at start.

With several nodes only the leader runs these jobs (`lead`), and only it reports the gauges
they keep (open incidents, uptime), so a sum over every node's scrape counts each once; a
node that stops leading pauses them and drops those gauges (`follow`). Every job is safe to
run again after an interruption: breaches are recorded with a conditional update, rollups
are rewritten whole from their own saved state, pruning deletes by time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from uptimeguard.clock import Clock
from uptimeguard.config.models import ChecksConfig
from uptimeguard.incidents.service import IncidentChange, IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.status.public import shown_ratio
from uptimeguard.status.rollup_job import GRACE, paced, roll_up
from uptimeguard.status.rollups import DAY, Seconds, day_of, day_start, uptime_of
from uptimeguard.status.zones import page_timezone
from uptimeguard.storage.models import IncidentRow
from uptimeguard.storage.repository import Store

log = logging.getLogger(__name__)


class Housekeeping:
    def __init__(
        self,
        store: Store,
        incidents: IncidentService,
        metrics: Metrics,
        clock: Clock,
        retention: timedelta,
        rollup_every: timedelta = timedelta(minutes=5),
    ) -> None:
        self._store = store
        self._rollup_every = rollup_every
        self._incidents = incidents
        self._metrics = metrics
        self._clock = clock
        self._retention = retention
        self.scheduler = AsyncIOScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "misfire_grace_time": 300}
        )
        self._open_gauge_keys: set[tuple[str, str]] = set()
        self._config: ChecksConfig | None = None
        # Every configured site is rolled up to at least this instant (None: not yet).
        self.rollup_frontier: datetime | None = None
        self._rolling_up = asyncio.Lock()  # the start-up run and the interval job may meet
        # Results younger than this are left for the next rollup (they may still be in the
        # write buffer), so the uptime gauges trail the probes by up to grace + 5 minutes.
        self.rollup_grace = GRACE
        # Every node's result writer folds its own results into the rollups as they arrive
        # (`LiveRollups`): nothing is left to fold from stored results here.
        self.rollups_folded_live = False
        # Set by the daemon when notices are wired: tells what is due at the instant given.
        self.maintenance_notices: Callable[[datetime], Awaitable[int]] | None = None
        # Whether this process runs the jobs and reports their gauges (the leader's part).
        self.leading = True
        self._running: set[asyncio.Task[object]] = set()

    async def lead(self) -> None:
        """Start (or resume) the jobs, with a timer at every open incident's deadlines."""
        self.leading = True
        if not self.scheduler.running:
            self.start()
        else:
            self.scheduler.resume()
            self._soon(self.check_breaches, "sla-sweep-now")
            self._soon(self.refresh_incident_gauge, "incident-gauge-now")
            self._soon(self.refresh_uptime, "uptime-now")
        await self.sync_timers()

    def follow(self) -> None:
        """Another node leads: pause the jobs and stop reporting their gauges."""
        self.leading = False
        if self.scheduler.running:
            self.scheduler.pause()
        self._metrics.incidents_open.clear()
        self._metrics.sites.clear_uptime()

    async def sync_timers(self) -> None:
        """A timer at each deadline of every open incident (those opened by other nodes too)."""
        try:
            for incident in await self._store.incidents(unresolved=True, limit=100_000):
                self._set_timers(incident)
        except Exception as error:
            log.warning("cannot read open incidents for their SLA timers: %s", error)

    async def track(self, incident_id: int) -> None:
        """Another node changed this incident: set (or drop) its timers and refresh gauges."""
        if not self.leading:
            return
        incident = await self._store.incident(incident_id)
        if incident is not None:
            self._set_timers(incident)
        await self.refresh_incident_gauge()

    def start(self) -> None:
        self.sync_config()
        s = self.scheduler
        tracked = self._tracked
        s.add_job(tracked(self.check_breaches), "interval", seconds=30, id="sla-sweep")
        s.add_job(tracked(self.refresh_incident_gauge), "interval", seconds=60, id="incident-gauge")
        # Rolls up the new results, then sets the uptime gauges from the rollups.
        every = self._rollup_every.total_seconds()
        s.add_job(tracked(self.refresh_uptime), "interval", seconds=every, id="uptime")
        s.add_job(tracked(self.prune), "interval", hours=6, id="prune")
        if self.maintenance_notices is not None:
            s.add_job(
                tracked(self.tell_maintenance), "interval", seconds=60, id="maintenance-notices"
            )
        s.start()
        self._soon(self.check_breaches, "sla-sweep-now")
        self._soon(self.refresh_incident_gauge, "incident-gauge-now")
        self._soon(self.refresh_uptime, "uptime-now")
        if self.maintenance_notices is not None:
            self._soon(self.tell_maintenance, "maintenance-notices-now")

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def stop(self, timeout: float = 10.0) -> None:
        """Start no more jobs and let those running finish (within `timeout`), so a clean
        stop does not cut a rollup short (it would be taken up again, but from the start)."""
        self.shutdown()
        running = list(self._running)
        if running:
            await asyncio.wait(running, timeout=timeout)

    def _tracked(self, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """`job`, remembered as running while it runs (see `stop`)."""

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job()
            finally:
                if task is not None:
                    self._running.discard(task)

        run.__name__ = run.__qualname__ = getattr(job, "__qualname__", "job")
        return run

    def _soon(self, job: Callable[[], Awaitable[object]], job_id: str) -> None:
        self.scheduler.add_job(
            self._tracked(job), "date", run_date=self._clock.now(), id=job_id,
            replace_existing=True,
        )  # fmt: skip

    def sync_config(self) -> None:
        """Follow a reloaded checks file: zeros for new label sets, no series for removed sites.

        Called at start and before each gauge refresh; it does nothing while the file is the
        same.
        """
        config = self._incidents.config
        if config is self._config:
            return
        self._config = config
        self._metrics.use_config(config)
        self._open_gauge_keys |= {
            (customer.id, severity.name)
            for customer in config.customers
            for severity in config.plans[customer.plan].severities
        }

    async def on_incident(self, change: IncidentChange) -> None:
        """Listener: count, refresh gauges and set the incident's SLA timers."""
        incident = change.incident
        if change.kind == "opened":
            self._metrics.incidents_opened.labels(
                incident.customer, incident.severity, incident.cause
            ).inc()
        elif change.kind == "breached" and change.data is not None:
            self._metrics.sla_breaches.labels(
                incident.customer, incident.severity, change.data["target"]
            ).inc()
        if change.kind in ("opened", "upgraded", "acknowledged", "resolved"):
            await self.refresh_incident_gauge()
        if self.leading:
            self._set_timers(incident)

    def _set_timers(self, incident: IncidentRow) -> None:
        # A target met or already breached needs no timer; re-adding one whose moment has
        # passed would only run the sweep again for nothing.
        settled = {
            "response_due": incident.responded_at
            or incident.acknowledged_at
            or incident.response_breached_at,
            "resolution_due": incident.resolution_breached_at,
        }
        for target in ("response_due", "resolution_due"):
            due: datetime | None = getattr(incident, target)
            job_id = f"breach-{incident.id}-{target}"
            if incident.resolved_at is not None or due is None or settled[target] is not None:
                if self.scheduler.get_job(job_id) is not None:
                    self.scheduler.remove_job(job_id)
                continue
            self.scheduler.add_job(
                self._tracked(self.check_breaches),
                "date",
                run_date=due,
                id=job_id,
                replace_existing=True,
            )

    async def tell_maintenance(self) -> None:
        if self.maintenance_notices is None:
            return
        try:
            await self.maintenance_notices(self._clock.now())
        except Exception as error:
            log.warning("maintenance notices failed: %s", error)

    async def check_breaches(self) -> None:
        try:
            await self._incidents.check_breaches(self._clock.now())
        except Exception as error:
            log.warning("SLA sweep failed: %s", error)

    async def refresh_incident_gauge(self) -> None:
        if not self.leading:
            return
        self.sync_config()
        try:
            # Counted by the database: this runs on every incident change, and loading every
            # open incident each time made a storm of N incidents cost N x N rows.
            counts = await self._store.open_incident_counts()
        except Exception as error:
            log.warning("cannot read open incidents: %s", error)
            return
        gauge = self._metrics.incidents_open
        for key in self._open_gauge_keys | set(counts):
            gauge.labels(*key).set(counts.get(key, 0))
        self._open_gauge_keys |= set(counts)

    async def refresh_uptime(self) -> None:
        """Bring the daily rollups up to date, then set each configured site's uptime ratio
        from them, as the status page and the report compute it: up time / (up + down) time,
        maintenance excluded (`uptime_of`), rounded down as the page's percentage is
        (`shown_ratio`). `30d` is the last 30 days of the customer's page zone (the days of
        its rollups), today's so far included; `1d` is today so far plus yesterday's share of
        the last 24 hours, taken pro rata from yesterday's row. Both read one row per site
        and day, never the raw results."""
        if not self.leading:
            return
        self.sync_config()
        await self.roll_up()
        config = self._incidents.config
        configured = {ref.key for ref in config.site_refs()}
        zones: dict[str, set[str]] = {}  # the customers whose pages speak in each zone
        for customer in config.customers:
            zones.setdefault(page_timezone(config, customer), set()).add(customer.id)
        now = self._clock.now()
        month: dict[tuple[str, str], tuple[float, float]] = {}
        day: dict[tuple[str, str], tuple[float, float]] = {}
        try:
            for zone, members in zones.items():
                # One zone is every customer's: no need to name them in the query.
                customers = None if len(zones) == 1 else members
                month |= await self._store.rollup_seconds(
                    day_of(now, zone) - timedelta(days=29), customers=customers
                )
                day |= await self._last_24_hours(now, zone, customers)
        except Exception as error:
            log.warning("cannot compute uptime: %s", error)
            return
        sites = self._metrics.sites
        for window, seconds in (("1d", day), ("30d", month)):
            async for key, (up, down) in paced(seconds.items(), 5_000):
                ratio = uptime_of((Seconds(up, down),))
                if ratio is not None and key in configured:
                    sites.set_uptime(*key, window, shown_ratio(ratio))

    async def _last_24_hours(
        self, now: datetime, zone: str, customers: set[str] | None
    ) -> dict[tuple[str, str], tuple[float, float]]:
        """(up, down) seconds of these customers' sites over the 24 hours to `now`: today so
        far (a day of `zone`) plus yesterday's share of the window, pro rata of its length."""
        today = day_of(now, zone)
        started = day_start(today, zone)
        yesterday_length = started - day_start(today - DAY, zone)
        share = max(timedelta(0), DAY - (now - started)) / yesterday_length
        today_seconds = await self._store.rollup_seconds(today, customers=customers)
        yesterday = await self._store.rollup_seconds(today - DAY, today - DAY, customers)
        seconds = {}
        for key in today_seconds.keys() | yesterday.keys():
            up, down = today_seconds.get(key, (0.0, 0.0))
            up_before, down_before = yesterday.get(key, (0.0, 0.0))
            seconds[key] = (up + up_before * share, down + down_before * share)
        return seconds

    async def roll_up(self) -> None:
        if self.rollups_folded_live:
            self.rollup_frontier = self._clock.now() - self.rollup_grace
            return
        try:
            async with self._rolling_up:
                config, now = self._incidents.config, self._clock.now()
                run = await roll_up(self._store, config, now, self.rollup_grace)
        except Exception as error:
            log.warning("daily rollup failed: %s", error)
            return
        self.rollup_frontier = run.frontier

    async def prune(self) -> None:
        """Delete raw results past the retention period that the rollups already hold."""
        cutoff = self._clock.now() - self._retention
        if self.rollup_frontier is None:
            return
        try:
            removed = await self._store.prune_results(min(cutoff, self.rollup_frontier))
        except Exception as error:
            log.warning("pruning failed: %s", error)
            return
        if removed:
            log.info("pruned %d probe results older than %s", removed, self._retention)
