"""Announced one-off maintenance windows: when each is in view, starts and ends. Pure.

A one-off window with `announce: {title, before}` is shown from `before` ahead of its start
until it ends. Windows are written in the plan calendar's zone; these are UTC instants. The
same window (start, end and title) on several sites of a customer is one announcement.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from uptimeguard.config.models import ChecksConfig, Customer, MaintenanceWindow
from uptimeguard.status.updates import COMPLETED, SCHEDULED, STARTED
from uptimeguard.status.zones import calendar_zone


@dataclass(frozen=True, slots=True)
class Announced:
    key: str  # identifies the window among the customer's
    title: str
    sites: tuple[str, ...]  # site ids
    shown_from: datetime  # UTC
    starts_at: datetime
    ends_at: datetime

    def phase(self, now: datetime) -> str | None:
        if now < self.shown_from:
            return None
        if now < self.starts_at:
            return SCHEDULED
        return STARTED if now < self.ends_at else COMPLETED


def _utc(local: datetime, zone: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def announced(config: ChecksConfig, customer: Customer) -> list[Announced]:
    """The customer's announced one-off windows, soonest first; one per distinct window."""
    zone = calendar_zone(config, customer)
    found: dict[tuple[datetime, datetime, str], list[str]] = {}
    befores: dict[tuple[datetime, datetime, str], timedelta] = {}
    for site in customer.sites:
        for window in site.maintenance:
            if not isinstance(window, MaintenanceWindow) or window.announce is None:
                continue
            span = (_utc(window.start, zone), _utc(window.end, zone), window.announce.title)
            found.setdefault(span, []).append(site.id)
            befores[span] = max(befores.get(span, timedelta(0)), window.announce.before)
    result = []
    for (starts, ends, title), sites in found.items():
        digest = hashlib.sha256(title.encode()).hexdigest()[:12]
        key = f"{starts:%Y%m%dT%H%MZ}-{ends:%Y%m%dT%H%MZ}-{digest}"
        shown = starts - befores[(starts, ends, title)]
        result.append(Announced(key, title, tuple(sites), shown, starts, ends))
    return sorted(result, key=lambda a: (a.starts_at, a.key))


def in_view(config: ChecksConfig, customer: Customer, now: datetime) -> list[Announced]:
    """Windows the status page shows now: shown from `before` ahead until they end."""
    return [a for a in announced(config, customer) if a.phase(now) in (SCHEDULED, STARTED)]
