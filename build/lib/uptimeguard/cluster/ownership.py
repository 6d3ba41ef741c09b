"""Which sites this node probes: its rendezvous share among the live nodes of its location.

Recomputed whenever the live nodes of the location change (a join, a clean stop, a death seen
on the database clock) and when the checks file is reloaded. Sites gained are handed to the
monitor with how they came (`handover`): from a live node (which stops within a heartbeat
period, so this node waits that long), or from a dead one (whose missed slots are probed at
once). Sites lost are dropped at once. Every node computes the same split from the same rows,
so no site is probed by two nodes of a location, and every site by one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Hashable

from uptimeguard.cluster.handover import Handover
from uptimeguard.cluster.hrw import assign
from uptimeguard.cluster.node import ClusterNode
from uptimeguard.monitor.service import Monitor, SiteKey

log = logging.getLogger(__name__)

# A dead node's probe of a slot may have started this late (its scheduler lag): slots this
# close before its last heartbeat are probed again rather than risk missing them.
LAG_MARGIN_SECONDS = 1.0
PACE = 5_000  # sites weighed between yields to the event loop


class Ownership:
    def __init__(self, node: ClusterNode, monitor: Monitor) -> None:
        self._node = node
        self._monitor = monitor
        self._names: frozenset[str] | None = None  # the live nodes the current split is for
        self._config: object = None
        self._lock = asyncio.Lock()
        self.handovers = 0  # sites taken from another node since start

    @property
    def owned(self) -> int:
        return len(self._monitor.scheduler)

    async def refresh(self) -> None:
        """Bring this node's share up to date with the live nodes and the checks file."""
        async with self._lock:
            names = self._node.live_names()
            config = self._monitor.config
            if names == self._names and config is self._config:
                return
            await self._split(names, self._names)
            self._names, self._config = names, config

    async def _split(self, names: frozenset[str], before: frozenset[str] | None) -> None:
        me = self._node.name
        keys = list(self._monitor.sites)
        owners: dict[Hashable, str] = {}
        for start in range(0, len(keys), PACE):
            owners.update(assign(keys[start : start + PACE], names))
            await asyncio.sleep(0)
        mine = {key for key, owner in owners.items() if owner == me}
        current = set(self._monitor.owned)
        lost = current - mine
        gained = [key for key in keys if key in mine and key not in current]
        previous = self._previous_owners(gained, names, before)
        first = before is None
        handovers = {key: self._handover(previous.get(key), first) for key in gained}
        self._monitor.drop(lost)
        taken = await self._monitor.take(handovers)
        self._report(gained, lost, previous, owners, taken)

    def _previous_owners(
        self, keys: list[SiteKey], names: frozenset[str], before: frozenset[str] | None
    ) -> dict[SiteKey, str]:
        """Who probed each of `keys` before: its owner in the previous split; at this node's
        start, its previous run if that was still alive, else the owner among the others."""
        me = self._node.name
        if before is None:
            previous = self._node.previous
            if previous is not None and previous.alive(self._node.now()):
                return dict.fromkeys(keys, me)
            before = names - {me}
        found = assign(keys, before)
        return {key: owner for key, owner in found.items() if isinstance(key, tuple)}

    def _handover(self, owner: str | None, first: bool) -> Handover:
        """How a site comes to this node; `first`: in its first split since it started."""
        node = self._node
        if owner is None or (owner == node.name and not first):
            return Handover()  # nobody probed it (a site new to the checks file)
        member = node.previous if owner == node.name else node.member(owner)
        if member is None:
            return Handover()
        now_db = node.now()
        # Database instants as this machine's Unix seconds (the monitor schedules on those).
        offset = time.time() - now_db.timestamp()
        if owner != node.name and member.alive(now_db):
            grace = node.identity.heartbeat_every + 0.5
            return Handover(not_before=time.time() + grace)
        since = member.unprobed_since().timestamp() + offset - LAG_MARGIN_SECONDS
        return Handover(missed_since=since)

    def _report(
        self,
        gained: list[SiteKey],
        lost: set[SiteKey],
        previous: dict[SiteKey, str],
        owners: dict[Hashable, str],
        taken: int,
    ) -> None:
        me = self._node.name
        if gained:
            sources = Counter(previous.get(key, "nobody") for key in gained)
            parts = []
            for source, count in sorted(sources.items()):
                member = self._node.member(source)
                if source == me:
                    state = "this node's previous run"
                elif member is not None and member.alive(self._node.now()):
                    state = "alive"
                else:
                    state = "dead" if member is not None and member.stopped_at is None else "gone"
                parts.append(f"{count} from {source} ({state})")
            if any(source not in (me, "nobody") for source in sources):
                self.handovers += sum(n for s, n in sources.items() if s not in (me, "nobody"))
            log.info("node %s takes %d sites: %s", me, taken, ", ".join(parts))
        if lost:
            targets = Counter(owners.get(key, "nobody") for key in lost)
            parts = [f"{count} to {target}" for target, count in sorted(targets.items())]
            log.info("node %s hands over %d sites: %s", me, len(lost), ", ".join(parts))
