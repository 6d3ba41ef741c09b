"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and a fixed clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from smtp_sink import SmtpSink
from sqlalchemy import text

from uptimeguard.storage.database import make_engine, upgrade_schema
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
    """A migrated, empty database. On PostgreSQL each test gets a schema of its own, so tests
    (and people running them side by side) never see each other's rows."""
    schema = None
    kwargs: dict = {}
    if database_url.startswith("postgresql"):
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(database_url)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = make_engine(database_url, **kwargs)
    await upgrade_schema(engine)
    store = Store(engine)
    yield store
    # Every connection must be back in the pool: nothing a test did leaked one.
    assert engine.pool.checkedout() == 0
    await engine.dispose()
    if schema is not None:
        admin = make_engine(database_url)
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
