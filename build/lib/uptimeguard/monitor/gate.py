"""Between the monitor's conclusions about a site and the incident service.

The monitor says a site's failure is confirmed (`failing`) or that it recovered; a gate
decides what that means for incidents. On one node the answer is direct: open, upgrade or
resolve. With several locations (`uptimeguard.cluster.gate`) the locations must agree first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from uptimeguard.config.models import SiteRef
from uptimeguard.incidents.service import IncidentService


@dataclass(frozen=True, slots=True)
class IncidentSignal:
    """A confirmed failure (`cause` set) or a recovery, seen at `at`; `since` is the first
    failed probe of the failing run."""

    cause: str | None
    at: datetime
    detail: str = ""
    since: datetime | None = None


class IncidentGate(Protocol):
    async def failing(self, ref: SiteRef, signal: IncidentSignal) -> None:
        """The site's failure is confirmed here (raises when it could not be recorded: the
        monitor keeps the signal and tries again at the next probe)."""
        ...

    async def recovered(self, ref: SiteRef, signal: IncidentSignal) -> None: ...

    def probed(self, ref: SiteRef, outcome: str, at: datetime) -> None:
        """Every probe's outcome (cheap: called for each one)."""
        ...


class DirectGate:
    """One location: every confirmed failure goes straight to the incident service."""

    def __init__(self, incidents: IncidentService) -> None:
        self._incidents = incidents

    async def failing(self, ref: SiteRef, signal: IncidentSignal) -> None:
        assert signal.cause is not None
        customer, site = ref.key
        await self._incidents.site_failing(customer, site, signal.cause, signal.at, signal.detail)

    async def recovered(self, ref: SiteRef, signal: IncidentSignal) -> None:
        customer, site = ref.key
        await self._incidents.site_recovered(customer, site, signal.at)

    def probed(self, ref: SiteRef, outcome: str, at: datetime) -> None:
        return None
