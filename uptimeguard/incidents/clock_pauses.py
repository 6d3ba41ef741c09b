"""Pausing and resuming an incident's SLA clock: the writes (`uptimeguard.incidents.pausing`
says what a pause means and holds the pure parts). `IncidentService.pause` and `.resume` call
`ClockPauses`; the service stays the only writer of incidents."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from uptimeguard.incidents import pausing
from uptimeguard.incidents.changes import IncidentChange
from uptimeguard.incidents.errors import Conflict
from uptimeguard.sla.deadlines import Pause
from uptimeguard.storage.models import IncidentPauseRow, IncidentRow
from uptimeguard.storage.repository import NewEvent

if TYPE_CHECKING:
    from uptimeguard.incidents.service import IncidentService

log = logging.getLogger("uptimeguard.incidents.service")


class ClockPauses:
    def __init__(self, service: IncidentService) -> None:
        self._service = service

    async def pause(self, incident_id: int, by: str, reason: str, now: datetime) -> IncidentRow:
        """Stop the incident's SLA clock at `now` (waiting on the customer, say): every target
        not yet reached has no deadline until `resume`. Conflict when it is resolved or paused.
        """
        incident = await self._service._get(incident_id)
        self._pausable(incident)
        # A deadline that passed before the pause is a breach, paused or not.
        await self._service._record_breaches(incident, now)
        rows = await self._service._store.pauses(incident_id)
        before = (incident.response_due, incident.resolution_due)
        response, resolution = self._moved(
            incident, [*pausing.as_pauses(rows), (now, None)], await self.sla_history(incident)
        )
        row = pausing.start_row(incident_id, now, by, reason, before)

        async def add_pause(session: Any) -> None:
            session.add(row)

        event = NewEvent(
            "paused",
            now,
            f"SLA clock paused by {by}: {reason}",
            by,
            {"reason": reason, "response_due_before": _iso(before[0]),
             "resolution_due_before": _iso(before[1])},
        )  # fmt: skip
        updated = await self._service._store.update_incident(
            incident_id,
            {
                "paused_at": now,
                "response_due": pausing.not_earlier(before[0], response),
                "resolution_due": pausing.not_earlier(before[1], resolution),
            },
            [event],
            only_if={"resolved_at": None, "paused_at": None},
            also=add_pause,
        )
        if updated is None:  # resolved or paused by somebody else meanwhile
            self._pausable(await self._service._get(incident_id))
            raise Conflict(f"incident {incident_id} changed meanwhile; try again")
        log.info("incident %s paused by %s: %s", incident_id, by, reason)
        await self._service._announce(IncidentChange("paused", updated, now, {"reason": reason}))
        return updated

    async def resume(self, incident_id: int, by: str, now: datetime) -> IncidentRow:
        """Restart the SLA clock at `now`: each deadline moves on by the clock time the pause
        stopped (never earlier than before the pause). Conflict when it is not paused."""
        incident = await self._service._get(incident_id)
        if incident.paused_at is None:
            raise Conflict(f"incident {incident_id} is not paused")
        changes, running = await self.unpaused(incident, now)
        if running is None:
            raise Conflict(f"incident {incident_id} is not paused")
        seconds = (now - running.started_at).total_seconds()
        message = (
            f"SLA clock resumed by {by} after {pausing.spoken(seconds)} paused "
            f"({running.reason}); response due {_iso(changes['response_due']) or '-'}, "
            f"resolution due {_iso(changes['resolution_due']) or '-'}"
        )
        data = {
            "reason": running.reason,
            "paused_seconds": round(seconds),
            "response_due": _iso(changes["response_due"]),
            "resolution_due": _iso(changes["resolution_due"]),
        }
        updated = await self._service._store.update_incident(
            incident_id,
            changes,
            [NewEvent("resumed", now, message, by, data)],
            only_if={"paused_at": incident.paused_at},
            also=lambda session: pausing.end_running(session, incident_id, now, by),
        )
        if updated is None:
            raise Conflict(f"incident {incident_id} is not paused")
        log.info("incident %s resumed by %s", incident_id, by)
        await self._service._announce(
            IncidentChange("resumed", updated, now, {"reason": running.reason})
        )
        return updated

    def _pausable(self, incident: IncidentRow) -> None:
        if incident.resolved_at is not None:
            raise Conflict(
                f"incident {incident.id} is resolved: a resolved incident cannot be paused"
            )
        if incident.paused_at is not None:
            raise Conflict(
                f"incident {incident.id} is already paused (since {_iso(incident.paused_at)}); "
                "resume it first"
            )

    async def unpaused(
        self, incident: IncidentRow, now: datetime
    ) -> tuple[dict[str, Any], IncidentPauseRow | None]:
        """The changes that end the incident's running pause at `now` (deadlines moved on),
        and that pause."""
        rows = await self._service._store.pauses(incident.id)
        running = next((r for r in rows if r.ended_at is None), None)
        if running is None:
            return {"paused_at": None}, None
        history = await self.sla_history(incident)
        response, resolution = self._moved(incident, pausing.as_pauses(rows, until=now), history)
        before = (running.response_due_before, running.resolution_due_before)
        if response is resolution is None:  # the engine cannot say (a plan removed)
            shift = now - running.started_at
            response, resolution = (
                None if d is None else d + shift if d > running.started_at else d for d in before
            )
        if any(at >= running.started_at for _, at in history[1]):
            # Upgraded while paused: the worse severity's deadlines may rightly be earlier
            # than those before the pause (the engine's never move earlier for a pause).
            before = (None, None)
        return {
            "paused_at": None,
            "response_due": pausing.not_earlier(before[0], response),
            "resolution_due": pausing.not_earlier(before[1], resolution),
        }, running

    async def sla_history(self, incident: IncidentRow) -> tuple[str, list[tuple[str, datetime]]]:
        """The severity the incident opened with, and each upgrade since (from its timeline)."""
        upgrades: list[tuple[str, datetime]] = []
        first: str | None = None
        for event in await self._service._store.events(incident.id):
            data = event.data or {}
            if event.kind == "upgraded" and "to" in data:
                first = first or data.get("from")
                upgrades.append((data["to"], event.at))
        return first or incident.severity, upgrades

    def _moved(
        self,
        incident: IncidentRow,
        pauses: Sequence[Pause],
        history: tuple[str, list[tuple[str, datetime]]],
    ) -> tuple[datetime | None, datetime | None]:
        """The engine's response and resolution deadlines for the incident with `pauses` and
        its `sla_history`; (None, None) when its plan or severity is gone (a reload)."""
        opened_with, upgrades = history
        try:
            found = self._service.sla.deadlines(
                incident.plan, opened_with, incident.opened_at, pauses, upgrades
            )
        except KeyError:
            return None, None
        return found.response_due, found.resolution_due


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
