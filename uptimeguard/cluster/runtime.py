"""The cluster's parts joined to the daemon: ownership, the leader's duties, metrics and the
notifications that keep the nodes in step. Built by `app.py` once the node has started."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from uptimeguard.cluster.degraded import window
from uptimeguard.cluster.gate import AgreementGate
from uptimeguard.cluster.leader import LeaderDuties
from uptimeguard.cluster.node import ClusterNode
from uptimeguard.cluster.ownership import Ownership
from uptimeguard.housekeeping import Housekeeping
from uptimeguard.incidents.service import IncidentChange, IncidentService
from uptimeguard.metrics import Metrics
from uptimeguard.monitor.service import Monitor
from uptimeguard.paging import PagingService
from uptimeguard.storage.repository import Store

log = logging.getLogger(__name__)

GOOD = frozenset(("up", "slow"))
# A pause and a resume move deadlines (the leader re-arms the SLA timers); so does a withdrawn
# acknowledgement.
ANNOUNCED = frozenset(
    ("opened", "upgraded", "acknowledged", "resolved", "breached", "paused", "resumed",
     "ack_expired")
)  # fmt: skip


class Cluster:
    def __init__(
        self,
        node: ClusterNode,
        monitor: Monitor,
        housekeeping: Housekeeping,
        paging: PagingService | None,
        incidents: IncidentService,
        metrics: Metrics,
        store: Store,
    ) -> None:
        self.node = node
        self.monitor = monitor
        self.ownership = Ownership(node, monitor) if node.multi else None
        self.leader = LeaderDuties(node, housekeeping, paging)
        self.gate: AgreementGate | None = None
        if node.multi:
            self.gate = AgreementGate(
                node,
                incidents,
                store,
                owns=lambda key: key in monitor.scheduler,
                probe_now=monitor.probe_now,
                local_stats=self.stats,
            )
            monitor.gate = self.gate
            every = node.identity.heartbeat_every
            self.leader.add_sweep(self.gate.sweep_degraded, every)
            self.leader.add_sweep(self.gate.sweep_resolved, 5 * every)
            self.leader.add_sweep(self.gate.sweep_requests, 60.0)
        self._incidents = incidents
        self._metrics = metrics
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        node = self.node
        node.stats = self.stats
        await self.leader.start()
        if self.ownership is not None:
            node.on_membership(self.ownership.refresh)
            await self.ownership.refresh()
            self._incidents.subscribe(self._announce)
        if self.gate is not None:
            self._spawn(self.gate.run())
        self._metrics.cluster.view = self

    async def stop(self) -> None:
        await self.leader.stop()
        for task in list(self._tasks):
            task.cancel()

    # -- what the metrics read (`uptimeguard.cluster.metrics.ClusterView`) --------------------

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def location(self) -> str:
        return self.node.location

    def is_leader(self) -> bool:
        return self.node.leader

    def sites_owned(self) -> int:
        return len(self.monitor.scheduler)

    def live_by_location(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for member in self.node.live_members():
            counts[member.location] = counts.get(member.location, 0) + 1
        return counts

    def degraded_locations(self) -> frozenset[str]:
        return frozenset(self.node.degraded)

    def short_sites(self) -> int:
        if self.gate is None:
            return 0
        return self.gate.short_sites(self.monitor.config.site_refs())

    def handovers(self) -> int:
        return self.ownership.handovers if self.ownership is not None else 0

    def reloaded(self) -> None:
        """The checks file changed: new sites get their owner, removed ones are gone."""
        if self.ownership is not None:
            self._spawn(self.ownership.refresh())

    def stats(self) -> dict[str, int]:
        """What this node's heartbeat reports: sites owned, and over the last window
        (`degraded.window`) the distinct sites it probed and those whose latest probe
        failed."""
        defaults = self.monitor.config.defaults
        since = datetime.now(UTC) - window(defaults.recheck, defaults.confirm)
        probed = failing = 0
        for live in self.monitor.sites.values():
            checked = live.last_checked_at
            if checked is not None and checked >= since:
                probed += 1
                if live.last_outcome not in GOOD:
                    failing += 1
        return {
            "sites_owned": len(self.monitor.scheduler),
            "window_sites": probed,
            "window_failing": failing,
        }

    async def _announce(self, change: IncidentChange) -> None:
        """Tell the other nodes (the leader keeps SLA timers and wakes paging on it)."""
        if change.kind in ANNOUNCED:
            await self.node.announce("incident", id=change.incident.id, change=change.kind)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
