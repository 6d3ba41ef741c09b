"""When a node that takes a site over probes it first. Pure: instants are Unix seconds.

Every site has a stable phase within its interval (`monitor.scheduler.phase_of`), the same on
every node, so its regular probes fall on the same wall-clock slots whoever makes them: a
hand-over keeps the site's rhythm. Three cases:

- **The previous owner is alive** (this node joined, or came back): it stops when it sees this
  node, within a heartbeat period. The new owner starts at the next slot, but no sooner than
  `not_before` (that heartbeat period from now); if that pushes past a slot it probes at
  `not_before`, so no slot is skipped and the gap stays under interval + period.
- **The previous owner died or stopped**: its sites may have missed slots from
  `missed_since` (its last heartbeat, or when it stopped starting probes). A site whose latest
  slot fell after that is probed now; the others keep their next slot. So no site goes
  unprobed for longer than its interval plus the node timeout.
- **A site that was failing** (being rechecked) is probed as soon as that is safe: now, or
  after the live previous owner's recheck in flight can have ended.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Handover:
    """How a site came to this node. Both None: a plain start (the next slot)."""

    not_before: float | None = None  # a live previous owner stops by then
    missed_since: float | None = None  # a dead one may have missed slots after this

    @property
    def from_live_owner(self) -> bool:
        return self.not_before is not None


def next_slot(phase: float, interval: float, at: float) -> float:
    """The first slot (an instant congruent to `phase` modulo `interval`) at or after `at`."""
    return at + (phase - at) % interval


def last_slot(phase: float, interval: float, at: float) -> float:
    """The latest slot at or before `at`."""
    return at - (at - phase) % interval


def first_probe(
    handover: Handover,
    phase: float,
    interval: float,
    now: float,
    failing: bool = False,
    timeout: float = 0.0,
) -> float:
    """The instant this node should first probe the site."""
    if handover.from_live_owner:
        assert handover.not_before is not None
        if failing:
            return max(now, handover.not_before + timeout)
        return max(next_slot(phase, interval, now), handover.not_before)
    if handover.missed_since is not None:
        if failing or last_slot(phase, interval, now) > handover.missed_since:
            return now
    elif failing:
        return now
    return next_slot(phase, interval, now)
