"""Who is alive, judged on the database's clock. Pure: every function takes `now`.

A node is alive from its registration until it stops cleanly (`stopped_at`) or until
`timeout_seconds` after its last heartbeat, whichever comes first. All nodes read the same
rows and the same database clock, so they agree on who is alive (to within one read) and so
on who owns which site.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Member:
    """One node as its row says."""

    name: str
    location: str
    started_at: datetime
    heartbeat_at: datetime
    timeout: timedelta
    stopped_at: datetime | None = None
    released_at: datetime | None = None
    leader: bool = False
    leader_since: datetime | None = None
    sites_owned: int = 0
    window_sites: int = 0
    window_failing: int = 0
    host: str = ""
    pid: int = 0
    version: str = ""

    def dies_at(self) -> datetime:
        """When it counts as dead if no heartbeat comes: its stop, or heartbeat + timeout."""
        expiry = self.heartbeat_at + self.timeout
        return min(expiry, self.stopped_at) if self.stopped_at is not None else expiry

    def alive(self, now: datetime) -> bool:
        return now < self.dies_at()

    def unprobed_since(self) -> datetime:
        """From when its sites may have gone unprobed: when it stopped starting probes (a
        clean stop), else its last heartbeat (it may have died just after)."""
        return self.released_at or self.heartbeat_at


def live(members: Iterable[Member], now: datetime) -> list[Member]:
    return [m for m in members if m.alive(now)]


def live_names(members: Iterable[Member], location: str, now: datetime) -> frozenset[str]:
    """The live nodes of one location: those that share its sites."""
    return frozenset(m.name for m in members if m.location == location and m.alive(now))


def live_locations(members: Iterable[Member], now: datetime) -> frozenset[str]:
    return frozenset(m.location for m in members if m.alive(now))


def next_death(members: Iterable[Member], now: datetime) -> datetime | None:
    """The next instant a live node would count as dead without another heartbeat: when to
    look again, so a death is seen the moment it happens rather than at the next poll."""
    moments = [m.dies_at() for m in members if m.alive(now)]
    return min(moments, default=None)


def leader_of(members: Sequence[Member], now: datetime) -> Member | None:
    """The live node whose row says it leads (the advisory lock decides; the row reports)."""
    leaders = [m for m in members if m.leader and m.alive(now)]
    return max(leaders, key=lambda m: m.leader_since or m.started_at, default=None)
