"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and a fixed clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from smtp_sink import SmtpSink
from support import empty_engine

from uptimeguard.storage.database import upgrade_schema
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


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    if not PG_URL.startswith("postgresql"):
        pytest.skip("UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database")
    return PG_URL


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated, empty database (`empty_engine`)."""
    async with empty_engine(database_url) as engine:
        await upgrade_schema(engine)
        yield Store(engine)
        # Every connection must be back in the pool: nothing a test did leaked one.
        assert engine.pool.checkedout() == 0
