"""The SLA escalation ladder: who hears about an incident heading for a breach, and when.

A step `{at: 75% response, notify: support_manager}` fires at the moment the elapsed time on the
response target's clock reaches 75% of the target: the same clock, hold-over, pauses and
upgrades as the deadline itself, so a 100% step fires exactly at the deadline. `percent` is a
percentage (75 means 75%).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from uptimeguard.config.models import Severity, SlaEscalationStep
from uptimeguard.sla.clock import Clock
from uptimeguard.sla.deadlines import RESPONSE, Coverage, Deadlines, Pause, compute_deadlines


def step_key(step: SlaEscalationStep) -> str:
    """A stable name for a step, for the caller's record of steps already fired
    (e.g. `75% response -> support_manager`; a step limited to some severities adds them:
    `75% response -> support_manager [major, bug_fix]`)."""
    key = f"{step.percent:g}% {step.target} -> {step.notify}"
    return f"{key} [{', '.join(step.severities)}]" if step.severities else key


@dataclass(frozen=True, slots=True)
class EscalationDue:
    """A step whose moment has come: notify `step.notify`; `at` is when it fell due."""

    step: SlaEscalationStep
    key: str
    at: datetime


def _share(percent: float) -> Fraction:
    return Fraction(str(percent)) / 100


def escalation_times(
    calendar: Clock,
    steps: Sequence[SlaEscalationStep],
    severity: Severity,
    opened_at: datetime,
    pauses: Iterable[Pause] = (),
    upgrades: Sequence[tuple[Severity, datetime]] = (),
    coverage: Coverage | None = None,
) -> list[tuple[SlaEscalationStep, datetime | None]]:
    """When each step fires (None while an open-ended pause holds it back), in step order."""
    pauses = list(pauses)
    by_share: dict[Fraction, Deadlines] = {}
    times: list[tuple[SlaEscalationStep, datetime | None]] = []
    for step in steps:
        share = _share(step.percent)
        if share not in by_share:
            by_share[share] = compute_deadlines(
                calendar, severity, opened_at, pauses, upgrades, share, coverage
            )
        times.append((step, by_share[share].due(step.target)))
    return times


def escalations_due(
    calendar: Clock,
    steps: Sequence[SlaEscalationStep],
    severity: Severity,
    opened_at: datetime,
    now: datetime,
    fired: Collection[str] = (),
    pauses: Iterable[Pause] = (),
    upgrades: Sequence[tuple[Severity, datetime]] = (),
    acknowledged_at: datetime | None = None,
    resolved_at: datetime | None = None,
    coverage: Coverage | None = None,
) -> list[EscalationDue]:
    """The steps due at `now` that have not fired yet (their `step_key` not in `fired`),
    earliest first.

    A step limited to some severities is due only while the incident's severity (the last
    upgrade's, else `severity`) is one of them. A step stops being due once its target is met
    by `now`: a response step once the incident is acknowledged (or resolved), a resolution
    step once it is resolved.
    """
    current = upgrades[-1][0].name if upgrades else severity.name
    response_met = min((t for t in (acknowledged_at, resolved_at) if t is not None), default=None)
    due: list[EscalationDue] = []
    times = escalation_times(calendar, steps, severity, opened_at, pauses, upgrades, coverage)
    for step, at in times:
        key = step_key(step)
        met = response_met if step.target == RESPONSE else resolved_at
        if at is None or at > now or key in fired or (met is not None and met <= now):
            continue
        if not step.applies_to(current):
            continue
        due.append(EscalationDue(step, key, at))
    due.sort(key=lambda d: d.at)
    return due
