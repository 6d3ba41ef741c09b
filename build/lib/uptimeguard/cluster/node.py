"""This node in the cluster: its row and heartbeat, who else is alive, and the leader lock.

On PostgreSQL the node keeps one connection of its own (never from the pool, so a busy pool
cannot delay a heartbeat). On it the node holds two session-level advisory locks: its name's,
for as long as it runs (a second daemon under the same `--node` is refused; a restart after a
SIGKILL is not, since PostgreSQL drops the dead session's locks), and the leader's, while it
leads. It renews its heartbeat every fifth of `NODE_TIMEOUT_SECONDS`, LISTENs for the others'
news (a node joined or left, a probe request, an incident changed), and reads the node rows
again when told, on every heartbeat, and at the exact moment the next live node would die.

If that connection fails, the node stops leading at once (the lock went with the session) and
reconnects every second. It keeps probing its last share meanwhile: a database outage must
not stop the monitoring. Back on, it trusts the others' heartbeats only after a heartbeat
period, so it does not take for dead nodes that simply had not reconnected yet.

On SQLite there is one node: it holds the file lock (`sqlite_lock`) and leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import metadata
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from uptimeguard.cluster import membership
from uptimeguard.cluster import nodes_sql as sql
from uptimeguard.cluster.membership import Member
from uptimeguard.cluster.sqlite_lock import SqliteNodeLock, sqlite_path

log = logging.getLogger(__name__)

DB_ERRORS = (OSError, TimeoutError, ConnectionError)
RECONNECT_SECONDS = 1.0


class NodeStartError(RuntimeError):
    """This node cannot join (its name is taken, its SQLite file is held)."""


def _version() -> str:
    try:
        return metadata.version("uptimeguard")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    location: str
    timeout: timedelta
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    version: str = field(default_factory=_version)
    incarnation: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def heartbeat_every(self) -> float:
        return max(0.2, self.timeout.total_seconds() / 5)

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "location": self.location,
            "host": self.host[:255],
            "pid": self.pid,
            "version": self.version[:32],
            "incarnation": self.incarnation,
            "timeout_seconds": self.timeout.total_seconds(),
        }


MembershipListener = Callable[[], Awaitable[None]]
LeaderListener = Callable[[bool], Awaitable[None]]
MessageListener = Callable[[dict[str, Any]], None]
Stats = Callable[[], dict[str, int]]


class ClusterNode:
    """See the module docstring. `multi` is True on PostgreSQL (several nodes may run)."""

    def __init__(self, identity: Identity, engine: AsyncEngine, **connect_args: Any) -> None:
        self.identity = identity
        self._engine = engine
        self.multi = engine.dialect.name == "postgresql"
        self._connect_args = connect_args
        self._own_engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._channel = "uptimeguard"
        self._sqlite_lock: SqliteNodeLock | None = None
        self.members: list[Member] = []
        self.degraded: dict[str, datetime] = {}
        self.previous: Member | None = None  # this name's row before this run
        self.leader = False
        self.connected = False
        self._read_db: datetime | None = None  # the database clock at the last read
        self._read_mono = 0.0
        self._trust_after = 0.0  # monotonic: others' heartbeats are trusted from then
        self._lost_at: datetime | None = None  # the last good read before a lost session
        self._next_beat = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._membership_listeners: list[MembershipListener] = []
        self._leader_listeners: list[LeaderListener] = []
        self._message_listeners: dict[str, list[MessageListener]] = {}
        self.stats: Stats = dict
        self._seen: tuple[object, ...] | None = None
        self._listening: set[asyncio.Task[None]] = set()

    # -- what the rest reads -----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def _limit(self) -> float:
        """How long one statement on the node's connection may take before the session is
        taken for broken: half the node timeout (a heartbeat that late is a problem)."""
        return max(1.0, self.identity.timeout.total_seconds() / 2)

    @property
    def engine(self) -> AsyncEngine:
        """The daemon's engine (pooled connections, for ordinary work)."""
        return self._engine

    @property
    def location(self) -> str:
        return self.identity.location

    def now(self) -> datetime:
        """The database's clock now, estimated from the last read (local time elapsed since)."""
        if self._read_db is None:
            raise RuntimeError("the node has not read the database clock yet")
        loop = asyncio.get_running_loop()
        return self._read_db + timedelta(seconds=loop.time() - self._read_mono)

    def live_members(self) -> list[Member]:
        """Live nodes now; this node always among them (it knows it is alive)."""
        if self._read_db is None:
            return []
        now = self.now()
        before = self._lost_at
        if before is not None and asyncio.get_running_loop().time() >= self._trust_after:
            before = self._lost_at = None
        # Just reconnected, a node alive when this one lost the database still counts as
        # alive for a heartbeat period: it may not have renewed its heartbeat yet.
        return [
            m
            for m in self.members
            if m.name == self.name
            or m.alive(now)
            or (before is not None and m.stopped_at is None and m.alive(before))
        ]

    def live_names(self, location: str | None = None) -> frozenset[str]:
        wanted = self.location if location is None else location
        return frozenset(m.name for m in self.live_members() if m.location == wanted)

    def live_locations(self) -> frozenset[str]:
        return frozenset(m.location for m in self.live_members())

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)

    # -- listeners ---------------------------------------------------------------------------

    def on_membership(self, listener: MembershipListener) -> None:
        """Called after a read that changed who is alive, who leads or which location is
        degraded."""
        self._membership_listeners.append(listener)

    def on_leadership(self, listener: LeaderListener) -> None:
        """Called with True when this node becomes the leader, False when it stops."""
        self._leader_listeners.append(listener)

    def on_message(self, kind: str, listener: MessageListener) -> None:
        """Called (synchronously, from the notification) for each message of `kind`."""
        self._message_listeners.setdefault(kind, []).append(listener)

    @property
    def channel(self) -> str:
        return self._channel

    def message(self, kind: str, **data: Any) -> str:
        return json.dumps({"kind": kind, "from": self.name, **data})

    async def announce(self, kind: str, **data: Any) -> None:
        """Tell every node (PostgreSQL; nothing to tell on SQLite), on a pooled connection."""
        if not self.multi:
            if kind == "nodes":
                self._wake.set()
            return
        async with self._engine.connect() as connection:
            await sql.notify(connection, self._channel, self.message(kind, **data))
            await connection.commit()

    # -- start and stop ----------------------------------------------------------------------

    async def start(self) -> None:
        if self.multi:
            await self._connect(first=True)
        else:
            await self._start_sqlite()
        await self._read()
        if self.multi:
            await self._try_lead()
        self._next_beat = asyncio.get_running_loop().time() + self.identity.heartbeat_every
        self._task = asyncio.create_task(self._run(), name="cluster-node")
        log.info(
            "node %s in location %s%s",
            self.name,
            self.location,
            " (leader)" if self.leader else "",
        )

    async def release(self) -> None:
        """This node starts no more probes (called as the monitor stops)."""
        with contextlib.suppress(*DB_ERRORS, Exception):
            async with self._connection() as connection:
                await sql.release(connection, self.name, self.identity.incarnation)

    async def stop(self) -> None:
        """Leave cleanly: the row says stopped, the others are told and take over at once."""
        self._closing = True
        self._wake.set()
        for task in list(self._listening):
            task.cancel()
        if self._task is not None:
            # Let a heartbeat under way finish rather than cut the session mid-statement.
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self._limit)
            except (TimeoutError, Exception):
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        try:
            # On a pooled connection: the node's own may be the one that failed.
            async with asyncio.timeout(self._limit), self._engine.begin() as connection:
                await sql.stopped(connection, self.name, self.identity.incarnation)
                if self.multi:
                    await sql.notify(connection, self._channel, self.message("nodes"))
        except Exception as error:
            log.warning("could not record this node's stop (%s); it counts as dead later", error)
        if self.leader:
            await self._set_leader(False)
        await self._disconnect()
        if self._own_engine is not None:
            await self._own_engine.dispose()
        if self._sqlite_lock is not None:
            self._sqlite_lock.release()

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failing = False
        while not self._closing:
            try:
                if self.multi and self._conn is None:
                    await self._connect()
                if loop.time() >= self._next_beat:
                    self._next_beat = loop.time() + self.identity.heartbeat_every
                    await self._beat()
                    if self.multi and not self.leader:
                        await self._try_lead()
                await self._read()
                if failing:
                    log.info("node %s: the database answers again", self.name)
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not failing:
                    log.warning(
                        "node %s: heartbeat failed (%s); retrying every %ss",
                        self.name,
                        str(error).splitlines()[0] if str(error) else type(error).__name__,
                        RECONNECT_SECONDS,
                    )
                failing = True
                await self._lost()
                self._next_beat = loop.time() + RECONNECT_SECONDS
            await self._sleep(loop)

    async def _sleep(self, loop: asyncio.AbstractEventLoop) -> None:
        until = self._next_beat
        if self._read_db is not None:
            death = membership.next_death(
                [m for m in self.members if m.name != self.name], self.now()
            )
            if death is not None:
                # Just after the moment it would die, so the read sees it dead.
                seconds = (death - self.now()).total_seconds() + 0.02
                until = min(until, loop.time() + max(0.0, seconds))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, until - loop.time()))
        self._wake.clear()

    async def _beat(self) -> None:
        values = {k: int(v) for k, v in self.stats().items()}
        async with self._connection() as connection:
            if not await sql.heartbeat(connection, self.name, self.identity.incarnation, values):
                # The row was tidied away (or another run took the name while we were cut
                # off, which the name lock prevents): write it again.
                log.warning("node %s: its row was gone; registering again", self.name)
                await sql.register(connection, self.identity.row())

    async def _read(self) -> None:
        async with self._connection() as connection:
            now, members = await sql.members(connection)
            degraded = await sql.degraded_locations(connection)
        self._read_db, self._read_mono = now, asyncio.get_running_loop().time()
        self.members, self.degraded = members, degraded
        live = self.live_members()
        seen = (
            frozenset((m.name, m.location) for m in live),
            frozenset(degraded),
            next((m.name for m in live if m.leader), None),
        )
        if seen != self._seen:
            self._seen = seen
            # In tasks of their own: a new split of 100,000 sites takes a moment, and the
            # heartbeat must not wait for it.
            for listener in self._membership_listeners:
                task = asyncio.get_running_loop().create_task(self._call(listener))
                self._listening.add(task)
                task.add_done_callback(self._listening.discard)

    @staticmethod
    async def _call(listener: MembershipListener) -> None:
        try:
            await listener()
        except Exception:
            log.exception("membership listener failed")

    # -- the connection ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self) -> Any:
        """The node's own connection (PostgreSQL, autocommit) or a pooled one (SQLite), each
        use bounded by `_limit`."""
        if not self.multi:
            async with asyncio.timeout(self._limit * 5), self._engine.begin() as connection:
                yield connection
            return
        if self._conn is None:
            raise ConnectionError("not connected to the database")
        try:
            async with asyncio.timeout(self._limit):
                yield self._conn
        except BaseException:
            await self._disconnect()
            raise

    async def _connect(self, first: bool = False) -> None:
        if self._own_engine is None:
            url = self._engine.url
            self._own_engine = create_async_engine(
                url, poolclass=NullPool, connect_args=self._connect_args
            )
        connection = await self._own_engine.connect()
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with asyncio.timeout(max(5.0, self.identity.heartbeat_every)):
                await self._join(connection, first)
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        self._conn = connection
        self.connected = True
        if not first:
            loop = asyncio.get_running_loop()
            self._trust_after = loop.time() + self.identity.heartbeat_every + RECONNECT_SECONDS
            log.info("node %s: reconnected to the database", self.name)

    async def _join(self, connection: AsyncConnection, first: bool) -> None:
        if not await sql.try_lock(connection, "node", self.name):
            holder = await sql.read_row(connection, self.name)
            where = f" on {holder.host} (pid {holder.pid})" if holder else ""
            raise NodeStartError(
                f"node {self.name} is already running{where}; give each node its own "
                "--node (UPTIMEGUARD_NODE)"
            )
        self._channel = await sql.channel_name(connection)
        if first:
            self.previous = await sql.register(connection, self.identity.row())
        elif not await sql.heartbeat(connection, self.name, self.identity.incarnation, {}):
            await sql.register(connection, self.identity.row())
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.add_listener(self._channel, self._notified)
        await sql.notify(connection, self._channel, self.message("nodes"))

    async def _disconnect(self) -> None:
        connection, self._conn = self._conn, None
        if self.connected:
            self._lost_at = self._lost_at or self._read_db
        self.connected = False
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()
        if self.leader and self.multi:
            # The leader lock went with the session: another node may lead from now.
            log.warning("node %s: lost its database session; no longer the leader", self.name)
            await self._set_leader(False)

    async def _lost(self) -> None:
        await self._disconnect()

    async def _start_sqlite(self) -> None:
        path = sqlite_path(str(self._engine.url))
        if path is not None:
            self._sqlite_lock = SqliteNodeLock(path.resolve(), self.name)
            try:
                self._sqlite_lock.acquire()
            except Exception as error:
                raise NodeStartError(str(error)) from None
        async with self._connection() as connection:
            self.previous = await sql.register(connection, self.identity.row())
            # Holding the file lock, no other node can be running on this file.
            await sql.stop_others(connection, self.name)
            await sql.set_leader(connection, self.name, True)
        self.connected = True
        self.leader = True
        for listener in self._leader_listeners:
            await listener(True)

    # -- leading -----------------------------------------------------------------------------

    async def _try_lead(self) -> None:
        async with self._connection() as connection:
            if not await sql.try_lock(connection, "leader", ""):
                return
            await sql.set_leader(connection, self.name, True)
            await sql.notify(connection, self._channel, self.message("nodes"))
        log.info("node %s is now the leader", self.name)
        await self._set_leader(True)

    async def _set_leader(self, leader: bool) -> None:
        if leader == self.leader:
            return
        self.leader = leader
        for listener in self._leader_listeners:
            try:
                await listener(leader)
            except Exception:
                log.exception("leadership listener failed")

    # -- notifications -----------------------------------------------------------------------

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            kind = str(message.get("kind"))
        except (ValueError, AttributeError):
            return
        if kind == "nodes":
            self._wake.set()
        for listener in self._message_listeners.get(kind, []):
            try:
                listener(message)
            except Exception:
                log.exception("listener for %s messages failed", kind)
