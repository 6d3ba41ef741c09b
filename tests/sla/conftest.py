"""Calendars and the `standard` plan of the example checks file, built directly (no YAML)."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from uptimeguard.config.models import (
    CALENDAR_24X7,
    Calendar,
    Plan,
    Severity,
    SlaEscalationStep,
    Target,
)
from uptimeguard.sla import BusinessCalendar, SlaEngine, calendar_from_config

OFFICE = ((time(8), time(18)),)


def uk_calendar(
    id: str = "uk-office", region: str = "england-and-wales", days: int = 5, **kw: object
) -> Calendar:
    """Mon-Fri (or `days` days from Monday) 08:00-18:00 Europe/London with `region` holidays."""
    return Calendar(
        id=id,
        timezone="Europe/London",
        hours=dict.fromkeys(range(days), OFFICE),
        holidays=region,
        **kw,  # type: ignore[arg-type]
    )


def standard_plan(calendar: str = "uk-office") -> Plan:
    return Plan(
        id="standard",
        calendar=calendar,
        severities=(
            Severity(
                "mission_critical", Target(15, "m"), Target(4, "h"), "24x7", out_of_hours=True
            ),
            Severity("major", Target(1, "h"), Target(8, "h")),
            Severity("bug_fix", Target(2, "h"), Target(1, "d")),
            Severity("query", Target(8, "h"), Target(10, "d")),
        ),
        causes={
            "down": "mission_critical",
            "http_5xx": "bug_fix",
            "http_4xx": "bug_fix",
            "content": "bug_fix",
        },
        sla_escalation=(
            SlaEscalationStep(75, "response", "support_manager"),
            SlaEscalationStep(100, "response", "quality_manager"),
            SlaEscalationStep(100, "resolution", "service_director"),
        ),
    )


@pytest.fixture
def engine() -> SlaEngine:
    calendars = {
        "uk-office": uk_calendar(),
        "uk-7day": uk_calendar("uk-7day", days=7),
        "scot-office": uk_calendar("scot-office", "scotland"),
    }
    plans = {
        "standard": standard_plan(),
        "seven": replace(standard_plan("uk-7day"), id="seven"),
        "scottish": replace(standard_plan("scot-office"), id="scottish"),
        "always": replace(standard_plan(CALENDAR_24X7), id="always"),
    }
    return SlaEngine(plans, calendars)


@pytest.fixture
def office() -> BusinessCalendar:
    """uk-office: Mon-Fri 08:00-18:00 Europe/London, England and Wales bank holidays."""
    return calendar_from_config(uk_calendar())


@pytest.fixture
def plan() -> Plan:
    return standard_plan()
