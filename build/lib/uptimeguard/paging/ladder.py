"""The escalation ladder as a plan: which rung comes when, who it names, and the hourly cap.

Pure: every function takes the instants it needs. The outbox keeps a cursor (the next rung's
position and due time) so that a restart carries on where the ladder stood.

A ladder of `n` steps with `repeat: r` has `n * (r + 1)` rungs, numbered from 0 across rounds.
After each rung the ladder waits that step's `then_wait`; after the last step of a round
(which usually has no `then_wait`) it waits the longest `then_wait` of the ladder before the
next round starts, so a repeat is never instant. A rung that reaches nobody (its people are
over their hourly cap, nobody is on call, every message failed or went unanswered) does not
wait: the next rung is due at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from uptimeguard.config.models import ROLES, ChecksConfig, EscalationStep, Oncall, Person
from uptimeguard.paging.rota import oncall_at

ONCALL = "oncall"
HOUR = timedelta(hours=1)
# Between rounds when no step says how long: a ladder with no waits at all.
DEFAULT_ROUND_GAP = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Rung:
    position: int  # 0-based, across all rounds
    round: int  # 0-based
    index: int  # the step's index within the round
    step: EscalationStep

    def describe(self, oncall: Oncall) -> str:
        """`step 2 of 4, round 1 of 3`, for people reading the timeline."""
        rounds = oncall.repeat + 1
        return (
            f"step {self.index + 1} of {len(oncall.escalation)}, round {self.round + 1} of {rounds}"
        )


def rung_count(oncall: Oncall) -> int:
    return len(oncall.escalation) * (oncall.repeat + 1)


def rung_at(oncall: Oncall, position: int) -> Rung | None:
    """The rung at `position`, or None past the end of the ladder."""
    steps = oncall.escalation
    if position < 0 or position >= rung_count(oncall):
        return None
    round_, index = divmod(position, len(steps))
    return Rung(position, round_, index, steps[index])


def round_gap(oncall: Oncall) -> timedelta:
    """The wait after the last step of a round before the next round starts."""
    last = oncall.escalation[-1].then_wait
    if last is not None:
        return last
    waits = [s.then_wait for s in oncall.escalation if s.then_wait is not None]
    return max(waits, default=DEFAULT_ROUND_GAP)


def wait_after(oncall: Oncall, rung: Rung) -> timedelta | None:
    """How long after `rung` the next one is due; None when `rung` is the last of all."""
    if rung.position + 1 >= rung_count(oncall):
        return None
    if rung.index == len(oncall.escalation) - 1:
        return round_gap(oncall)
    assert rung.step.then_wait is not None  # the loader requires it on every step but the last
    return rung.step.then_wait


def schedule(oncall: Oncall, started_at: datetime) -> list[tuple[Rung, datetime]]:
    """Every rung and when it falls due if nobody acknowledges and every page is delivered."""
    plan: list[tuple[Rung, datetime]] = []
    at = started_at
    for position in range(rung_count(oncall)):
        rung = rung_at(oncall, position)
        assert rung is not None
        plan.append((rung, at))
        wait = wait_after(oncall, rung)
        if wait is not None:
            at += wait
    return plan


def recipients(notify: str, config: ChecksConfig, at: datetime) -> list[Person]:
    """The people a `notify` names at `at`: the on-call person, everyone with a role, or one
    person. Empty when nobody is on call."""
    if notify == ONCALL:
        if config.oncall is None:
            return []
        person_id = oncall_at(config.oncall, at)
        person = config.people.get(person_id) if person_id is not None else None
        return [person] if person is not None else []
    if notify in ROLES:
        return config.people_with_role(notify)
    person = config.people.get(notify)
    return [person] if person is not None else []


def pages_in_last_hour(sent_at: Iterable[datetime], now: datetime) -> int:
    return sum(1 for at in sent_at if now - HOUR < at <= now)


def over_cap(person: Person, sent_at: Iterable[datetime], now: datetime) -> bool:
    """True when `person` has had `max_pages_per_hour` messages in the hour up to `now`."""
    return pages_in_last_hour(sent_at, now) >= person.max_pages_per_hour
