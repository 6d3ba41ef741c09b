"""The `SlaEngine` facade: look-ups, coverage, validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from uptimeguard.config.models import (
    Calendar,
    ChecksConfig,
    Defaults,
    Plan,
    Severity,
    Target,
)
from uptimeguard.sla import ALWAYS_OPEN, SlaEngine, covered, severity_for_cause

LONDON = ZoneInfo("Europe/London")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def test_severity_for_cause(engine: SlaEngine, plan: Plan) -> None:
    assert engine.severity_for_cause("standard", "down") == "mission_critical"
    assert engine.severity_for_cause("standard", "http_5xx") == "bug_fix"
    assert engine.severity_for_cause("standard", "slow") is None
    assert severity_for_cause(plan, "content") == plan.severity("bug_fix")


def test_is_worse(engine: SlaEngine) -> None:
    assert engine.is_worse("standard", "mission_critical", "bug_fix")
    assert not engine.is_worse("standard", "bug_fix", "bug_fix")
    assert not engine.is_worse("standard", "query", "major")


@pytest.mark.parametrize(
    ("severity", "at", "expected"),
    [
        ("bug_fix", "2026-02-10 12:00", True),
        ("bug_fix", "2026-02-10 18:00", False),  # closing moment: out of hours
        ("bug_fix", "2026-02-07 12:00", False),  # Saturday
        ("bug_fix", "2026-12-28 12:00", False),  # Boxing Day (observed)
        ("mission_critical", "2026-02-07 12:00", True),
        ("mission_critical", "2026-12-25 03:00", True),
    ],
)
def test_covered(engine: SlaEngine, severity: str, at: str, expected: bool) -> None:
    assert engine.covered("standard", severity, london(at)) is expected


def test_covered_function(plan: Plan) -> None:
    assert covered(ALWAYS_OPEN, plan.severity("query"), london("2026-02-07 12:00"))


def test_next_opening(engine: SlaEngine) -> None:
    assert engine.next_opening("standard", london("2026-12-24 18:00")) == london("2026-12-29 08:00")
    assert engine.next_opening("seven", london("2026-12-24 18:00")) == london("2026-12-27 08:00")
    assert engine.next_opening("always", london("2026-12-24 18:00")) == london("2026-12-24 18:00")


def test_unknown_names(engine: SlaEngine) -> None:
    with pytest.raises(KeyError, match="unknown plan"):
        engine.deadlines("gold", "major", london("2026-02-10 10:00"))
    with pytest.raises(KeyError, match="no severity"):
        engine.deadlines("standard", "sev1", london("2026-02-10 10:00"))
    with pytest.raises(KeyError, match="no severity"):
        engine.deadlines(
            "standard",
            "major",
            london("2026-02-10 10:00"),
            upgrades=[("x", london("2026-02-10 11:00"))],
        )


def test_plan_with_unknown_calendar_or_clock_is_refused(plan: Plan) -> None:
    with pytest.raises(ValueError, match="unknown calendar 'nowhere'"):
        SlaEngine({"standard": replace(plan, calendar="nowhere")}, {})
    bad = replace(
        plan,
        calendar="24x7",
        severities=(Severity("odd", Target(1, "h"), Target(2, "h"), clock="lunar"),),
    )
    with pytest.raises(ValueError, match="unknown clock"):
        SlaEngine({"standard": bad}, {})


def test_from_config(plan: Plan) -> None:
    office = Calendar(
        "uk-office",
        "Europe/London",
        dict.fromkeys(range(5), ((time(8), time(18)),)),
        "england-and-wales",
    )
    config = ChecksConfig(
        path="checks.yaml",
        defaults=Defaults(),
        calendars={"uk-office": office},
        plans={"standard": plan},
        people={},
        oncall=None,
        customers=(),
    )
    engine = SlaEngine.from_config(config)
    d = engine.deadlines("standard", "query", london("2026-02-06 17:00"))
    assert d.response_due == london("2026-02-09 15:00")
