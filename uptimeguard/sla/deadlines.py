"""Deadlines for an incident: hold-over, pauses, upgrades, and breaches.

Deadlines are a pure function of the plan's calendar, the severity (and any upgrades), the
instant the incident opened and its pauses, so the incident service can recompute them whenever
one of those changes (a pause ends, a cause worsens) instead of patching stored values.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction
from typing import Literal

from uptimeguard.config.models import Severity, Target
from uptimeguard.sla._instants import from_us, to_us
from uptimeguard.sla.clock import Clock
from uptimeguard.sla.coverage import coverage_clock
from uptimeguard.sla.plans import clock_for, target_due_us

RESPONSE: Literal["response"] = "response"
RESOLUTION: Literal["resolution"] = "resolution"
TargetName = Literal["response", "resolution"]

# A stretch during which the SLA clock stops; an end of None means "still paused".
Pause = tuple[datetime, datetime | None]
# Each severity's coverage clock by name (`coverage_clock`), where the caller has built them.
Coverage = Mapping[str, Clock]
_PauseUs = tuple[int, int | None]
_WHOLE = Fraction(1)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When an incident's targets fall due.

    `clock_starts` is `opened_at`, or for a held-over incident (its severity not covered when it
    opened) the calendar's next opening, from which both targets count, even a 24x7 one. A due
    of None is undetermined: the clock is stopped by an open-ended pause before the target is
    reached.
    """

    severity: str
    opened_at: datetime
    clock_starts: datetime
    response_due: datetime | None
    resolution_due: datetime | None
    held_over: bool

    def due(self, target: TargetName) -> datetime | None:
        """The due instant of `response` or `resolution`."""
        return self.response_due if target == RESPONSE else self.resolution_due


@dataclass(frozen=True, slots=True)
class Breach:
    """A missed target; `at` is the moment of the breach, the deadline itself."""

    target: TargetName
    at: datetime


def _pauses_us(pauses: Iterable[Pause]) -> list[_PauseUs]:
    """Pauses as sorted, merged microsecond intervals; an open-ended one swallows the rest."""
    spans: list[_PauseUs] = []
    for start, end in pauses:
        s = to_us(start)
        e = None if end is None else to_us(end)
        if e is not None and e < s:
            raise ValueError(f"pause ends ({end}) before it starts")
        if e != s:
            spans.append((s, e))
    spans.sort(key=lambda span: span[0])
    merged: list[_PauseUs] = []
    for s, e in spans:
        if merged and (merged[-1][1] is None or s <= merged[-1][1]):
            last_end = merged[-1][1]
            merged_end = None if e is None or last_end is None else max(e, last_end)
            merged[-1] = (merged[-1][0], merged_end)
        else:
            merged.append((s, e))
    return merged


def run_clock_us(clock: Clock, start: int, amount: int, pauses: Sequence[_PauseUs]) -> int | None:
    """The earliest instant at which `amount` of `clock` time has run since `start`, the clock
    being stopped during `pauses` (sorted, merged; any before `start` are ignored); None if an
    open-ended pause stops it first."""
    current, remaining = start, amount
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= current:
            continue
        if pause_start > current:
            reached = clock.add_us(current, remaining)
            if reached <= pause_start:
                return reached
            remaining -= clock.elapsed_us(current, pause_start)
        if pause_end is None:
            return None
        current = pause_end
    return clock.add_us(current, remaining)


def _due_us(
    clock: Clock, start: int, target: Target, pauses: Sequence[_PauseUs], share: Fraction
) -> int | None:
    unpaused = target_due_us(clock, start, target)
    if share == 1 and not pauses:
        return unpaused
    # Every target, working days included, becomes an amount of clock time from the start;
    # a pause then pushes the deadline on by the clock time it stopped.
    amount = clock.elapsed_us(start, unpaused)
    scaled = -(-amount * share.numerator // share.denominator)  # reach at least the share
    return run_clock_us(clock, start, scaled, pauses)


def _coverage(calendar: Clock, severity: Severity, coverage: Coverage | None) -> Clock:
    known = None if coverage is None else coverage.get(severity.name)
    return known if known is not None else coverage_clock(calendar, severity)


def _single(
    calendar: Clock,
    severity: Severity,
    opened_at: datetime,
    pauses: Sequence[_PauseUs],
    share: Fraction,
    coverage: Coverage | None = None,
) -> Deadlines:
    opened = to_us(opened_at)
    worked = _coverage(calendar, severity, coverage)
    held = not worked.is_open_us(opened)
    # Held over: both clocks start when the severity is next worked (the next opening, for
    # one worked in office hours only).
    start = worked.next_open_us(opened) if held else opened
    clock = clock_for(severity, calendar, worked)
    response = _due_us(clock, start, severity.response, pauses, share)
    resolution = _due_us(clock, start, severity.resolution, pauses, share)
    return Deadlines(
        severity=severity.name,
        opened_at=opened_at,
        clock_starts=from_us(start),
        response_due=None if response is None else from_us(response),
        resolution_due=None if resolution is None else from_us(resolution),
        held_over=held,
    )


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    # None (stopped by an open-ended pause) is later than any instant.
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _merge(current: Deadlines, new: Deadlines) -> Deadlines:
    return replace(
        current,
        severity=new.severity,
        clock_starts=min(current.clock_starts, new.clock_starts),
        response_due=_earlier(current.response_due, new.response_due),
        resolution_due=_earlier(current.resolution_due, new.resolution_due),
        # Once an incident is in the queue it stays there; an upgrade to a severity worked out
        # of hours brings a held-over incident forward.
        held_over=current.held_over and new.held_over,
    )


def compute_deadlines(
    calendar: Clock,
    severity: Severity,
    opened_at: datetime,
    pauses: Iterable[Pause] = (),
    upgrades: Sequence[tuple[Severity, datetime]] = (),
    share: Fraction | int | float = 1,
    coverage: Coverage | None = None,
) -> Deadlines:
    """An incident's deadlines under a plan whose calendar is `calendar`.

    `pauses` stop the clock (those before the clock starts are ignored). `upgrades` lists each
    later (severity, instant) in order; each is applied as `upgrade_deadlines` does. `share`
    scales every target (0.75 gives the instants at which 75% of each target has run; SLA
    escalation steps use it). `coverage` gives severities' coverage clocks by name; one it
    does not name is built from the severity (which needs none unless it has a calendar of
    its own).
    """
    spans = _pauses_us(pauses)
    fraction = _WHOLE if share == 1 else Fraction(share)
    result = _single(calendar, severity, opened_at, spans, fraction, coverage)
    for new_severity, upgraded_at in upgrades:
        later = _single(calendar, new_severity, upgraded_at, spans, fraction, coverage)
        result = _merge(result, later)
    return result


def upgrade_deadlines(
    current: Deadlines,
    calendar: Clock,
    severity: Severity,
    upgraded_at: datetime,
    pauses: Iterable[Pause] = (),
    coverage: Coverage | None = None,
) -> Deadlines:
    """Deadlines after the incident's severity becomes `severity` at `upgraded_at`.

    The rule: each deadline becomes the earlier of its current value and the new severity's,
    measured from the upgrade (with the new severity's clock and coverage at that moment: a
    severity not worked out of hours counts from the next opening).
    """
    spans = _pauses_us(pauses)
    return _merge(current, _single(calendar, severity, upgraded_at, spans, _WHOLE, coverage))


def breaches(
    deadlines: Deadlines,
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
) -> list[Breach]:
    """The targets missed as of `now`, each with its deadline as the breach moment.

    A target is breached once `now` is past its deadline and it was not met at or before the
    deadline. Response is met by acknowledgement, or by resolution if that came first (an
    incident the monitor resolves before anyone acknowledges it needed no response);
    resolution by resolution. An undetermined deadline (None) is never breached.
    """
    response_met = _earlier(acknowledged_at, resolved_at)
    found: list[Breach] = []
    for target, met in ((RESPONSE, response_met), (RESOLUTION, resolved_at)):
        due = deadlines.due(target)
        if due is None or now <= due or (met is not None and met <= due):
            continue
        found.append(Breach(target, due))
    return found


def new_breaches(
    deadlines: Deadlines,
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
    recorded: Collection[str] = (),
) -> list[Breach]:
    """The breaches as of `now` whose target is not in `recorded` (the targets the caller has
    already stored). A breach is recorded once and never un-recorded: the caller adds each
    returned `Breach.target` to its set and keeps it even if deadlines later move."""
    return [
        b
        for b in breaches(deadlines, acknowledged_at, resolved_at, now)
        if b.target not in recorded
    ]
