"""`uptimeguard sla due`: the deadlines for an incident opened at an instant, as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from uptimeguard.config.models import ChecksConfig
from uptimeguard.sla.coverage import worked_names
from uptimeguard.sla.engine import SlaEngine


def _instant(text: str, flag: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{flag}: bad instant {text!r}: use ISO 8601 with an offset, "
            "e.g. 2026-12-24T17:30:00+00:00"
        ) from None
    if value.tzinfo is None:
        raise ValueError(f"{flag}: {text!r} has no offset: add one, e.g. +00:00 or Z")
    return value


def _pause(text: str) -> tuple[datetime, datetime]:
    start_text, sep, end_text = text.partition("/")
    if not sep:
        raise ValueError(f"--pause: bad pause {text!r}: use START/END, both ISO 8601")
    start, end = _instant(start_text, "--pause"), _instant(end_text, "--pause")
    if end <= start:
        raise ValueError(f"--pause: {text!r} ends before it starts")
    return start, end


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def sla_due(
    config: ChecksConfig, plan: str, severity: str, opened: str, pauses: Sequence[str]
) -> dict[str, Any]:
    """The JSON object `uptimeguard sla due` prints; ValueError names the flag at fault."""
    if plan not in config.plans:
        raise ValueError(f"--plan: unknown plan {plan!r}; defined: {', '.join(config.plans)}")
    names = [s.name for s in config.plans[plan].severities]
    if severity not in names:
        raise ValueError(
            f"--severity: plan {plan!r} has no severity {severity!r}; defined: {', '.join(names)}"
        )
    opened_at = _instant(opened, "--opened")
    engine = SlaEngine.from_config(config)
    deadlines = engine.deadlines(plan, severity, opened_at, [_pause(p) for p in pauses])
    return {
        "plan": plan,
        "severity": severity,
        "opened": opened_at.isoformat(),
        "covered": engine.covered(plan, severity, opened_at),
        # When the severity is worked, and which of those periods the opening falls in.
        "worked": worked_names(engine.severity(plan, severity)),
        "periods": engine.periods_at(plan, opened_at),
        "held_over": deadlines.held_over,
        "clock_starts": _iso(deadlines.clock_starts),
        "response_due": _iso(deadlines.response_due),
        "resolution_due": _iso(deadlines.resolution_due),
    }
