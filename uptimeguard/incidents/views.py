"""Incidents as JSON-ready dictionaries (the API's and the CLI's shape)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from uptimeguard.storage.models import IncidentEventRow, IncidentPauseRow, IncidentRow


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a `Z`, or None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def iso_ms(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a `Z` and at most 3 fractional digits (none for a whole second), or
    None: what HTML's `datetime` attribute accepts (the W3C checker refuses 6 digits)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond >= 1000 else "seconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")


def incident_dict(incident: IncidentRow) -> dict[str, Any]:
    return {
        "id": incident.id,
        "customer": incident.customer,
        "site": incident.site,
        "severity": incident.severity,
        "cause": incident.cause,
        "status": incident.status,
        "summary": incident.summary,
        "source": incident.source,
        "opened_at": iso(incident.opened_at),
        "acknowledged_at": iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": iso(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "held_over": incident.held_over,
        # Opened during the customer's ad-hoc cover: worked under that period's plan.
        "cover": ({"period": incident.cover, "plan": incident.plan} if incident.cover else None),
        "sla": {
            "plan": incident.plan,
            "clock_starts": iso(incident.clock_starts_at),
            "response_due": iso(incident.response_due),
            "resolution_due": iso(incident.resolution_due),
            "response_breached": incident.response_breached_at is not None,
            "resolution_breached": incident.resolution_breached_at is not None,
            "response_breached_at": iso(incident.response_breached_at),
            "resolution_breached_at": iso(incident.resolution_breached_at),
            # The clock is stopped (waiting on the customer) since then: no deadline runs.
            "paused_since": iso(incident.paused_at),
        },
    }


def pause_dicts(rows: Sequence[IncidentPauseRow], now: datetime) -> list[dict[str, Any]]:
    """Each pause of the SLA clock, oldest first (a running one has `ended_at` null and its
    `seconds` counted up to `now`)."""
    return [
        {
            "started_at": iso(row.started_at),
            "ended_at": iso(row.ended_at),
            "by": row.paused_by,
            "reason": row.reason,
            "resumed_by": row.resumed_by,
            "seconds": round(((row.ended_at or now) - row.started_at).total_seconds()),
        }
        for row in rows
    ]


def event_dict(event: IncidentEventRow) -> dict[str, Any]:
    return {
        "at": iso(event.at),
        "kind": event.kind,
        "by": event.by,
        "message": event.message,
        "data": event.data or {},
    }
