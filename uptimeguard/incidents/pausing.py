"""Pausing an incident's SLA clock while it waits on the customer (JSM's "pause conditions",
Zendesk's "pending").

A pause is a row of `incident_pauses` (who, why, from, to) and, while it runs,
`incidents.paused_at`. The deadlines are the SLA engine's, recomputed with every pause so far
(`SlaEngine.deadlines(..., pauses=...)`): while a pause runs a target not yet reached has no
deadline (None: nothing can breach, no timer is set), and when it ends each deadline has moved
on by the time the pause stopped on that target's clock (business time on a business clock,
so a pause overnight moves nothing). A pause never makes a deadline earlier than it stood
when the pause began (`not_earlier`), even if the checks file changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from uptimeguard.sla.deadlines import Pause
from uptimeguard.storage.models import IncidentPauseRow


def as_pauses(rows: Sequence[IncidentPauseRow], until: datetime | None = None) -> list[Pause]:
    """The engine's (start, end) pauses; a running one ends at `until` (None: still running)."""
    return [(row.started_at, row.ended_at or until) for row in rows]


def not_earlier(before: datetime | None, computed: datetime | None) -> datetime | None:
    """The deadline after a pause: the engine's, but never earlier than `before` (None is a
    stopped clock, later than any instant)."""
    if computed is None or before is None:
        return computed
    return max(before, computed)


def paused_seconds(rows: Sequence[IncidentPauseRow], now: datetime) -> float:
    """Real time paused so far, a running pause counted up to `now`."""
    return sum(((row.ended_at or now) - row.started_at).total_seconds() for row in rows)


def spoken(seconds: float) -> str:
    """`3 h 12 min`, `45 s`: a pause's length on a timeline line."""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes else "",
        f"{secs} s" if secs and not days else "",
    ]
    return " ".join(p for p in parts if p) or "0 s"


def start_row(
    incident_id: int,
    now: datetime,
    by: str,
    reason: str,
    before: tuple[datetime | None, datetime | None],
) -> IncidentPauseRow:
    return IncidentPauseRow(
        incident_id=incident_id,
        started_at=now,
        paused_by=by,
        reason=reason,
        response_due_before=before[0],
        resolution_due_before=before[1],
    )


async def end_running(session: AsyncSession, incident_id: int, now: datetime, by: str) -> None:
    """End the incident's running pause at `now` (in the caller's transaction)."""
    await session.execute(
        update(IncidentPauseRow)
        .where(IncidentPauseRow.incident_id == incident_id, IncidentPauseRow.ended_at.is_(None))
        .values(ended_at=now, resumed_by=by)
    )
