"""The SQL of agreement: each location's view of each site, probe requests claimed with
`FOR UPDATE SKIP LOCKED`, and the spells during which a location was degraded."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from uptimeguard.cluster.agreement import View
from uptimeguard.cluster.degraded import LocationSample
from uptimeguard.cluster.models import DegradedSpellRow, ProbeRequestRow, SiteVerdictRow
from uptimeguard.cluster.nodes_sql import db_now
from uptimeguard.storage.models import SiteStateRow

GOOD = ("up", "slow")
SiteKey = tuple[str, str]


def seconds(span: timedelta) -> Any:
    """`span` as a PostgreSQL interval (to add to or take from the database clock)."""
    return func.make_interval(0, 0, 0, 0, 0, 0, span.total_seconds())


# -- views ---------------------------------------------------------------------------------------


async def write_view(engine: AsyncEngine, customer: str, site: str, view: View) -> None:
    statement = pg_insert(SiteVerdictRow).values(
        customer=customer,
        site=site,
        location=view.location,
        failing=view.failing,
        cause=view.cause,
        detail=(view.detail or None) and view.detail[:300],
        since=view.since,
        confirmed_at=view.confirmed_at,
        node=view.node,
        updated_at=func.timezone("UTC", func.clock_timestamp()),
    )
    columns = ("failing", "cause", "detail", "since", "confirmed_at", "node", "updated_at")
    statement = statement.on_conflict_do_update(
        index_elements=["customer", "site", "location"],
        set_={name: statement.excluded[name] for name in columns},
    )
    async with engine.begin() as connection:
        await connection.execute(statement)


def _view(row: Any) -> View:
    return View(
        location=row.location,
        failing=bool(row.failing),
        cause=row.cause,
        since=row.since,
        confirmed_at=row.confirmed_at,
        node=row.node,
        detail=row.detail,
    )


async def views_of(engine: AsyncEngine, customer: str, site: str) -> list[View]:
    v = SiteVerdictRow
    query = select(v).where(v.customer == customer, v.site == site).order_by(v.location)
    async with engine.connect() as connection:
        return [_view(row) for row in (await connection.execute(query)).all()]


async def failing_views(engine: AsyncEngine) -> dict[SiteKey, list[View]]:
    """Every site some location sees failing, with all its locations' views."""
    v = SiteVerdictRow
    failing = select(v.customer, v.site).where(v.failing.is_(True)).distinct().subquery()
    query = select(v).join(
        failing, and_(v.customer == failing.c.customer, v.site == failing.c.site)
    )
    result: dict[SiteKey, list[View]] = {}
    async with engine.connect() as connection:
        for row in (await connection.execute(query)).all():
            result.setdefault((row.customer, row.site), []).append(_view(row))
    return result


async def views_of_many(
    engine: AsyncEngine, keys: Collection[SiteKey]
) -> dict[SiteKey, list[View]]:
    result: dict[SiteKey, list[View]] = {key: [] for key in keys}
    if not keys:
        return result
    v = SiteVerdictRow
    customers = sorted({c for c, _ in keys})
    async with engine.connect() as connection:
        rows = (await connection.execute(select(v).where(v.customer.in_(customers)))).all()
    for row in rows:
        key = (row.customer, row.site)
        if key in result:
            result[key].append(_view(row))
    return result


# -- probe requests ------------------------------------------------------------------------------


async def ask(
    engine: AsyncEngine,
    channel: str,
    message: str,
    customer: str,
    site: str,
    locations: Sequence[str],
    asked_by: str,
    asked_from: str,
    expires_in: timedelta,
) -> None:
    """Ask `locations` to probe the site now (one open request per site and location), and
    wake their nodes; both when the transaction commits."""
    if not locations:
        return
    async with engine.begin() as connection:
        now = db_now(connection)
        rows = [
            {
                "customer": customer,
                "site": site,
                "location": location,
                "asked_by": asked_by,
                "asked_from": asked_from,
                "asked_at": now,
                "expires_at": now + seconds(expires_in),
            }
            for location in locations
        ]
        statement = pg_insert(ProbeRequestRow).on_conflict_do_nothing(
            index_elements=["customer", "site", "location"],
            index_where=ProbeRequestRow.done_at.is_(None),
        )
        for row in rows:
            await connection.execute(statement.values(**row))
        await connection.execute(select(func.pg_notify(channel, message)))


async def claim(
    engine: AsyncEngine,
    location: str,
    node: str,
    mine: Any,
    stale_after: timedelta,
    limit: int = 1000,
) -> list[tuple[int, str, str]]:
    """Claim the open requests of `location` for sites `mine(key)` says this node probes.

    Rows are locked with `FOR UPDATE SKIP LOCKED`: two nodes of a location claiming at once
    never wait for each other and never take the same row; rows for sites another node owns
    are left for it. A claim older than `stale_after` (its node died before probing) is
    taken again."""
    r = ProbeRequestRow
    async with engine.begin() as connection:
        now = db_now(connection)
        query = (
            select(r.id, r.customer, r.site)
            .where(
                r.location == location,
                r.done_at.is_(None),
                r.expires_at > now,
                or_(r.claimed_by.is_(None), r.claimed_at < now - seconds(stale_after)),
            )
            .order_by(r.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = [(i, c, s) for i, c, s in (await connection.execute(query)).all() if mine((c, s))]
        if rows:
            await connection.execute(
                update(r)
                .where(r.id.in_([i for i, _, _ in rows]))
                .values(claimed_by=node, claimed_at=now)
            )
    return rows


async def done(engine: AsyncEngine, request_id: int, outcome: str) -> None:
    r = ProbeRequestRow
    async with engine.begin() as connection:
        await connection.execute(
            update(r)
            .where(r.id == request_id, r.done_at.is_(None))
            .values(done_at=db_now(connection), outcome=outcome)
        )


async def forget_requests(engine: AsyncEngine, older_than: timedelta) -> int:
    r = ProbeRequestRow
    async with engine.begin() as connection:
        result = await connection.execute(
            delete(r).where(r.asked_at < db_now(connection) - seconds(older_than))
        )
    return int(result.rowcount or 0)


# -- degraded locations --------------------------------------------------------------------------


async def failing_and_contradicted(
    connection: AsyncConnection, location: str, others: Collection[str], since: datetime
) -> tuple[int, int]:
    """Sites whose latest probe from `location` (since `since`) failed, and how many of them
    one of `others` saw up at its latest probe. A failing site's state row is rewritten at
    every failed probe, so this is exact where the heartbeats' counts trail by a beat."""
    a, b = SiteStateRow.__table__.alias("a"), SiteStateRow.__table__.alias("b")
    seen_up = exists().where(
        b.c.customer == a.c.customer,
        b.c.site == a.c.site,
        b.c.location.in_(list(others) or [""]),
        b.c.last_outcome.in_(GOOD),
    )
    query = select(func.count(), func.count().filter(seen_up)).where(
        a.c.location == location,
        a.c.last_checked_at >= since,
        a.c.last_outcome.not_in(GOOD),
    )
    failing, contradicted = (await connection.execute(query)).one()
    return int(failing), int(contradicted)


async def sample(
    engine: AsyncEngine,
    location: str,
    sites: int,
    others: Collection[str],
    window: timedelta,
) -> LocationSample:
    """The location's sample: `sites` probed over the window (from the heartbeats), and from
    the state rows the failing ones and those contradicted."""
    async with engine.connect() as connection:
        now = (await connection.execute(select(db_now(connection)))).scalar_one()
        failing, contradicted = await failing_and_contradicted(
            connection, location, others, now - window
        )
    return LocationSample(location, max(sites, failing), failing, contradicted)


async def open_spell(engine: AsyncEngine, location: str, started_at: datetime, why: str) -> bool:
    """Mark `location` degraded from `started_at`; False when it already was (another node
    marked it first: the unique index on open spells arbitrates)."""
    statement = (
        pg_insert(DegradedSpellRow)
        .values(location=location, started_at=started_at, reason=why[:2000])
        .on_conflict_do_nothing(
            index_elements=["location"], index_where=DegradedSpellRow.ended_at.is_(None)
        )
    )
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return bool(result.rowcount)


async def close_spell(engine: AsyncEngine, location: str) -> bool:
    d = DegradedSpellRow
    async with engine.begin() as connection:
        result = await connection.execute(
            update(d)
            .where(d.location == location, d.ended_at.is_(None))
            .values(ended_at=db_now(connection))
        )
    return bool(result.rowcount)
