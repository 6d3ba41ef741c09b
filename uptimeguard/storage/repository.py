"""The one place that talks SQL. Callers pass and get plain values and rows.

`Store` is deliberately thin: decisions (when to open, upgrade or resolve an incident) live in
`uptimeguard.incidents`; this module only reads and writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from uptimeguard.cluster.models import DegradedSpellRow
from uptimeguard.status.rollups import combine_locations
from uptimeguard.storage.database import make_sessionmaker
from uptimeguard.storage.models import (
    DEFAULT_LOCATION,
    DailyRollupRow,
    IncidentEventRow,
    IncidentPauseRow,
    IncidentRow,
    ProbeResultRow,
    SiteStateRow,
)

INCIDENT_STATUSES = ("open", "acknowledged", "resolved")

# Read with any rollup so that several locations' rows of a site and day can be combined.
COMBINE_COLUMNS = ("site", "day", "accounted_to")

# Called inside the transaction that stores an incident's new timeline entries, with the
# incident as it will be committed: what a hook writes is committed with them, or not at all.
EventHook = Callable[[AsyncSession, IncidentRow, Sequence[IncidentEventRow]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: str
    at: datetime
    message: str = ""
    by: str | None = None
    data: dict[str, Any] | None = None


class Store:
    """Reads and writes every table; one short transaction per call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = make_sessionmaker(engine)
        # Run on every write of timeline entries (e.g. planning messages about public updates).
        self.event_hooks: list[EventHook] = []

    async def _after_events(
        self,
        session: AsyncSession,
        incident_id: int,
        rows: Sequence[IncidentEventRow],
        incident: IncidentRow | None = None,
    ) -> None:
        if not self.event_hooks or not rows:
            return
        await session.flush()  # the entries get their ids
        incident = incident or await session.get(IncidentRow, incident_id)
        if incident is None:
            return
        for hook in self.event_hooks:
            await hook(session, incident, rows)

    # -- probe results and site state -------------------------------------------------------

    async def insert_results(
        self, rows: Sequence[dict[str, Any]], states: Sequence[dict[str, Any]] = ()
    ) -> None:
        """Write many probe results, and the site states that go with them, in one
        transaction (one statement each)."""
        if not rows and not states:
            return
        async with self.sessions.begin() as session:
            if rows:
                await session.execute(insert(ProbeResultRow), list(rows))
            if states:
                await session.execute(self._upsert_states(), list(states))

    async def upsert_site_states(self, states: Sequence[dict[str, Any]]) -> None:
        """Insert or replace the monitor's per-site state rows."""
        await self.insert_results((), states)

    def _upsert_states(self) -> Any:
        dialect = self.engine.dialect.name
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = dialect_insert(SiteStateRow)
        columns = [c.name for c in SiteStateRow.__table__.columns if not c.primary_key]
        return statement.on_conflict_do_update(
            index_elements=["customer", "site", "location"],
            set_={name: statement.excluded[name] for name in columns},
        )

    async def site_states(
        self, location: str = DEFAULT_LOCATION
    ) -> dict[tuple[str, str], SiteStateRow]:
        """The monitor's saved state of every site, as probed from `location`."""
        query = select(SiteStateRow).where(SiteStateRow.location == location)
        async with self.sessions() as session:
            rows = (await session.scalars(query)).all()
        return {(row.customer, row.site): row for row in rows}

    async def results_for_site(
        self, customer: str, site: str, since: datetime | None = None, limit: int = 1000
    ) -> list[ProbeResultRow]:
        query = select(ProbeResultRow).where(
            ProbeResultRow.customer == customer, ProbeResultRow.site == site
        )
        if since is not None:
            query = query.where(ProbeResultRow.checked_at >= since)
        query = query.order_by(ProbeResultRow.checked_at.desc()).limit(limit)
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def rollup_counts(
        self, first: date, last: date | None = None
    ) -> dict[tuple[str, str], tuple[int, int]]:
        """(good, counted) probes per site over the daily rollups of days `first`..`last`
        (inclusive; open-ended without `last`), maintenance excluded. Reading rollups keeps
        this one row per site and day, where raw results would be one per probe (at 100,000
        sites, 30 days of them are 860 million rows)."""
        d = DailyRollupRow
        query = select(d.customer, d.site, func.sum(d.good), func.sum(d.total)).where(
            d.day >= first
        )
        if last is not None:
            query = query.where(d.day <= last)
        query = query.group_by(d.customer, d.site)
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return {(c, s): (int(g or 0), int(n or 0)) for c, s, g, n in rows}

    async def rollup_seconds(
        self, first: date, last: date | None = None, customers: Collection[str] | None = None
    ) -> dict[tuple[str, str], tuple[float, float]]:
        """(up, down) seconds per site over the daily rollups of days `first`..`last`
        (inclusive; open-ended without `last`), of `customers` (all without), maintenance
        excluded: what uptime is measured over (`uptimeguard.status.rollups.uptime_of`), the
        locations added up."""
        d = DailyRollupRow
        query = select(d.customer, d.site, func.sum(d.up_seconds), func.sum(d.down_seconds))
        query = query.where(d.day >= first)
        if last is not None:
            query = query.where(d.day <= last)
        if customers is not None:
            query = query.where(d.customer.in_(sorted(customers)))
        query = query.group_by(d.customer, d.site)
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return {(c, s): (float(u or 0.0), float(n or 0.0)) for c, s, u, n in rows}

    async def prune_results(self, before: datetime) -> int:
        async with self.sessions.begin() as session:
            result = await session.execute(
                delete(ProbeResultRow).where(ProbeResultRow.checked_at < before)
            )
        return int(result.rowcount or 0)

    # -- daily rollups (uptimeguard.status.rollups) ------------------------------------------

    async def result_stream(
        self, since: datetime, until: datetime, location: str | None = None
    ) -> list[tuple[str, str, datetime, str, bool]]:
        """(customer, site, checked_at, outcome, in_maintenance) of every stored result in
        [since, until) (of `location`'s, when given), per site in time order; results a
        location made while its own network failed (it was degraded) are left out: they say
        nothing of the sites."""
        r = ProbeResultRow
        query = (
            select(r.customer, r.site, r.checked_at, r.outcome, r.in_maintenance)
            .where(r.checked_at >= since, r.checked_at < until, ~from_degraded_location(r))
            .order_by(r.customer, r.site, r.checked_at, r.id)
        )
        if location is not None:
            query = query.where(r.location == location)
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return [(c, s, at, outcome, bool(m)) for c, s, at, outcome, m in rows]

    async def first_result_times(self) -> dict[tuple[str, str], datetime]:
        """The earliest stored result of each site."""
        r = ProbeResultRow
        query = select(r.customer, r.site, func.min(r.checked_at)).group_by(r.customer, r.site)
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return {(c, s): at for c, s, at in rows if at is not None}

    async def latest_rollups(self, location: str = DEFAULT_LOCATION) -> dict[tuple[str, str], Any]:
        """The newest day's rollup of each site from `location`, as plain rows with the
        columns as attributes (not ORM objects: at 100,000 sites, building those held the
        event loop for a second)."""
        d = DailyRollupRow
        newest = (
            select(d.customer, d.site, func.max(d.day).label("day"))
            .where(d.location == location)
            .group_by(d.customer, d.site)
            .subquery()
        )
        query = select(*d.__table__.columns).join(
            newest,
            and_(
                d.customer == newest.c.customer,
                d.site == newest.c.site,
                d.day == newest.c.day,
                d.location == location,
            ),
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return {(row.customer, row.site): row for row in rows}

    async def upsert_rollups(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        dialect_insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(DailyRollupRow)
        columns = [c.name for c in DailyRollupRow.__table__.columns if not c.primary_key]
        # A row is never set back: a node that stopped probing a site may write its last
        # fold after the site's new owner (same location) has counted further.
        statement = statement.on_conflict_do_update(
            index_elements=["customer", "site", "day", "location"],
            set_={name: statement.excluded[name] for name in columns},
            where=DailyRollupRow.accounted_to <= statement.excluded.accounted_to,
        )
        async with self.sessions.begin() as session:
            await session.execute(statement, list(rows))

    async def rollup_locations(self, customer: str) -> list[str]:
        """The locations whose rollups of `customer`'s sites are stored."""
        d = DailyRollupRow
        query = select(d.location).where(d.customer == customer).distinct()
        async with self.sessions() as session:
            return sorted((await session.scalars(query)).all())

    async def rollups(
        self,
        customer: str,
        first: date,
        last: date,
        sites: Collection[str] | None = None,
        columns: Sequence[str] | None = None,
        combine: bool = True,
    ) -> list[Any]:
        """A customer's rollups for the days `first`..`last` (inclusive), by site and day,
        the locations' rows of a site and day combined (`combine_locations`), or each
        location's row as it is (`combine=False`).

        Plain rows with the columns (all, or only `columns`) as attributes, not ORM objects: a
        status page reads thousands of them, and building ORM instances would cost most of
        its time.
        """
        d = DailyRollupRow
        table = d.__table__.columns
        names = [c.name for c in table] if columns is None else list(columns)
        combined = [*names, *(n for n in COMBINE_COLUMNS if n not in names)]
        query = select(*[table[name] for name in combined])
        query = query.where(d.customer == customer, d.day >= first, d.day <= last)
        if sites is not None:
            query = query.where(d.site.in_(list(sites)))
        async with self.sessions() as session:
            rows = (await session.execute(query.order_by(d.site, d.day))).all()
        if not combine:
            return list(rows)
        grouped: dict[tuple[str, date], list[Any]] = {}
        for row in rows:
            grouped.setdefault((row.site, row.day), []).append(row)
        return [combine_locations(group, names) for group in grouped.values()]

    # -- incidents ---------------------------------------------------------------------------

    async def create_incident(
        self, fields: dict[str, Any], event: NewEvent, more: Sequence[NewEvent] = ()
    ) -> IncidentRow:
        """Insert an incident, its first timeline event and `more`, in one transaction.

        Raises `sqlalchemy.exc.IntegrityError` when the site already has an open incident.
        """
        async with self.sessions.begin() as session:
            row = IncidentRow(**fields)
            session.add(row)
            await session.flush()
            added = [_event_row(row.id, each) for each in (event, *more)]
            session.add_all(added)
            await self._after_events(session, row.id, added, row)
        return row

    async def update_incident(
        self,
        incident_id: int,
        changes: dict[str, Any],
        events: Iterable[NewEvent] = (),
        only_if: dict[str, Any] | None = None,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> IncidentRow | None:
        """Apply `changes` and append `events`; with `only_if`, only when those columns still
        hold those values (a conditional update). Returns the row, or None when nothing matched.
        `also` writes more rows in the same transaction, once the update has matched.
        """
        async with self.sessions.begin() as session:
            statement = update(IncidentRow).where(IncidentRow.id == incident_id)
            for column, value in (only_if or {}).items():
                column_attr = getattr(IncidentRow, column)
                statement = statement.where(
                    column_attr.is_(None) if value is None else column_attr == value
                )
            if changes:
                result = await session.execute(statement.values(**changes))
                if result.rowcount == 0:
                    return None
            if also is not None:
                await also(session)
            rows = [_event_row(incident_id, event) for event in events]
            session.add_all(rows)
            incident = await session.get(IncidentRow, incident_id, populate_existing=True)
            if incident is not None:
                await self._after_events(session, incident_id, rows, incident)
            return incident

    async def add_event(self, incident_id: int, event: NewEvent) -> None:
        async with self.sessions.begin() as session:
            row = _event_row(incident_id, event)
            session.add(row)
            await self._after_events(session, incident_id, [row])

    async def incident(self, incident_id: int) -> IncidentRow | None:
        async with self.sessions() as session:
            return await session.get(IncidentRow, incident_id)

    async def open_incident_for_site(self, customer: str, site: str) -> IncidentRow | None:
        query = select(IncidentRow).where(
            IncidentRow.customer == customer,
            IncidentRow.site == site,
            IncidentRow.resolved_at.is_(None),
        )
        async with self.sessions() as session:
            return (await session.scalars(query)).first()

    async def incidents(
        self,
        status: str | None = None,
        customer: str | None = None,
        unresolved: bool = False,
        limit: int = 500,
    ) -> list[IncidentRow]:
        query = select(IncidentRow)
        if status is not None:
            query = query.where(IncidentRow.status == status)
        if unresolved:
            query = query.where(IncidentRow.resolved_at.is_(None))
        if customer is not None:
            query = query.where(IncidentRow.customer == customer)
        query = query.order_by(IncidentRow.id.desc()).limit(limit)
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def open_incident_counts(self) -> dict[tuple[str, str], int]:
        """Unresolved incidents per (customer, severity), counted by the database."""
        query = (
            select(IncidentRow.customer, IncidentRow.severity, func.count())
            .where(IncidentRow.resolved_at.is_(None))
            .group_by(IncidentRow.customer, IncidentRow.severity)
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        return {(customer, severity): int(n) for customer, severity, n in rows}

    async def incidents_opened(
        self, customer: str, since: datetime, until: datetime
    ) -> list[IncidentRow]:
        """A customer's incidents opened in [since, until), oldest first."""
        query = (
            select(IncidentRow)
            .where(
                IncidentRow.customer == customer,
                IncidentRow.opened_at >= since,
                IncidentRow.opened_at < until,
            )
            .order_by(IncidentRow.opened_at, IncidentRow.id)
        )
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def incidents_since(
        self, customer: str, since: datetime, limit: int = 2000
    ) -> list[IncidentRow]:
        """A customer's incidents open at or after `since` (unresolved, or resolved since)."""
        query = (
            select(IncidentRow)
            .where(
                IncidentRow.customer == customer,
                or_(IncidentRow.resolved_at.is_(None), IncidentRow.resolved_at >= since),
            )
            .order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
            .limit(limit)
        )
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def events_of(
        self, incident_ids: Collection[int], kinds: Collection[str] | None = None
    ) -> list[IncidentEventRow]:
        """The timeline entries of many incidents (optionally only some kinds), in order."""
        if not incident_ids:
            return []
        query = select(IncidentEventRow).where(IncidentEventRow.incident_id.in_(list(incident_ids)))
        if kinds is not None:
            query = query.where(IncidentEventRow.kind.in_(list(kinds)))
        query = query.order_by(IncidentEventRow.at, IncidentEventRow.id)
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())

    async def pauses_of(self, incident_ids: Collection[int]) -> dict[int, list[IncidentPauseRow]]:
        """The SLA clock pauses of each incident, oldest first (incidents never paused are
        left out)."""
        if not incident_ids:
            return {}
        query = (
            select(IncidentPauseRow)
            .where(IncidentPauseRow.incident_id.in_(list(incident_ids)))
            .order_by(IncidentPauseRow.started_at, IncidentPauseRow.id)
        )
        found: dict[int, list[IncidentPauseRow]] = {}
        async with self.sessions() as session:
            for row in (await session.scalars(query)).all():
                found.setdefault(row.incident_id, []).append(row)
        return found

    async def pauses(self, incident_id: int) -> list[IncidentPauseRow]:
        return (await self.pauses_of([incident_id])).get(incident_id, [])

    async def events(self, incident_id: int) -> list[IncidentEventRow]:
        query = (
            select(IncidentEventRow)
            .where(IncidentEventRow.incident_id == incident_id)
            .order_by(IncidentEventRow.at, IncidentEventRow.id)
        )
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())


def from_degraded_location(r: type[ProbeResultRow]) -> Any:
    """True for a result made while its location was degraded (`location_degradations`)."""
    d = DegradedSpellRow
    return exists().where(
        d.location == r.location,
        d.started_at <= r.checked_at,
        or_(d.ended_at.is_(None), d.ended_at > r.checked_at),
    )


def _event_row(incident_id: int, event: NewEvent) -> IncidentEventRow:
    return IncidentEventRow(
        incident_id=incident_id,
        at=event.at,
        kind=event.kind,
        by=event.by,
        message=event.message,
        data=event.data,
    )
