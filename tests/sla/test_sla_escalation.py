"""The SLA escalation ladder: 75% response, 100% response, 100% resolution."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from uptimeguard.config.models import Plan, SlaEscalationStep
from uptimeguard.sla import BusinessCalendar, SlaEngine, escalations_due, step_key

LONDON = ZoneInfo("Europe/London")
MANAGER = "75% response -> support_manager"
QUALITY = "100% response -> quality_manager"
DIRECTOR = "100% resolution -> service_director"


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def test_step_keys() -> None:
    assert step_key(SlaEscalationStep(75, "response", "support_manager")) == MANAGER
    assert step_key(SlaEscalationStep(12.5, "resolution", "x")) == "12.5% resolution -> x"


def test_times_in_hours(engine: SlaEngine) -> None:
    times = engine.escalation_times("standard", "major", london("2026-02-10 10:00"))
    assert times == [
        (MANAGER, london("2026-02-10 10:45")),
        (QUALITY, london("2026-02-10 11:00")),
        (DIRECTOR, london("2026-02-10 18:00")),
    ]


def test_times_on_the_business_clock_overnight(engine: SlaEngine) -> None:
    times = dict(engine.escalation_times("standard", "bug_fix", london("2026-02-10 17:00")))
    assert times[MANAGER] == london("2026-02-11 08:30")  # 1.5 business hours
    assert times[QUALITY] == london("2026-02-11 09:00")
    assert times[DIRECTOR] == london("2026-02-11 17:00")  # 1 working day


def test_times_honour_hold_over_pauses_and_upgrades(engine: SlaEngine) -> None:
    held = dict(engine.escalation_times("standard", "bug_fix", london("2026-02-07 10:00")))
    assert held[MANAGER] == london("2026-02-09 09:30")
    pause = (london("2026-02-10 10:30"), london("2026-02-10 11:00"))
    paused = dict(engine.escalation_times("standard", "major", london("2026-02-10 10:00"), [pause]))
    assert paused[MANAGER] == london("2026-02-10 11:15")
    upgraded = dict(
        engine.escalation_times(
            "standard",
            "bug_fix",
            london("2026-02-10 10:00"),
            upgrades=[("mission_critical", london("2026-02-10 11:00"))],
        )
    )
    assert upgraded[MANAGER] == london("2026-02-10 11:11:15")  # 75% of 15m from 11:00
    assert upgraded[QUALITY] == london("2026-02-10 11:15")
    open_ended = dict(
        engine.escalation_times(
            "standard", "major", london("2026-02-10 10:00"), [(london("2026-02-10 10:30"), None)]
        )
    )
    assert open_ended[MANAGER] is None


def test_due_steps_fire_once(engine: SlaEngine) -> None:
    opened = london("2026-02-10 10:00")
    due = engine.escalations_due("standard", "major", opened, london("2026-02-10 10:50"))
    assert [(d.key, d.step.notify, d.at) for d in due] == [
        (MANAGER, "support_manager", london("2026-02-10 10:45"))
    ]
    assert (
        engine.escalations_due(
            "standard", "major", opened, london("2026-02-10 10:50"), fired={MANAGER}
        )
        == []
    )
    later = engine.escalations_due("standard", "major", opened, london("2026-02-10 11:00"))
    assert [d.key for d in later] == [MANAGER, QUALITY]
    assert engine.escalations_due("standard", "major", opened, london("2026-02-10 10:44")) == []


def test_met_targets_stop_their_steps(engine: SlaEngine) -> None:
    opened = london("2026-02-10 10:00")
    acked = london("2026-02-10 10:40")
    assert engine.escalations_due(
        "standard", "major", opened, london("2026-02-10 19:00"), acknowledged_at=acked
    ) == [
        d
        for d in engine.escalations_due("standard", "major", opened, london("2026-02-10 19:00"))
        if d.key == DIRECTOR
    ]
    assert (
        engine.escalations_due(
            "standard",
            "major",
            opened,
            london("2026-02-10 19:00"),
            acknowledged_at=acked,
            resolved_at=london("2026-02-10 17:00"),
        )
        == []
    )


def test_function_form(office: BusinessCalendar, plan: Plan) -> None:
    due = escalations_due(
        office,
        plan.sla_escalation,
        plan.severity("mission_critical"),
        london("2026-02-07 03:00"),
        london("2026-02-07 03:12"),
    )
    assert [(d.key, d.at) for d in due] == [(MANAGER, london("2026-02-07 03:11:15"))]


def test_steps_limited_to_severities(office: BusinessCalendar, plan: Plan) -> None:
    only_major = SlaEscalationStep(50, "response", "support_manager", ("major",))
    assert step_key(only_major) == "50% response -> support_manager [major]"
    opened, now = london("2026-02-10 10:00"), london("2026-02-10 12:00")
    assert escalations_due(office, (only_major,), plan.severity("bug_fix"), opened, now) == []
    due = escalations_due(office, (only_major,), plan.severity("major"), opened, now)
    assert [d.at for d in due] == [london("2026-02-10 10:30")]
    # The incident's severity now is the last upgrade's.
    upgraded = escalations_due(
        office,
        (only_major,),
        plan.severity("bug_fix"),
        opened,
        now,
        upgrades=[(plan.severity("major"), london("2026-02-10 10:10"))],
    )
    assert [d.at for d in upgraded] == [london("2026-02-10 10:40")]
