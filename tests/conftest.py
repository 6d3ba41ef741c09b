"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and a fixed clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from uptimeguard.storage.database import make_engine, upgrade_schema
from uptimeguard.storage.models import Base
from uptimeguard.storage.repository import Store

PG_URL = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # a Tuesday, in hours


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    if not PG_URL.startswith("postgresql"):
        pytest.skip("UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database")
    return PG_URL


async def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    if database_url.startswith("postgresql"):
        await reset_postgres(database_url)
    engine = make_engine(database_url)
    await upgrade_schema(engine)
    store = Store(engine)
    yield store
    # Every connection must be back in the pool: nothing a test did leaked one.
    assert engine.pool.checkedout() == 0
    await engine.dispose()
