"""The five agreements as the bundled checks.yaml encodes them: deadlines computed by hand.

Every instant is London time in November and December 2026 (GMT, so London = UTC). Bank
holidays of England and Wales that matter here: Friday 25 December, Saturday 26 December and
Monday 28 December (Boxing Day observed), Friday 1 January; uk-office is also closed on
Thursday 24 December.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from uptimeguard.cli import main
from uptimeguard.config import load_config
from uptimeguard.sla import SlaEngine

BUNDLED = Path(__file__).resolve().parents[2] / "checks.yaml"
LONDON = ZoneInfo("Europe/London")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture(scope="module")
def engine() -> SlaEngine:
    return SlaEngine.from_config(load_config(BUNDLED, env={}))


def due(engine: SlaEngine, plan: str, severity: str, opened: str) -> tuple[object, ...]:
    d = engine.deadlines(plan, severity, at(opened))
    return d.held_over, d.clock_starts, d.response_due, d.resolution_due


def test_the_bundled_file_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(BUNDLED)]) == 0
    assert ": ok: 7 customers" in capsys.readouterr().out


# -- Azzure IT: Support Service Standards ------------------------------------------------------


def test_azzure_system_down_on_a_saturday_night(engine: SlaEngine) -> None:
    # 15 minutes and 4 hours, round the clock.
    assert due(engine, "standard", "mission_critical", "2026-11-28 03:00") == (
        False, at("2026-11-28 03:00"), at("2026-11-28 03:15"), at("2026-11-28 07:00"),
    )  # fmt: skip


def test_azzure_existing_functionality_failing_late_on_friday(engine: SlaEngine) -> None:
    # 2 business hours: 17:00-18:00 Friday, 08:00-09:00 Monday; 1 working day: Monday 17:00.
    assert due(engine, "standard", "bug_fix", "2026-11-27 17:00") == (
        False, at("2026-11-27 17:00"), at("2026-11-30 09:00"), at("2026-11-30 17:00"),
    )  # fmt: skip


def test_azzure_query_across_christmas(engine: SlaEngine) -> None:
    # 8 business hours from Tuesday 10:00: Tuesday 18:00. 10 working days, skipping the 24th
    # (closed), the 25th, 28th and 1st (bank holidays) and the weekends: 23, 29, 30, 31 Dec,
    # 4, 5, 6, 7, 8, 11 Jan.
    assert due(engine, "standard", "query", "2026-12-22 10:00") == (
        False, at("2026-12-22 10:00"), at("2026-12-22 18:00"), at("2027-01-11 10:00"),
    )  # fmt: skip


def test_azzure_bug_on_boxing_day_observed_waits_for_tuesday(engine: SlaEngine) -> None:
    assert due(engine, "standard", "bug_fix", "2026-12-28 10:00") == (
        True, at("2026-12-29 08:00"), at("2026-12-29 10:00"), at("2026-12-29 18:00"),
    )  # fmt: skip


def test_azzure_enhanced_cover_works_the_weekend(engine: SlaEngine) -> None:
    # Enhanced hours are 07:00-22:00 every day: a Saturday bug is worked at once.
    assert due(engine, "enhanced", "bug_fix", "2026-12-26 10:00") == (
        False, at("2026-12-26 10:00"), at("2026-12-26 12:00"), at("2026-12-27 10:00"),
    )  # fmt: skip


# -- XStore: Gold and Silver -------------------------------------------------------------------


def test_xstore_gold_priority_on_a_sunday(engine: SlaEngine) -> None:
    assert due(engine, "gold", "priority", "2026-11-29 10:00") == (
        False, at("2026-11-29 10:00"), at("2026-11-29 14:00"), at("2026-11-29 18:00"),
    )  # fmt: skip


def test_xstore_gold_non_priority_waits_for_office_hours(engine: SlaEngine) -> None:
    # Held to Monday 08:00; 8 business hours: Monday 16:00; 3 working days from an opening:
    # Thursday's opening, which is Wednesday's close.
    assert due(engine, "gold", "standard", "2026-11-29 10:00") == (
        True, at("2026-11-30 08:00"), at("2026-11-30 16:00"), at("2026-12-02 18:00"),
    )  # fmt: skip


def test_xstore_silver_priority_on_friday_afternoon(engine: SlaEngine) -> None:
    # 8 business hours: 2 on Friday, 6 on Monday; 2 working days: Tuesday 16:00.
    assert due(engine, "silver", "priority", "2026-11-27 16:00") == (
        False, at("2026-11-27 16:00"), at("2026-11-30 14:00"), at("2026-12-01 16:00"),
    )  # fmt: skip


# -- Active SoftSwitch: Lite and Technical Support --------------------------------------------


def test_softswitch_lite_is_seven_day_daytime(engine: SlaEngine) -> None:
    assert due(engine, "lite", "immediate", "2026-11-28 10:00") == (
        False, at("2026-11-28 10:00"), at("2026-11-28 11:00"), at("2026-11-28 18:00"),
    )  # fmt: skip
    # After 18:00 it waits for Sunday 08:00.
    assert due(engine, "lite", "immediate", "2026-11-28 20:00") == (
        True, at("2026-11-29 08:00"), at("2026-11-29 09:00"), at("2026-11-29 16:00"),
    )  # fmt: skip


def test_softswitch_technical_is_24_7(engine: SlaEngine) -> None:
    assert due(engine, "technical", "immediate", "2026-11-28 03:00") == (
        False, at("2026-11-28 03:00"), at("2026-11-28 04:00"), at("2026-11-28 11:00"),
    )  # fmt: skip
    # Low priority: 48 hours and 5 days of real time.
    assert due(engine, "technical", "low", "2026-11-27 12:00") == (
        False, at("2026-11-27 12:00"), at("2026-11-29 12:00"), at("2026-12-02 12:00"),
    )  # fmt: skip


def test_softswitch_technical_escalates_to_account_manager_then_director(
    engine: SlaEngine,
) -> None:
    times = engine.escalation_times("technical", "priority", at("2026-11-27 12:00"))
    assert times == [
        ("50% response -> frank", at("2026-11-27 16:00")),
        ("100% response -> grace", at("2026-11-27 20:00")),
        ("100% resolution -> grace", at("2026-11-29 12:00")),
    ]


# -- Software Support Agreement: S1-S5 --------------------------------------------------------


def test_s1_is_worked_every_day_and_time(engine: SlaEngine) -> None:
    assert due(engine, "bespoke", "s1", "2026-12-28 04:00") == (
        False, at("2026-12-28 04:00"), at("2026-12-28 04:30"), at("2026-12-28 08:00"),
    )  # fmt: skip


def test_s2_on_a_saturday_is_held_over_to_monday_08_00(engine: SlaEngine) -> None:
    # Not worked at weekends; Monday's small hours are still the weekend. Then 1 and 8 worked
    # hours from Monday's opening.
    assert not engine.covered("bespoke", "s2", at("2026-11-28 11:00"))
    assert due(engine, "bespoke", "s2", "2026-11-28 11:00") == (
        True, at("2026-11-30 08:00"), at("2026-11-30 09:00"), at("2026-11-30 16:00"),
    )  # fmt: skip


def test_s2_on_a_tuesday_at_20_00_is_worked_at_once(engine: SlaEngine) -> None:
    # Weekday evenings are worked and counted: 21:00 and 04:00 on Wednesday.
    assert engine.covered("bespoke", "s2", at("2026-11-24 20:00"))
    assert due(engine, "bespoke", "s2", "2026-11-24 20:00") == (
        False, at("2026-11-24 20:00"), at("2026-11-24 21:00"), at("2026-11-25 04:00"),
    )  # fmt: skip


def test_s2_on_a_bank_holiday_waits_for_the_next_working_day(engine: SlaEngine) -> None:
    # Boxing Day (observed); Tuesday's small hours are the holiday's night.
    assert due(engine, "bespoke", "s2", "2026-12-28 12:00") == (
        True, at("2026-12-29 08:00"), at("2026-12-29 09:00"), at("2026-12-29 16:00"),
    )  # fmt: skip


def test_s3_on_a_tuesday_evening_is_held_over(engine: SlaEngine) -> None:
    # 4 business hours from Wednesday 08:00; 2 working days: Friday's opening = Thursday 18:00.
    assert due(engine, "bespoke", "s3", "2026-11-24 20:00") == (
        True, at("2026-11-25 08:00"), at("2026-11-25 12:00"), at("2026-11-26 18:00"),
    )  # fmt: skip


def test_s5_cosmetic_runs_past_christmas(engine: SlaEngine) -> None:
    # 2 working days: Tuesday 10:00. 20 working days from Friday 27 November: 30 Nov, 1-4,
    # 7-11, 14-18, 21-23 Dec (18), then 29 and 30 Dec.
    assert due(engine, "bespoke", "s5", "2026-11-27 10:00") == (
        False, at("2026-11-27 10:00"), at("2026-12-01 10:00"), at("2026-12-30 10:00"),
    )  # fmt: skip


# -- Support Response Times and Service Levels (three levels) ---------------------------------


def test_three_level_mission_critical_after_five(engine: SlaEngine) -> None:
    assert due(engine, "three-level", "mission_critical", "2026-11-24 19:00") == (
        False, at("2026-11-24 19:00"), at("2026-11-24 19:30"), at("2026-11-24 23:00"),
    )  # fmt: skip


def test_three_level_bug_fix_one_day_then_two(engine: SlaEngine) -> None:
    assert due(engine, "three-level", "bug_fix", "2026-11-24 16:00") == (
        False, at("2026-11-24 16:00"), at("2026-11-25 16:00"), at("2026-11-27 16:00"),
    )  # fmt: skip


def test_three_level_user_support_after_hours(engine: SlaEngine) -> None:
    # Held from Friday 18:00 to Monday 09:00; 3 working days from an opening: Thursday's
    # opening = Wednesday 17:00; 10 working days: Monday 14 December's opening = Friday 17:00.
    assert due(engine, "three-level", "user_support", "2026-11-27 18:00") == (
        True, at("2026-11-30 09:00"), at("2026-12-02 17:00"), at("2026-12-11 17:00"),
    )  # fmt: skip


def test_what_the_phone_line_and_callbacks_open(engine: SlaEngine) -> None:
    plans = {name: engine.plan(name) for name in ("three-level", "bespoke", "standard")}
    assert plans["three-level"].phone_severity == "mission_critical"
    assert plans["three-level"].callback_severity == "user_support"
    assert plans["bespoke"].phone_severity == "s1"
    assert plans["bespoke"].callback_severity == "s5"
    assert plans["standard"].callback_severity == "query"
    assert engine.plan("technical").callback_severity == "low"  # no query: the least urgent


def test_sla_due_prints_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sla", "due", "--config", str(BUNDLED), "--plan", "bespoke", "--severity", "s2"]
    assert main([*args, "--opened", "2026-11-28T11:00:00Z"]) == 0
    saturday = json.loads(capsys.readouterr().out)
    assert saturday["covered"] is False and saturday["held_over"] is True
    assert saturday["worked"] == ["office", "evenings"]
    assert saturday["periods"] == ["weekends"]
    assert saturday["clock_starts"] == "2026-11-30T08:00:00+00:00"
    assert main([*args, "--opened", "2026-11-24T20:00:00Z"]) == 0
    tuesday = json.loads(capsys.readouterr().out)
    assert tuesday["covered"] is True and tuesday["periods"] == ["evenings"]
    assert tuesday["response_due"] == "2026-11-24T21:00:00+00:00"
