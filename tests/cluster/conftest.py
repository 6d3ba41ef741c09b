"""Cluster fixtures: a PostgreSQL database of its own per test (advisory locks and
notifications are per database), dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from uptimeguard.storage.database import make_engine

PG_URL = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")


@pytest.fixture
async def cluster_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database's URL (skips without UPTIMEGUARD_TEST_DATABASE_URL)."""
    if not PG_URL.startswith("postgresql"):
        pytest.skip("UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database")
    name = f"ug_cluster_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
