"""SLA arithmetic: business calendars, deadlines, breaches and the SLA escalation ladder.

Pure: no I/O and no clock reads. `now` is always an argument; instants must be timezone-aware
`datetime`s and everything returned is in UTC (local wall time is used only inside, through
`zoneinfo`).

The facade the incident service calls is `SlaEngine`, built from a checks file's plans and
calendars (`SlaEngine.from_config(config)` or `SlaEngine(config.plans, config.calendars)`):

    engine.deadlines(plan_id, severity, opened_at, pauses=(), upgrades=()) -> Deadlines
        clock_starts, response_due, resolution_due (None while an open-ended pause stops the
        clock first) and held_over (the severity was not covered when the incident opened, so
        both its clocks start at the calendar's next opening, even a 24x7 one).
    engine.covered(plan_id, severity, at) -> bool
        In hours always; out of hours only severities with `out_of_hours: true`.
    engine.next_opening(plan_id, at) -> datetime
    engine.severity_for_cause(plan_id, cause) -> str | None
    engine.is_worse(plan_id, candidate, current) -> bool
    engine.upgrade(plan_id, current, severity, at, pauses=()) -> Deadlines
        Each deadline becomes the earlier of its current value and the new severity's,
        measured from `at`. Equivalent: `deadlines(..., upgrades=[(severity, at), ...])`.
    engine.breaches(deadlines, acknowledged_at, resolved_at, now, recorded=()) -> list[Breach]
        New breaches only (targets not in `recorded`); `Breach.at` is the deadline. A response
        acknowledged (or resolved) at or before its deadline is met.
    engine.escalation_times(plan_id, severity, opened_at, pauses=(), upgrades=())
    engine.escalations_due(plan_id, severity, opened_at, now, fired=(), pauses=(),
                           upgrades=(), acknowledged_at=None, resolved_at=None)
        -> list[EscalationDue]: `sla_escalation` steps whose moment (percent x target on the
        target's clock, honouring hold-over, pauses and upgrades) has come and whose
        `step_key` is not in `fired`.

Pauses are (start, end) instants; an end of None is a pause still running. Targets: on a
business clock `m`/`h` are business minutes/hours and `d` working days (the same local time on
the Nth following working day, or the previous working day's closing moment when that is an
opening moment); on 24x7 every unit is real time and `d` is 24 hours. A deadline is the
EARLIEST instant at which the target is reached, so one landing on a closing time is that
closing time. Across daylight-saving changes business time is real elapsed time between the
wall-clock opening and closing moments (see `uptimeguard.sla.calendar`).

Lower-level pieces: `BusinessCalendar` / `ALWAYS_OPEN` (`Clock`: is_open, next_open, add,
elapsed, add_working_days), `calendar_from_config`, `bank_holidays`, `compute_deadlines`,
`upgrade_deadlines`, `breaches`, `new_breaches`, `escalation_times`, `escalations_due`.
"""

from uptimeguard.sla.calendar import BusinessCalendar, calendar_from_config, clock_named
from uptimeguard.sla.clock import ALWAYS_OPEN, AlwaysOpen, Clock
from uptimeguard.sla.deadlines import (
    RESOLUTION,
    RESPONSE,
    Breach,
    Deadlines,
    Pause,
    breaches,
    compute_deadlines,
    new_breaches,
    upgrade_deadlines,
)
from uptimeguard.sla.engine import SlaEngine
from uptimeguard.sla.escalation import (
    EscalationDue,
    escalation_times,
    escalations_due,
    step_key,
)
from uptimeguard.sla.holidays import REGIONS, bank_holidays
from uptimeguard.sla.plans import (
    clock_for,
    covered,
    is_worse,
    severity_for_cause,
    target_due,
)

__all__ = [
    "ALWAYS_OPEN",
    "REGIONS",
    "RESOLUTION",
    "RESPONSE",
    "AlwaysOpen",
    "Breach",
    "BusinessCalendar",
    "Clock",
    "Deadlines",
    "EscalationDue",
    "Pause",
    "SlaEngine",
    "bank_holidays",
    "breaches",
    "calendar_from_config",
    "clock_for",
    "clock_named",
    "compute_deadlines",
    "covered",
    "escalation_times",
    "escalations_due",
    "is_worse",
    "new_breaches",
    "severity_for_cause",
    "step_key",
    "target_due",
    "upgrade_deadlines",
]
