"""The SQL of node rows, heartbeats and the advisory locks, on one connection.

On PostgreSQL every instant here is the database's `clock_timestamp()` (as naive UTC, like
every stored instant), so a node whose own clock is wrong is still judged on the same clock
as the others. Advisory lock keys are hashed from the schema's name, so two deployments in
two schemas of one database never share a leader or a node name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    func,
    insert,
    literal,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from uptimeguard.cluster.membership import Member
from uptimeguard.cluster.models import DegradedSpellRow, NodeRow
from uptimeguard.storage.models import UTCDateTime

NODES = cast(Table, NodeRow.__table__)
SPELLS = cast(Table, DegradedSpellRow.__table__)


def db_now(connection: AsyncConnection) -> ColumnElement[datetime]:
    """The database's clock now, read back as aware UTC (SQLite: this process's clock)."""
    if connection.dialect.name == "postgresql":
        return type_coerce(func.timezone("UTC", func.clock_timestamp()), UTCDateTime())
    return literal(datetime.now(UTC), UTCDateTime())


def member_of(row: Any) -> Member:
    return Member(
        name=row.name,
        location=row.location,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        timeout=timedelta(seconds=row.timeout_seconds),
        stopped_at=row.stopped_at,
        released_at=row.released_at,
        leader=bool(row.leader),
        leader_since=row.leader_since,
        sites_owned=row.sites_owned,
        window_sites=row.window_sites,
        window_failing=row.window_failing,
        host=row.host,
        pid=row.pid,
        version=row.version,
    )


async def read_row(connection: AsyncConnection, name: str) -> Member | None:
    row = (await connection.execute(select(NODES).where(NODES.c.name == name))).first()
    return member_of(row) if row is not None else None


async def register(connection: AsyncConnection, fields: dict[str, Any]) -> Member | None:
    """Write this node's row as just started; returns the row it replaced (a previous run
    under the same name), if any. The caller holds the node's name lock."""
    now = db_now(connection)
    previous = await read_row(connection, fields["name"])
    values = {
        **fields,
        "started_at": now,
        "heartbeat_at": now,
        "released_at": None,
        "stopped_at": None,
        "leader": False,
        "leader_since": None,
        "sites_owned": 0,
        "window_sites": 0,
        "window_failing": 0,
    }
    if previous is None:
        await connection.execute(insert(NODES).values(**values))
    else:
        await connection.execute(
            update(NODES).where(NODES.c.name == fields["name"]).values(**values)
        )
    return previous


async def heartbeat(
    connection: AsyncConnection, name: str, incarnation: str, values: dict[str, Any]
) -> bool:
    """Renew this node's heartbeat (and report its figures); False when its row is gone or
    belongs to another run under the same name."""
    result = await connection.execute(
        update(NODES)
        .where(NODES.c.name == name, NODES.c.incarnation == incarnation)
        .values(heartbeat_at=db_now(connection), **values)
    )
    return result.rowcount == 1


async def members(connection: AsyncConnection) -> tuple[datetime, list[Member]]:
    """The database's now and every node row."""
    now = (await connection.execute(select(db_now(connection)))).scalar_one()
    rows = (await connection.execute(select(NODES).order_by(NODES.c.name))).all()
    return now, [member_of(row) for row in rows]


async def degraded_locations(connection: AsyncConnection) -> dict[str, datetime]:
    """Each location degraded now, with the start of its spell."""
    query = select(SPELLS.c.location, SPELLS.c.started_at).where(SPELLS.c.ended_at.is_(None))
    rows = (await connection.execute(query)).all()
    return {row.location: row.started_at for row in rows}


async def set_leader(connection: AsyncConnection, name: str, leader: bool) -> None:
    """Say in the rows who leads: this node, and no other (a dead leader's row included)."""
    now = db_now(connection)
    if leader:
        await connection.execute(
            update(NODES)
            .where(NODES.c.name != name, NODES.c.leader.is_(True))
            .values(leader=False, leader_since=None)
        )
        await connection.execute(
            update(NODES).where(NODES.c.name == name).values(leader=True, leader_since=now)
        )
    else:
        await connection.execute(
            update(NODES).where(NODES.c.name == name).values(leader=False, leader_since=None)
        )


async def release(connection: AsyncConnection, name: str, incarnation: str) -> None:
    """This node starts no more probes: the others may take its sites from now."""
    await connection.execute(
        update(NODES)
        .where(NODES.c.name == name, NODES.c.incarnation == incarnation)
        .values(released_at=db_now(connection))
    )


async def stopped(connection: AsyncConnection, name: str, incarnation: str) -> None:
    now = db_now(connection)
    await connection.execute(
        update(NODES)
        .where(NODES.c.name == name, NODES.c.incarnation == incarnation)
        .values(
            stopped_at=now,
            heartbeat_at=now,
            leader=False,
            leader_since=None,
            released_at=func.coalesce(NODES.c.released_at, now),
        )
    )


async def stop_others(connection: AsyncConnection, name: str) -> None:
    """Mark every other node stopped (SQLite: holding the file lock, none can be running)."""
    now = db_now(connection)
    await connection.execute(
        update(NODES)
        .where(NODES.c.name != name, NODES.c.stopped_at.is_(None))
        .values(stopped_at=now, leader=False, leader_since=None)
    )


async def forget_dead(connection: AsyncConnection, older_than: timedelta) -> int:
    """Delete the rows of nodes dead for longer than `older_than` (the leader's tidying)."""
    rows = (await connection.execute(select(NODES))).all()
    now = (await connection.execute(select(db_now(connection)))).scalar_one()
    gone = [r.name for r in rows if member_of(r).dies_at() < now - older_than]
    if gone:
        await connection.execute(NODES.delete().where(NODES.c.name.in_(gone)))
    return len(gone)


# -- PostgreSQL's advisory locks and notifications ----------------------------------------------


def _key(kind: str) -> str:
    return f"hashtextextended('uptimeguard:{kind}:' || current_schema() || ':' || :name, 0)"


async def try_lock(connection: AsyncConnection, kind: str, name: str) -> bool:
    """Take a session-level advisory lock (`kind`: node or leader) without waiting. It is held
    until released or until this connection ends, however the process ends."""
    statement = text(f"SELECT pg_try_advisory_lock({_key(kind)})")
    return bool((await connection.execute(statement, {"name": name})).scalar_one())


async def unlock(connection: AsyncConnection, kind: str, name: str) -> None:
    statement = text(f"SELECT pg_advisory_unlock({_key(kind)})")
    await connection.execute(statement, {"name": name})


async def channel_name(connection: AsyncConnection) -> str:
    """The channel this schema's nodes talk on."""
    schema = str((await connection.execute(text("SELECT current_schema()"))).scalar_one())
    return f"uptimeguard:{schema}"[:63]


async def notify(connection: AsyncConnection, channel: str, payload: str) -> None:
    """Sent when the caller's transaction commits (at once outside one)."""
    await connection.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
    )
