"""Deadlines under the `standard` plan: hold-over, pauses, upgrades, breaches."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from uptimeguard.config.models import Plan, Severity, Target
from uptimeguard.sla import (
    Breach,
    BusinessCalendar,
    Deadlines,
    SlaEngine,
    breaches,
    compute_deadlines,
    new_breaches,
    upgrade_deadlines,
)

LONDON = ZoneInfo("Europe/London")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def test_query_opened_friday_afternoon(engine: SlaEngine) -> None:
    d = engine.deadlines("standard", "query", london("2026-02-06 17:00"))
    assert d == Deadlines(
        severity="query",
        opened_at=london("2026-02-06 17:00"),
        clock_starts=london("2026-02-06 17:00"),
        response_due=london("2026-02-09 15:00"),
        resolution_due=london("2026-02-20 17:00"),
        held_over=False,
    )
    assert d.clock_starts.tzinfo is UTC and d.response_due is not None
    assert d.response_due.tzinfo is UTC


def test_saturday_bug_fix_is_held_over_to_monday(engine: SlaEngine) -> None:
    opened = london("2026-02-07 10:00")
    assert not engine.covered("standard", "bug_fix", opened)
    d = engine.deadlines("standard", "bug_fix", opened)
    assert d.held_over
    assert d.clock_starts == london("2026-02-09 08:00")
    assert d.response_due == london("2026-02-09 10:00")
    assert d.resolution_due == london("2026-02-09 18:00")  # 1 working day from the opening


def test_saturday_mission_critical_is_covered_on_a_24x7_clock(engine: SlaEngine) -> None:
    opened = london("2026-02-07 10:00")
    assert engine.covered("standard", "mission_critical", opened)
    d = engine.deadlines("standard", "mission_critical", opened)
    assert not d.held_over
    assert (d.clock_starts, d.response_due, d.resolution_due) == (
        opened,
        london("2026-02-07 10:15"),
        london("2026-02-07 14:00"),
    )


def test_held_over_24x7_target_counts_from_the_next_opening(office: BusinessCalendar) -> None:
    urgent = Severity("urgent", Target(30, "m"), Target(2, "h"), clock="24x7")
    d = compute_deadlines(office, urgent, london("2026-02-07 10:00"))
    assert d.held_over
    assert d.response_due == london("2026-02-09 08:30")
    assert d.resolution_due == london("2026-02-09 10:00")


def test_opened_at_closing_time_is_held_over(engine: SlaEngine) -> None:
    d = engine.deadlines("standard", "bug_fix", london("2026-02-10 18:00"))
    assert d.held_over and d.clock_starts == london("2026-02-11 08:00")
    d = engine.deadlines("standard", "bug_fix", london("2026-02-10 08:00"))
    assert not d.held_over
    assert d.resolution_due == london("2026-02-10 18:00")


def test_landing_on_closing_time(engine: SlaEngine) -> None:
    d = engine.deadlines("standard", "bug_fix", london("2026-02-10 16:00"))
    assert d.response_due == london("2026-02-10 18:00")


def test_christmas_bug_fix(engine: SlaEngine) -> None:
    d = engine.deadlines("standard", "bug_fix", london("2026-12-24 17:30"))
    assert d.response_due == london("2026-12-29 09:30")
    assert d.resolution_due == london("2026-12-29 17:30")


def test_same_instant_on_english_and_scottish_plans(engine: SlaEngine) -> None:
    opened = london("2026-11-27 17:00")
    assert engine.deadlines("standard", "bug_fix", opened).response_due == london(
        "2026-11-30 09:00"
    )
    assert engine.deadlines("scottish", "bug_fix", opened).response_due == london(
        "2026-12-01 09:00"
    )


def test_plan_on_the_24x7_calendar_never_holds_over(engine: SlaEngine) -> None:
    d = engine.deadlines("always", "query", london("2026-02-07 10:00"))
    assert not d.held_over
    assert d.response_due == london("2026-02-07 18:00")
    assert d.resolution_due == london("2026-02-17 10:00")  # 10d = 240 hours on 24x7


# -- pauses -----------------------------------------------------------------------------


def test_pause_spanning_a_closed_night(engine: SlaEngine) -> None:
    opened = london("2026-02-10 16:00")
    plain = engine.deadlines("standard", "bug_fix", opened)
    assert plain.response_due == london("2026-02-10 18:00")
    assert plain.resolution_due == london("2026-02-11 16:00")
    pause = (london("2026-02-10 17:30"), london("2026-02-11 08:30"))
    paused = engine.deadlines("standard", "bug_fix", opened, [pause])
    # 1.5h ran before the pause; the clock restarts at 08:30 for the last half hour.
    assert paused.response_due == london("2026-02-11 09:00")
    # The pause stopped one hour of business time (17:30-18:00 and 08:00-08:30).
    assert paused.resolution_due == london("2026-02-11 17:00")


def test_pause_over_closed_time_only_changes_nothing(engine: SlaEngine) -> None:
    opened = london("2026-02-10 16:00")
    pause = (london("2026-02-10 18:30"), london("2026-02-11 07:30"))
    assert engine.deadlines("standard", "bug_fix", opened, [pause]) == engine.deadlines(
        "standard", "bug_fix", opened
    )


def test_pause_on_a_24x7_clock_overnight(engine: SlaEngine) -> None:
    opened = london("2026-02-10 22:00")
    pause = (london("2026-02-10 22:05"), london("2026-02-10 23:05"))
    d = engine.deadlines("standard", "mission_critical", opened, [pause])
    assert d.response_due == london("2026-02-10 23:15")
    assert d.resolution_due == london("2026-02-11 03:00")


def test_open_ended_pause_leaves_later_deadlines_undetermined(engine: SlaEngine) -> None:
    opened = london("2026-02-10 10:00")
    d = engine.deadlines("standard", "bug_fix", opened, [(london("2026-02-10 11:00"), None)])
    assert d.response_due is None and d.resolution_due is None
    d = engine.deadlines("standard", "bug_fix", opened, [(london("2026-02-10 12:30"), None)])
    assert d.response_due == london("2026-02-10 12:00")  # reached before the pause
    assert d.resolution_due is None


def test_pause_before_a_held_over_clock_starts(engine: SlaEngine) -> None:
    pause = (london("2026-02-07 11:00"), london("2026-02-09 08:30"))
    d = engine.deadlines("standard", "bug_fix", london("2026-02-07 10:00"), [pause])
    assert d.response_due == london("2026-02-09 10:30")


def test_overlapping_pauses_merge(engine: SlaEngine) -> None:
    pauses = [
        (london("2026-02-10 11:15"), london("2026-02-10 11:45")),
        (london("2026-02-10 11:00"), london("2026-02-10 11:30")),
    ]
    d = engine.deadlines("standard", "bug_fix", london("2026-02-10 10:00"), pauses)
    assert d.response_due == london("2026-02-10 12:45")


def test_pause_ending_before_it_starts_is_refused(engine: SlaEngine) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        engine.deadlines(
            "standard",
            "bug_fix",
            london("2026-02-10 10:00"),
            [(london("2026-02-10 11:00"), london("2026-02-10 10:30"))],
        )


# -- upgrades ---------------------------------------------------------------------------


def test_upgrade_bug_fix_to_mission_critical(engine: SlaEngine) -> None:
    opened, upgraded = london("2026-02-10 10:00"), london("2026-02-10 11:00")
    current = engine.deadlines("standard", "bug_fix", opened)
    assert (current.response_due, current.resolution_due) == (
        london("2026-02-10 12:00"),
        london("2026-02-11 10:00"),
    )
    d = engine.upgrade("standard", current, "mission_critical", upgraded)
    assert d.severity == "mission_critical"
    assert d.response_due == london("2026-02-10 11:15")
    assert d.resolution_due == london("2026-02-10 15:00")
    assert d.clock_starts == opened and d.opened_at == opened
    assert d == engine.deadlines(
        "standard", "bug_fix", opened, upgrades=[("mission_critical", upgraded)]
    )


def test_upgrade_keeps_an_earlier_current_deadline(engine: SlaEngine) -> None:
    current = engine.deadlines("standard", "major", london("2026-02-10 10:00"))
    d = engine.upgrade("standard", current, "mission_critical", london("2026-02-10 10:50"))
    assert d.response_due == london("2026-02-10 11:00")  # not 11:05
    assert d.resolution_due == london("2026-02-10 14:50")  # not 18:00


def test_upgrade_of_a_held_over_incident_out_of_hours(engine: SlaEngine) -> None:
    current = engine.deadlines("standard", "bug_fix", london("2026-02-07 10:00"))
    d = engine.upgrade("standard", current, "mission_critical", london("2026-02-07 12:00"))
    assert not d.held_over
    assert d.clock_starts == london("2026-02-07 12:00")
    assert d.response_due == london("2026-02-07 12:15")
    assert d.resolution_due == london("2026-02-07 16:00")


def test_upgrade_to_a_severity_not_worked_out_of_hours_counts_from_the_opening(
    engine: SlaEngine,
) -> None:
    current = engine.deadlines("standard", "query", london("2026-02-06 17:30"))
    d = engine.upgrade("standard", current, "major", london("2026-02-07 09:00"))
    assert d.response_due == london("2026-02-09 09:00")
    assert d.resolution_due == london("2026-02-09 16:00")
    assert not d.held_over  # it was already in the queue


def test_upgrade_to_a_lesser_severity_changes_nothing(engine: SlaEngine) -> None:
    current = engine.deadlines("standard", "major", london("2026-02-10 10:00"))
    assert engine.upgrade("standard", current, "query", london("2026-02-10 10:30")) is current


def test_upgrade_function_with_pauses(office: BusinessCalendar, plan: Plan) -> None:
    opened, upgraded = london("2026-02-10 10:00"), london("2026-02-10 11:00")
    pauses = [(london("2026-02-10 11:05"), london("2026-02-10 11:35"))]
    current = compute_deadlines(office, plan.severity("bug_fix"), opened, pauses)
    assert current.response_due == london("2026-02-10 12:30")
    d = upgrade_deadlines(current, office, plan.severity("mission_critical"), upgraded, pauses)
    assert d.response_due == london("2026-02-10 11:45")
    assert d.resolution_due == london("2026-02-10 15:30")


# -- breaches ---------------------------------------------------------------------------


def _major() -> Deadlines:
    due = london("2026-02-10 11:00")
    return Deadlines(
        "major",
        london("2026-02-10 10:00"),
        london("2026-02-10 10:00"),
        due,
        london("2026-02-10 18:00"),
        False,
    )


def test_acknowledged_at_the_deadline_is_not_breached() -> None:
    d = _major()
    assert breaches(d, d.response_due, None, london("2026-02-10 12:00")) == []


def test_late_acknowledgement_is_a_breach_at_the_deadline() -> None:
    d = _major()
    late = london("2026-02-10 11:00:00.000001")
    assert breaches(d, late, None, london("2026-02-10 12:00")) == [
        Breach("response", london("2026-02-10 11:00"))
    ]


def test_breach_happens_only_after_the_deadline_passes() -> None:
    d = _major()
    assert breaches(d, None, None, london("2026-02-10 11:00")) == []
    assert breaches(d, None, None, london("2026-02-10 11:00:01")) == [
        Breach("response", london("2026-02-10 11:00"))
    ]


def test_resolution_before_any_ack_meets_the_response() -> None:
    d = _major()
    assert breaches(d, None, london("2026-02-10 10:30"), london("2026-02-11 12:00")) == []


def test_both_targets_and_recorded_breaches() -> None:
    d = _major()
    now = london("2026-02-11 09:00")
    found = breaches(d, None, None, now)
    assert [b.target for b in found] == ["response", "resolution"]
    assert found[1].at == london("2026-02-10 18:00")
    assert new_breaches(d, None, None, now, recorded={"response"}) == [found[1]]
    assert new_breaches(d, None, None, now, recorded={"response", "resolution"}) == []


def test_undetermined_deadline_is_never_breached(engine: SlaEngine) -> None:
    d = engine.deadlines(
        "standard", "bug_fix", london("2026-02-10 10:00"), [(london("2026-02-10 11:00"), None)]
    )
    assert engine.breaches(d, None, None, london("2026-03-01 00:00")) == []
