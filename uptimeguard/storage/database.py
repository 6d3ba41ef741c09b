"""The async engine, sessions and schema migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from uptimeguard.storage.errors import DatabaseUnusable
from uptimeguard.storage.urls import ACCEPTED_FORMS, describe_database, sqlite_path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, busy_timeout: float = 30.0, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`; SQLite gets WAL (readers never block writers) and a busy timeout:
    how long a write waits for another connection's write lock before it fails with
    "database is locked" (the daemon's is `UPTIMEGUARD_SQLITE_BUSY_TIMEOUT_SECONDS`)."""
    if is_sqlite(url):
        busy_ms = int(busy_timeout * 1000)
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection, url: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Apply every pending migration (what `uptimeguard db upgrade` and `run` do).

    On PostgreSQL the migration transaction first takes an advisory lock, so several nodes
    started at once on one database migrate it once: the others wait, then find it done.
    """
    url = engine.url.render_as_string(hide_password=False)
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('uptimeguard:migrations'))")
            )
        await connection.run_sync(_upgrade, url)


async def ping(engine: AsyncEngine, timeout: float = 3.0) -> bool:
    """True when the database answers a trivial query within `timeout` seconds."""

    async def select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(select_one(), timeout)
    except Exception:
        return False
    return True


async def open_database(url: str, *, create: bool, timeout: float = 15.0) -> AsyncEngine:
    """An engine on `url` with the schema brought up to date, for the commands.

    Without `create`, a SQLite file that does not exist is refused rather than made (a
    command that only reads would otherwise read a new, empty database). A database that
    cannot be reached within `timeout` seconds, or refuses us, raises `DatabaseUnusable`.
    """
    where = describe_database(url)
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise DatabaseUnusable(
            f"no database at {path}; run `uptimeguard db upgrade` or pass --database"
        )
    engine = make_engine(url)
    try:
        await asyncio.wait_for(_select_one(engine), timeout)
    except Exception as error:
        await engine.dispose()
        raise DatabaseUnusable(
            f"cannot use the database at {where}: {_reason(error)}; check --database or "
            f"UPTIMEGUARD_DATABASE_URL ({ACCEPTED_FORMS})"
        ) from None
    try:
        await upgrade_schema(engine)
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer"
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
