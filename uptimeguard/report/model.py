"""The month's SLA report for one customer.

Per site: uptime % over the month with maintenance excluded, the down and maintenance time,
and the longest outage (runs crossing midnight joined), from the daily rollups and the results
not yet rolled up (folded in memory, up to a minute ago). Per
incident opened in the month: severity, and for each target (response, resolution) the
target as written, its clock, when it fell due, how long it took on that clock, and `met`,
`breached` or `pending`. For the customer: the share of decided incidents that met each
target. Months are calendar months in the zone of the customer's status page (its
`timezone`, else the plan calendar's), like the rollups' days: a London March is 743 hours.

A response is met by an acknowledgement (or a resolution) at or before its due instant; a
breach already recorded on the incident is final. An incident still open past a deadline is
breached; one still open before it is pending and counts in neither share. Time the SLA
clock was paused (waiting on the customer) is listed with its reason and is not counted in
the time a target took.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from uptimeguard.config.models import ChecksConfig, Plan
from uptimeguard.reach.nps import NpsFigure, figure
from uptimeguard.reach.store import ReachStore
from uptimeguard.sla import SlaEngine
from uptimeguard.sla.clock import ALWAYS_OPEN, Clock
from uptimeguard.status.public import display_name, percent
from uptimeguard.status.rollup_job import GRACE, current_rollups
from uptimeguard.status.rollups import (
    STORED_FIELDS,
    DayRollup,
    combine_locations,
    longest_outage,
    uptime_of,
)
from uptimeguard.status.zones import month_bounds, page_timezone
from uptimeguard.storage.models import IncidentPauseRow, IncidentRow
from uptimeguard.storage.repository import Store

MONTH = re.compile(r"(\d{4})-(\d{2})")
MET, BREACHED, PENDING = "met", "breached", "pending"


class ReportError(ValueError):
    """Bad input for a report (unknown customer, malformed month): exit 2 on the CLI."""


@dataclass(frozen=True, slots=True)
class SiteLine:
    site: str
    name: str
    uptime_percent: float | None  # rounded down to 3 places; None when nothing observed
    up_seconds: float
    down_seconds: float
    maintenance_seconds: float
    longest_outage_seconds: float
    longest_outage_started_at: datetime | None
    probes: int  # outside maintenance


@dataclass(frozen=True, slots=True)
class TargetLine:
    target: str | None  # as written, e.g. "15m"; None when the plan no longer has it
    clock: str  # "24x7" or "business"
    due: datetime | None
    done_at: datetime | None  # acknowledged (response) or resolved (resolution)
    took_seconds: float | None  # clock time from the clock's start to done_at
    result: str  # met, breached, pending


@dataclass(frozen=True, slots=True)
class PauseLine:
    """A stretch the SLA clock stood still (waiting on the customer), and why."""

    started_at: datetime
    ended_at: datetime | None  # None: still paused when the report was made
    seconds: float  # real time, up to the report's moment for a running pause
    reason: str


@dataclass(frozen=True, slots=True)
class IncidentLine:
    id: int
    site: str | None
    severity: str
    cause: str
    opened_at: datetime
    resolved_at: datetime | None
    held_over: bool
    response: TargetLine
    resolution: TargetLine
    plan: str = ""
    cover: str | None = None  # the ad-hoc cover period it opened in, e.g. 2026-12-20..2027-01-04
    pauses: tuple[PauseLine, ...] = ()

    @property
    def paused_seconds(self) -> float:
        return sum(p.seconds for p in self.pauses)


@dataclass(frozen=True, slots=True)
class Share:
    met: int
    breached: int
    pending: int

    @property
    def percent(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else round(100 * self.met / decided, 2)


@dataclass(frozen=True, slots=True)
class Report:
    customer: str
    customer_name: str
    plan: str
    month: str
    start: datetime  # the month's first instant in `time_zone`, as UTC
    end: datetime
    generated_at: datetime
    sites: tuple[SiteLine, ...]
    incidents: tuple[IncidentLine, ...]
    response: Share
    resolution: Share
    # NPS from the surveys answered in the month (all zero when none were).
    nps: NpsFigure = field(default_factory=lambda: figure(()))
    time_zone: str = "UTC"  # whose days and month these are

    @property
    def month_name(self) -> str:
        """`March 2026`."""
        return date.fromisoformat(f"{self.month}-01").strftime("%B %Y")


def parse_month(text: str, zone: str = "UTC") -> tuple[datetime, datetime]:
    """`2026-11` -> (2026-11-01T00:00Z, 2026-12-01T00:00Z): the month's [start, end) in
    `zone`, as UTC instants."""
    match = MONTH.fullmatch(text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ReportError(f"--month: expected YYYY-MM, e.g. 2026-11; got {text!r}")
    return month_bounds(int(match[1]), int(match[2]), zone)


async def month_rollups(
    store: Store,
    config: ChecksConfig,
    customer: str,
    first: date,
    last: date,
    now: datetime,
    zone: str,
    rollup_grace: timedelta,
) -> list[DayRollup]:
    """The customer's days `first`..`last`: each location's stored row, or the fresher one
    folded in memory from the results since (`current_rollups`: an outage of the last
    minutes is counted in the report that lists its incident), then the locations added up."""
    rows: dict[tuple[str, date, str], object] = {
        (r.site, r.day, r.location): r
        for r in await store.rollups(customer, first, last, combine=False)
    }
    for fresh in await current_rollups(store, config, customer, now, rollup_grace):
        if first <= fresh.day <= last:
            rows[(fresh.site, fresh.day, fresh.location)] = fresh
    by_day: dict[tuple[str, date], list[object]] = {}
    for (site, day, _), row in rows.items():
        by_day.setdefault((site, day), []).append(row)
    return [
        DayRollup.from_row(combine_locations(group, STORED_FIELDS), zone)
        for group in by_day.values()
    ]


def judge(
    due: datetime | None, done_at: datetime | None, breached_at: datetime | None, now: datetime
) -> str:
    if breached_at is not None:
        return BREACHED
    if done_at is not None:
        return MET if due is None or done_at <= due else BREACHED
    if due is not None and now >= due:
        return BREACHED
    return PENDING


def _target(
    incident: IncidentRow,
    plan: Plan | None,
    engine: SlaEngine | None,
    which: str,
    now: datetime,
    pauses: Sequence[IncidentPauseRow] = (),
) -> TargetLine:
    severity = None
    if plan is not None:
        try:
            severity = plan.severity(incident.severity)
        except KeyError:
            severity = None
    clock: Clock = ALWAYS_OPEN
    if severity is not None and engine is not None and plan is not None:
        clock = engine.target_clock(plan.id, severity.name)
    if which == "response":
        due, breached_at = incident.response_due, incident.response_breached_at
        # An acknowledgement that later expired (`oncall.ack_timeout`) was the response.
        done_at = incident.responded_at or incident.acknowledged_at or incident.resolved_at
        target = severity.response if severity else None
    else:
        due, breached_at = incident.resolution_due, incident.resolution_breached_at
        done_at = incident.resolved_at
        target = severity.resolution if severity else None
    start = incident.clock_starts_at or incident.opened_at
    took = None
    if done_at is not None:
        # The clock stood still while paused: that time is not taken.
        stopped = sum(
            (
                clock.elapsed(max(start, p.started_at), min(done_at, p.ended_at or done_at))
                for p in pauses
                if min(done_at, p.ended_at or done_at) > max(start, p.started_at)
            ),
            timedelta(0),
        )
        took = max(0.0, (clock.elapsed(start, done_at) - stopped).total_seconds())
    return TargetLine(
        target=str(target) if target else None,
        clock=severity.clock if severity else "24x7",
        due=due,
        done_at=done_at,
        took_seconds=took,
        result=judge(due, done_at, breached_at, now),
    )


def _share(lines: list[TargetLine]) -> Share:
    results = [line.result for line in lines]
    return Share(results.count(MET), results.count(BREACHED), results.count(PENDING))


async def build_report(
    store: Store,
    config: ChecksConfig,
    customer_id: str,
    month: str,
    now: datetime,
    rollup_grace: timedelta = GRACE,
) -> Report:
    """The report for `customer_id` and `month` (YYYY-MM) as it stands at `now`, counting
    the results stored up to `rollup_grace` ago (`ROLLUP_GRACE_SECONDS`)."""
    parse_month(month)  # a malformed month is refused before the customer is looked up
    try:
        customer = config.customer(customer_id)
    except KeyError:
        known = ", ".join(c.id for c in config.customers) or "none"
        raise ReportError(f"--customer: unknown customer {customer_id!r}; known: {known}") from None
    zone = page_timezone(config, customer)
    start, end = parse_month(month, zone)
    plan = config.plans.get(customer.plan)
    engine = SlaEngine.from_config(config)

    first_day = date.fromisoformat(f"{month}-01")
    last_day = (first_day + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    days = await month_rollups(
        store, config, customer.id, first_day, last_day, min(now, end), zone, rollup_grace
    )
    rows = sorted(days, key=lambda r: (r.site, r.day))
    by_site: dict[str, list[DayRollup]] = {}
    for row in rows:
        by_site.setdefault(row.site, []).append(row)
    names = {site.id: display_name(site) for site in customer.sites}
    site_ids = [site.id for site in customer.sites] + sorted(set(by_site) - set(names))
    sites = []
    for site_id in site_ids:
        days = by_site.get(site_id, [])
        outage = longest_outage(days)
        sites.append(
            SiteLine(
                site=site_id,
                name=names.get(site_id, site_id),
                uptime_percent=percent(uptime_of(days)),
                up_seconds=sum(d.up_seconds for d in days),
                down_seconds=sum(d.down_seconds for d in days),
                maintenance_seconds=sum(d.maintenance_seconds for d in days),
                longest_outage_seconds=outage.seconds,
                longest_outage_started_at=outage.started_at,
                probes=sum(d.total for d in days),
            )
        )

    incidents = []
    opened = await store.incidents_opened(customer.id, start, end)
    paused = await store.pauses_of([incident.id for incident in opened])
    for incident in opened:
        incident_plan = config.plans.get(incident.plan, plan)
        pauses = paused.get(incident.id, [])
        incidents.append(
            IncidentLine(
                id=incident.id,
                site=incident.site,
                severity=incident.severity,
                cause=incident.cause,
                opened_at=incident.opened_at,
                resolved_at=incident.resolved_at,
                held_over=incident.held_over,
                response=_target(incident, incident_plan, engine, "response", now, pauses),
                resolution=_target(incident, incident_plan, engine, "resolution", now, pauses),
                plan=incident.plan,
                cover=incident.cover,
                pauses=tuple(
                    PauseLine(
                        p.started_at,
                        p.ended_at,
                        ((p.ended_at or now) - p.started_at).total_seconds(),
                        p.reason,
                    )
                    for p in pauses
                ),
            )
        )
    return Report(
        customer=customer.id,
        customer_name=customer.name,
        plan=customer.plan,
        month=month,
        start=start,
        end=end,
        generated_at=now,
        sites=tuple(sites),
        incidents=tuple(incidents),
        response=_share([i.response for i in incidents]),
        resolution=_share([i.resolution for i in incidents]),
        nps=figure(await ReachStore(store).scores_answered(customer.id, start, end)),
        time_zone=zone,
    )
