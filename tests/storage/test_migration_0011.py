"""Revision 0011 converts existing data: the daily rollups become the default location's, and
raw results of healthy probes that the rollups already hold and that changed nothing are
deleted; every failure, probe in maintenance, first result and recovery stays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import String, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from support import empty_engine

from uptimeguard.storage.database import alembic_config
from uptimeguard.storage.models import UTCDateTime

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)

# (minutes after T0 in steps, outcome, in maintenance, location)
RESULTS = [
    (0, "up", False, "default"),  # the site's first result: kept
    (1, "up", False, "default"),  # healthy after healthy, rolled up: deleted
    (2, "slow", False, "default"),  # slow is healthy too: deleted
    (3, "http_5xx", False, "default"),  # a failure: kept
    (4, "timeout", False, "default"),  # kept
    (5, "up", False, "default"),  # the recovery: kept
    (6, "up", False, "default"),  # deleted
    (7, "up", True, "default"),  # in maintenance: kept
    (8, "up", False, "default"),  # the first out of maintenance: kept
    (9, "up", False, "default"),  # after the rollups' frontier: kept
    (0, "up", False, "eu"),  # the first from another location: kept
    (1, "up", False, "eu"),  # deleted
]
KEPT = {
    (0, "default"),
    (3, "default"),
    (4, "default"),
    (5, "default"),
    (7, "default"),
    (8, "default"),
    (9, "default"),
    (0, "eu"),
}
ACCOUNTED_TO = T0 + 8 * STEP + timedelta(minutes=1)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An empty database (on PostgreSQL, a schema of its own), not migrated."""
    async with empty_engine(database_url) as engine:
        yield engine


async def migrate(engine: AsyncEngine, revision: str, down: bool = False) -> None:
    url = engine.url.render_as_string(hide_password=False)

    def run(connection: Connection) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def fill_at_0010(engine: AsyncEngine) -> None:
    await migrate(engine, "0010")
    insert_result = text(
        "INSERT INTO probe_results (customer, site, checked_at, outcome, in_maintenance,"
        " location) VALUES ('acme', 'www', :at, :outcome, :maintenance, :location)"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    insert_rollup = text(
        "INSERT INTO daily_rollups (customer, site, day, good, total, maintenance, up_seconds,"
        " down_seconds, maintenance_seconds, longest_down_seconds, longest_started_at,"
        " down_at_start_seconds, last_at, last_kind, accounted_to, complete)"
        " VALUES ('acme', 'www', :day, 7, 9, 1, 1800.0, 600.0, 300.0, 600.0, :longest, 0.0,"
        " :last, 'up', :accounted_to, :complete)"
    ).bindparams(*(bindparam(n, type_=UTCDateTime()) for n in ("longest", "last", "accounted_to")))
    async with engine.begin() as connection:
        for step, outcome, maintenance, location in RESULTS:
            await connection.execute(
                insert_result,
                {
                    "at": T0 + step * STEP,
                    "outcome": outcome,
                    "maintenance": maintenance,
                    "location": location,
                },
            )
        await connection.execute(
            insert_rollup,
            {
                "day": T0.date(),
                "longest": T0 + 3 * STEP,
                "last": T0 + 8 * STEP,
                "accounted_to": ACCOUNTED_TO,
                "complete": False,
            },
        )


async def stored_results(engine: AsyncEngine) -> set[tuple[int, str]]:
    async with engine.connect() as connection:
        query = text("SELECT checked_at, location FROM probe_results")
        rows = await connection.execute(query.columns(checked_at=UTCDateTime(), location=String))
    return {(int((at - T0) / STEP), location) for at, location in rows}


async def test_0011_keeps_what_the_rollups_cannot_say_and_the_rollups(engine: AsyncEngine) -> None:
    await fill_at_0010(engine)
    await migrate(engine, "0011")
    assert await stored_results(engine) == KEPT
    async with engine.connect() as connection:
        rollups = (
            await connection.execute(
                text("SELECT site, location, good, total, up_seconds FROM daily_rollups")
            )
        ).all()
    assert [tuple(r) for r in rollups] == [("www", "default", 7, 9, 1800.0)]
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            options = await connection.scalar(
                text("SELECT reloptions FROM pg_class WHERE oid = 'daily_rollups'::regclass")
            )
        assert options == ["fillfactor=50"]


async def test_0011_downgrade_keeps_the_default_locations_rollups(engine: AsyncEngine) -> None:
    await fill_at_0010(engine)
    await migrate(engine, "0011")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO daily_rollups (customer, site, day, location, good, total,"
                " maintenance, up_seconds, down_seconds, maintenance_seconds,"
                " longest_down_seconds, down_at_start_seconds, accounted_to, complete)"
                " VALUES ('acme', 'www', :day, 'eu', 2, 2, 0, 600.0, 0.0, 0.0, 0.0, 0.0,"
                " :accounted_to, :complete)"
            ).bindparams(bindparam("accounted_to", type_=UTCDateTime())),
            {"day": T0.date(), "accounted_to": ACCOUNTED_TO, "complete": False},
        )
    await migrate(engine, "0010", down=True)
    async with engine.connect() as connection:
        rollups = (await connection.execute(text("SELECT site, good FROM daily_rollups"))).all()
    assert [tuple(r) for r in rollups] == [("www", 7)]
