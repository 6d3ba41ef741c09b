"""Alembic environment: runs on the connection handed in by `upgrade_schema`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from uptimeguard.storage.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the `alembic` command line: the same async drivers the daemon uses
    url = config.get_main_option("sqlalchemy.url") or ""

    async def _run_async() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as async_connection:
                await async_connection.run_sync(_run)
        finally:
            await engine.dispose()

    asyncio.run(_run_async())
