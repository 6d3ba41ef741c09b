"""Issue 12 item 11 (the API half): a manual incident posted while the database cannot take
the write (disk full, an I/O error, the server gone) gets 503 with `Retry-After`, not a 500,
and nothing is half-opened; once the database is back the same post opens the incident.

The SQLite disk is filled for real: every connection the daemon takes from its pool is held
to the file's current size (`PRAGMA max_page_count`), so a write that needs a new page fails
with SQLite's own SQLITE_FULL, "database or disk is full". PostgreSQL is cut with a TCP
relay. The other drivers' errors are raised where the incident is written.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import event, exc
from support import TargetSite, TcpProxy, free_port

from uptimeguard.app import Daemon, running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

PG_URL = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")
TOKEN = "disk-full-token"
CHECKS = """
calendars:
  office: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  standard:
    calendar: office
    severities:
      query: {{response: 8h, resolution: 10d}}
    causes: {{down: query}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {{id: www, url: "{url}", interval: 60s}}
"""
# Long enough (incident row and its timeline entry) that the write needs new pages.
INCIDENT = {"customer": "acme", "severity": "query", "summary": "reported by phone " * 550}


@dataclass
class Running:
    daemon: Daemon
    http: aiohttp.ClientSession


@pytest.fixture
async def target() -> AsyncIterator[TargetSite]:
    site = TargetSite()
    await site.start()
    yield site
    await site.stop()


async def _run(url: str, target: TargetSite) -> AsyncIterator[Running]:
    config = load_config_text(CHECKS.format(url=target.url), path="checks.yaml")
    settings = Settings(database_url=url, listen=f"127.0.0.1:{free_port()}", admin_token=TOKEN)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        running_daemon(settings, config) as daemon,
        aiohttp.ClientSession(f"http://127.0.0.1:{daemon.port}", headers=headers) as http,
    ):
        yield Running(daemon, http)


@pytest.fixture
async def sqlite_daemon(tmp_path: Path, target: TargetSite) -> AsyncIterator[Running]:
    async for running in _run(f"sqlite+aiosqlite:///{tmp_path / 'full.db'}", target):
        yield running


async def _incidents(http: aiohttp.ClientSession) -> list[dict[str, Any]]:
    async with http.get("/api/v1/incidents") as response:
        assert response.status == 200
        return list((await response.json())["incidents"])


async def _assert_503(http: aiohttp.ClientSession) -> str:
    async with http.post("/api/v1/incidents", json=INCIDENT) as response:
        body = await response.json()
        assert response.status == 503, body
        assert int(response.headers["Retry-After"]) > 0
        assert "database" in body["error"] and "retry" in body["error"]
        print(f"503, Retry-After {response.headers['Retry-After']}: {body['error']}")
        return str(body["error"])


async def test_sqlite_disk_full_gives_503_then_201(sqlite_daemon: Running):
    http, engine = sqlite_daemon.http, sqlite_daemon.daemon.store.engine
    full = True

    @event.listens_for(engine.sync_engine, "checkout")
    def _disk(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        # A limit below the file's size holds it at its size; the default gives room back.
        cursor.execute(f"PRAGMA max_page_count = {1 if full else 1073741823}")
        cursor.close()

    error = await _assert_503(http)
    assert "database or disk is full" in error
    full = False
    assert await _incidents(http) == []  # nothing half-opened
    async with http.post("/api/v1/incidents", json=INCIDENT) as response:
        assert response.status == 201
    assert len(await _incidents(http)) == 1


def _sqlite_error(message: str) -> Exception:
    return exc.OperationalError("INSERT INTO incidents ...", {}, sqlite3.OperationalError(message))


def _asyncpg_error(error: Exception) -> Exception:
    translated = exc.InterfaceError("INSERT INTO incidents ...", {}, error)
    return translated


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        OSError(errno.EIO, os.strerror(errno.EIO)),
        _sqlite_error("database or disk is full"),
        _sqlite_error("disk I/O error"),
        _asyncpg_error(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.DiskFullError("could not extend file: No space left on device"),
        ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)"),
        exc.TimeoutError("QueuePool limit of size 5 overflow 5 reached"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_database_write_failures_give_503(sqlite_daemon: Running, monkeypatch, error):
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(sqlite_daemon.daemon.store, "create_incident", failing)
    await _assert_503(sqlite_daemon.http)
    monkeypatch.undo()
    async with sqlite_daemon.http.post("/api/v1/incidents", json=INCIDENT) as response:
        assert response.status == 201


@pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database",
)
async def test_postgresql_gone_gives_503_then_201(target: TargetSite):
    name = f"ug_full_{uuid.uuid4().hex[:10]}"
    server = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    host, _, port = server.split("@", 1)[1].split("/", 1)[0].partition(":")
    proxy = TcpProxy(host, int(port or 5432))
    await proxy.restore()
    user = server.split("//", 1)[1].split("@", 1)[0]
    try:
        async for running in _run(
            f"postgresql+asyncpg://{user}@127.0.0.1:{proxy.port}/{name}", target
        ):
            await proxy.cut()
            await _assert_503(running.http)
            await proxy.restore()
            async with running.http.post("/api/v1/incidents", json=INCIDENT) as response:
                assert response.status == 201
            assert len(await _incidents(running.http)) == 1
    finally:
        await proxy.cut()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
