"""The acknowledgement timeout (`oncall.ack_timeout`, PagerDuty's `acknowledgement_timeout`).
Pure: every instant is an argument.

An incident acknowledged out of hours (its plan's calendar shut at the moment of the
acknowledgement) that is neither resolved nor acknowledged again within `ack_timeout` goes
back to triggered: its acknowledgement is withdrawn (`IncidentService.expire_acknowledgement`)
and paging climbs the escalation ladder again from its first step. Each acknowledgement
expires at most once: the withdrawal is conditional on that very acknowledgement, and another
acknowledgement (of the triggered incident, or again while the timeout runs) starts a new
timeout. In business hours the desk is there, so an acknowledgement then never expires.
Off when `ack_timeout` is not set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from uptimeguard.sla.clock import Clock


def expires_at(
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    timeout: timedelta | None,
    calendar: Clock,
) -> datetime | None:
    """When this acknowledgement expires; None when it never does (no timeout, not
    acknowledged, resolved, or acknowledged in business hours)."""
    if timeout is None or acknowledged_at is None or resolved_at is not None:
        return None
    if calendar.is_open(acknowledged_at):
        return None
    return acknowledged_at + timeout


def expired(
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    timeout: timedelta | None,
    calendar: Clock,
    now: datetime,
) -> bool:
    """Whether the acknowledgement has run out by `now` (the moment itself included)."""
    due = expires_at(acknowledged_at, resolved_at, timeout, calendar)
    return due is not None and now >= due
