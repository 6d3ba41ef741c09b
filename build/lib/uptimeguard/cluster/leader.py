"""The leader's part: what must run once in the whole cluster.

The node holding the leader lock (`ClusterNode`) runs the housekeeping jobs (SLA breach timers
and sweep, daily rollups, pruning, the open-incident and uptime gauges), plans pages (paging
decisions, ladder rungs, SLA escalation steps, held-over desk notices; every node sends what is
due), and every heartbeat period sweeps the cluster: pages a dead node was sending are marked
interrupted (never resent), and nodes dead for a day are forgotten. `extra` sweeps (agreement,
degraded locations) join in.

Every job is safe when interrupted: a new leader takes over within the node timeout and
starts where the database says, and two leaders for a moment (one that has not yet noticed
it lost its session) write the same rows the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from uptimeguard.cluster import nodes_sql as sql
from uptimeguard.cluster.node import ClusterNode
from uptimeguard.housekeeping import Housekeeping
from uptimeguard.paging import PagingService

log = logging.getLogger(__name__)

FORGET_AFTER = timedelta(days=1)
Sweep = Callable[[], Awaitable[None]]


class LeaderDuties:
    def __init__(
        self, node: ClusterNode, housekeeping: Housekeeping, paging: PagingService | None
    ) -> None:
        self._node = node
        self._housekeeping = housekeeping
        self._paging = paging
        self._task: asyncio.Task[None] | None = None
        every = node.identity.heartbeat_every
        # Each sweep with how often it runs, and when it runs next (loop time).
        self._sweeps: list[list[Any]] = [
            [self._dead_nodes_pages, every, 0.0],
            [self._forget_old_nodes, 60.0, 0.0],
        ]
        self._interrupted_for: set[str] = set()
        self._wake = asyncio.Event()
        housekeeping.leading = False
        if paging is not None:
            paging.planning = lambda: node.leader

    def add_sweep(self, sweep: Sweep, every: float) -> None:
        """Run `sweep` on the leader every `every` seconds (and when it starts leading)."""
        self._sweeps.append([sweep, every, 0.0])

    async def start(self) -> None:
        self._node.on_leadership(self._changed)
        self._node.on_message("incident", self._incident_changed)
        self._node.on_membership(self._membership)
        if self._node.leader:
            await self._changed(True)
        else:
            self._housekeeping.follow()

    async def stop(self) -> None:
        await self._stop_sweeping()
        await self._housekeeping.stop()

    async def _changed(self, leader: bool) -> None:
        if leader:
            await self._housekeeping.lead()
            if self._task is None:
                self._task = asyncio.create_task(self._sweep_loop(), name="leader-sweeps")
            if self._paging is not None:
                self._paging.wake()
        else:
            self._housekeeping.follow()
            await self._stop_sweeping()

    async def _stop_sweeping(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _membership(self) -> None:
        self._wake.set()  # a node died or left: its half-sent pages are dealt with at once

    def _incident_changed(self, message: dict[str, Any]) -> None:
        if not self._node.leader or message.get("from") == self._node.name:
            return
        incident_id = message.get("id")
        if isinstance(incident_id, int):
            asyncio.get_running_loop().create_task(self._housekeeping.track(incident_id))
        if self._paging is not None:
            self._paging.wake()

    async def _sweep_loop(self) -> None:
        loop = asyncio.get_running_loop()
        every = self._node.identity.heartbeat_every
        for entry in self._sweeps:
            entry[2] = 0.0
        while True:
            woken = self._wake.is_set()
            self._wake.clear()
            for entry in self._sweeps:
                sweep, period, due = entry
                if loop.time() < due and not (woken and period <= every):
                    continue
                entry[2] = loop.time() + period
                try:
                    await sweep()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    name = getattr(sweep, "__name__", repr(sweep))
                    log.warning("leader sweep %s failed: %s", name, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)

    async def _dead_nodes_pages(self) -> None:
        if self._paging is None:
            return
        now = self._node.now()
        dead = {m.name for m in self._node.members if not m.alive(now)} - {self._node.name}
        fresh = dead - self._interrupted_for
        if fresh:
            await self._paging.recover(sorted(fresh))
        self._interrupted_for = dead

    async def _forget_old_nodes(self) -> None:
        now = self._node.now()
        if not any(m.dies_at() < now - FORGET_AFTER for m in self._node.members):
            return
        async with self._node.engine.begin() as connection:
            gone = await sql.forget_dead(connection, FORGET_AFTER)
        if gone:
            log.info("forgot %d nodes dead for over %s", gone, FORGET_AFTER)
