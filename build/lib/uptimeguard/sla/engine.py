"""`SlaEngine`: the one object the incident service (and `uptimeguard sla due`) talks to."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from uptimeguard.config.models import WORK_PERIODS, ChecksConfig, Plan, Severity
from uptimeguard.config.models import Calendar as CalendarConfig
from uptimeguard.sla import deadlines as _deadlines
from uptimeguard.sla import escalation as _escalation
from uptimeguard.sla import plans as _plans
from uptimeguard.sla.calendar import clock_named
from uptimeguard.sla.clock import Clock
from uptimeguard.sla.coverage import coverage_clock, periods_at
from uptimeguard.sla.deadlines import Breach, Deadlines, Pause
from uptimeguard.sla.escalation import EscalationDue


class SlaEngine:
    """SLA arithmetic for every plan in a checks file, by plan id and severity name.

    Pure: no I/O and no clock reads; every instant is an argument and must be timezone-aware;
    every instant returned is UTC. Unknown plan or severity names raise `KeyError`. Build a
    new engine when the checks file is reloaded (calendars are cached by content, so that is
    cheap).
    """

    def __init__(self, plans: Mapping[str, Plan], calendars: Mapping[str, CalendarConfig]) -> None:
        self._plans = dict(plans)
        self._clocks: dict[str, Clock] = {}
        # Per plan, each severity's coverage: the clock open exactly when it is worked.
        self._coverage: dict[str, dict[str, Clock]] = {}
        for plan_id, plan in self._plans.items():
            try:
                calendar = self._clocks[plan_id] = clock_named(plan.calendar, calendars)
                self._coverage[plan_id] = {
                    severity.name: coverage_clock(
                        calendar,
                        severity,
                        clock_named(severity.worked_calendar, calendars)
                        if severity.worked_calendar
                        else None,
                    )
                    for severity in plan.severities
                }
            except (KeyError, ValueError) as exc:
                raise ValueError(f"plan {plan_id!r}: {exc}") from None
            for severity in plan.severities:
                _plans.clock_for(severity, calendar)  # refuse a bad clock now

    @classmethod
    def from_config(cls, config: ChecksConfig) -> SlaEngine:
        """The engine for a loaded checks file."""
        return cls(config.plans, config.calendars)

    def plan(self, plan_id: str) -> Plan:
        try:
            return self._plans[plan_id]
        except KeyError:
            raise KeyError(f"unknown plan {plan_id!r}") from None

    def calendar(self, plan_id: str) -> Clock:
        """The plan's calendar (`ALWAYS_OPEN` for a plan on `24x7`)."""
        self.plan(plan_id)
        return self._clocks[plan_id]

    def severity(self, plan_id: str, name: str) -> Severity:
        try:
            return self.plan(plan_id).severity(name)
        except KeyError:
            raise KeyError(f"plan {plan_id!r} has no severity {name!r}") from None

    def severity_for_cause(self, plan_id: str, cause: str) -> str | None:
        """The severity name a failure with `cause` opens, or None if the plan maps none."""
        found = _plans.severity_for_cause(self.plan(plan_id), cause)
        return None if found is None else found.name

    def is_worse(self, plan_id: str, candidate: str, current: str) -> bool:
        """True when `candidate` is a more urgent severity than `current`."""
        self.severity(plan_id, candidate)
        self.severity(plan_id, current)
        return _plans.is_worse(self.plan(plan_id), candidate, current)

    def coverage(self, plan_id: str, severity: str) -> Clock:
        """The clock open exactly when `severity` is worked (see `uptimeguard.sla.coverage`)."""
        self.severity(plan_id, severity)
        return self._coverage[plan_id][severity]

    def covered(self, plan_id: str, severity: str, at: datetime) -> bool:
        """Whether `severity` is worked at `at`: in office hours, and outside them in the
        periods its `worked` names (always with `out_of_hours: true`)."""
        return self.coverage(plan_id, severity).is_open(at)

    def target_clock(self, plan_id: str, severity: str) -> Clock:
        """The clock `severity`'s targets are measured on."""
        return _plans.clock_for(
            self.severity(plan_id, severity),
            self.calendar(plan_id),
            self.coverage(plan_id, severity),
        )

    def periods_at(self, plan_id: str, at: datetime) -> list[str]:
        """Which periods (`office`, `evenings`, `weekends`, `bank_holidays`) `at` falls in
        on the plan's calendar."""
        found = periods_at(self.calendar(plan_id), at)
        return [p for p in WORK_PERIODS if p in found]

    def next_opening(self, plan_id: str, at: datetime) -> datetime:
        """`at` if the plan's calendar is open then, else its next opening moment."""
        return self.calendar(plan_id).next_open(at)

    def _upgrades(
        self, plan_id: str, upgrades: Sequence[tuple[str, datetime]]
    ) -> list[tuple[Severity, datetime]]:
        return [(self.severity(plan_id, name), at) for name, at in upgrades]

    def deadlines(
        self,
        plan_id: str,
        severity: str,
        opened_at: datetime,
        pauses: Iterable[Pause] = (),
        upgrades: Sequence[tuple[str, datetime]] = (),
    ) -> Deadlines:
        """Clock start, hold-over and due instants of an incident opened at `opened_at`.

        `pauses` are (start, end or None) instants during which the clock stops; `upgrades`
        the (severity, instant) upgrades so far, in order. Recompute with this whenever a pause
        or upgrade is added: the result equals applying `upgrade` step by step.
        """
        return _deadlines.compute_deadlines(
            self.calendar(plan_id),
            self.severity(plan_id, severity),
            opened_at,
            pauses,
            self._upgrades(plan_id, upgrades),
            coverage=self._coverage[plan_id],
        )

    def upgrade(
        self,
        plan_id: str,
        current: Deadlines,
        severity: str,
        at: datetime,
        pauses: Iterable[Pause] = (),
    ) -> Deadlines:
        """Deadlines after upgrading to `severity` at `at`: each the earlier of its current
        value and the new severity's measured from `at`. A severity that is not worse than
        `current.severity` changes nothing (`current` is returned)."""
        if not self.is_worse(plan_id, severity, current.severity):
            return current
        return _deadlines.upgrade_deadlines(
            current,
            self.calendar(plan_id),
            self.severity(plan_id, severity),
            at,
            pauses,
            self._coverage[plan_id],
        )

    def breaches(
        self,
        deadlines: Deadlines,
        acknowledged_at: datetime | None,
        resolved_at: datetime | None,
        now: datetime,
        recorded: Collection[str] = (),
    ) -> list[Breach]:
        """The NEW breaches as of `now`: targets missed and not already in `recorded`."""
        return _deadlines.new_breaches(deadlines, acknowledged_at, resolved_at, now, recorded)

    def escalation_times(
        self,
        plan_id: str,
        severity: str,
        opened_at: datetime,
        pauses: Iterable[Pause] = (),
        upgrades: Sequence[tuple[str, datetime]] = (),
    ) -> list[tuple[str, datetime | None]]:
        """(step key, instant it fires) for each of the plan's `sla_escalation` steps."""
        plan = self.plan(plan_id)
        times = _escalation.escalation_times(
            self.calendar(plan_id),
            plan.sla_escalation,
            self.severity(plan_id, severity),
            opened_at,
            pauses,
            self._upgrades(plan_id, upgrades),
            self._coverage[plan_id],
        )
        return [(_escalation.step_key(step), at) for step, at in times]

    def escalations_due(
        self,
        plan_id: str,
        severity: str,
        opened_at: datetime,
        now: datetime,
        fired: Collection[str] = (),
        pauses: Iterable[Pause] = (),
        upgrades: Sequence[tuple[str, datetime]] = (),
        acknowledged_at: datetime | None = None,
        resolved_at: datetime | None = None,
    ) -> list[EscalationDue]:
        """The plan's `sla_escalation` steps due at `now` whose key is not in `fired`, earliest
        first; steps for a target already met (acknowledged/resolved) are never due."""
        return _escalation.escalations_due(
            self.calendar(plan_id),
            self.plan(plan_id).sla_escalation,
            self.severity(plan_id, severity),
            opened_at,
            now,
            fired,
            pauses,
            self._upgrades(plan_id, upgrades),
            acknowledged_at,
            resolved_at,
            self._coverage[plan_id],
        )
