"""The confirm / recheck / recover rules for one site, as a pure state machine.

A failure is not an outage until `confirm` failures come in a row; a recovery is not a recovery
until `recover` good probes come in a row. In between, the site is probed again after `recheck`
instead of waiting a whole `interval`, so a blip is told from an outage in seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from uptimeguard.config.models import cause_of

SiteStateName = Literal["up", "down", "degraded", "unknown"]


@dataclass(frozen=True, slots=True)
class Rules:
    interval: timedelta
    recheck: timedelta
    confirm: int
    recover: int


@dataclass(slots=True)
class TrackerState:
    """What the monitor remembers of a site between probes (persisted in `site_states`)."""

    state: SiteStateName = "unknown"
    failures: int = 0  # failed probes in a row
    successes: int = 0  # good probes in a row
    # The cause of the latest failure and how many failures in a row had that cause.
    cause: str | None = None
    cause_run: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one probe means.

    `failing` is the cause when the failure is confirmed (the incident service opens or
    upgrades an incident for it); `recovered` is true once `recover` good probes came in a row
    after a confirmed failure. `next_in` is when to probe again.
    """

    next_in: timedelta
    failing: str | None = None
    recovered: bool = False


def judge(state: TrackerState, outcome: str, rules: Rules) -> Verdict:
    """Fold one probe outcome into `state` (mutated) and say what it means."""
    cause = cause_of(outcome)
    if cause is None or cause == "slow":
        return _good(state, rules, degraded=cause == "slow")
    return _failed(state, cause, rules)


def _good(state: TrackerState, rules: Rules, degraded: bool) -> Verdict:
    was_down = state.state == "down"
    state.failures = 0
    state.cause = None
    state.cause_run = 0
    state.successes += 1
    if was_down and state.successes < rules.recover:
        return Verdict(next_in=min(rules.recheck, rules.interval))
    state.state = "degraded" if degraded else "up"
    return Verdict(next_in=rules.interval, recovered=was_down)


def _failed(state: TrackerState, cause: str, rules: Rules) -> Verdict:
    state.successes = 0
    state.failures += 1
    state.cause_run = state.cause_run + 1 if cause == state.cause else 1
    state.cause = cause
    if state.failures < rules.confirm:
        if state.state != "down":
            state.state = "degraded"
        return Verdict(next_in=min(rules.recheck, rules.interval))
    state.state = "down"
    # A new cause while already down must itself be seen `confirm` times before it counts.
    confirmed = state.cause_run >= rules.confirm or state.failures == rules.confirm
    return Verdict(next_in=rules.interval, failing=cause if confirmed else None)
