"""Public updates: the one definition of what a customer is told. Pure.

The status page, its Atom feed, the mail to subscribers and the webhooks all read this
module, so they can never disagree. A public update is one of:

- an incident's timeline entry of kind `opened` ("investigating", in fixed words naming the
  site and the cause it opened with), `acknowledged` ("investigating": an engineer is on it),
  `note` posted with `"public": true` (its text as written), or `resolved`;
- a maintenance announcement: a one-off window with `announce` comes into view
  (`scheduled`), starts (`started`) and ends (`completed`).

Each reads as it did when it was posted: the wording depends only on the entry itself, never
on what the incident became later (an upgrade to another cause does not rewrite its opening).
Subscribers and webhooks are told of every kind but `acknowledged` (`TOLD`): a customer
hears once that we are investigating, then each public note, then the resolution.
Everything else on a timeline (upgrades, breaches, pages, who did what, acknowledgement and
resolution notes, severities, SLA deadlines, internal summaries) is never public.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from uptimeguard.storage.models import IncidentEventRow, IncidentRow

PUBLIC_EVENT_KINDS = ("opened", "acknowledged", "note", "resolved")
# Incidents a customer raised through the phone line or a callback request are between them
# and the desk: no public update at all (page, feed, subscribers, webhooks).
INTERNAL_SOURCES = ("phone", "callback")
# A certificate due for renewal still works: office work for us, not news for visitors.
INTERNAL_CAUSES = ("cert_expiry",)


def shown_publicly(incident: IncidentRow) -> bool:
    """Whether an incident may be told to the public at all."""
    return incident.source not in INTERNAL_SOURCES and incident.cause not in INTERNAL_CAUSES


PUBLIC_UPDATE = "public_update"  # the key of the words stored with an entry, when they are
# Timeline kinds that are told to subscribers and webhooks (`acknowledged` is only shown).
TOLD = frozenset({"opened", "note", "resolved"})
# Maintenance phases, in order.
SCHEDULED, STARTED, COMPLETED = "scheduled", "started", "completed"
MAINTENANCE_PHASES = (SCHEDULED, STARTED, COMPLETED)

# How each update's status is named in a subject or a feed entry's title.
STATUS_WORDS = {
    "investigating": "Investigating",
    "update": "Update",
    "resolved": "Resolved",
    SCHEDULED: "Scheduled maintenance",
    STARTED: "Maintenance started",
    COMPLETED: "Maintenance complete",
}
CAUSE_WORDS = {
    "down": "is not responding",
    "http_5xx": "is returning server errors",
    "http_4xx": "is returning error pages",
    "content": "is not showing the expected content",
    "slow": "is responding slowly",
}


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    """One update as customers see it. `status`: investigating, update, resolved, or a
    maintenance phase; `kind`: the timeline kind or `maintenance`."""

    at: datetime
    status: str
    message: str
    kind: str
    event_id: int | None = None

    @property
    def told(self) -> bool:
        return self.kind in TOLD or self.kind == "maintenance"


def titled(site: str | None, cause: str) -> str:
    if cause in CAUSE_WORDS and site:
        return f"{site} {CAUSE_WORDS[cause]}"
    return f"Reported problem with {site}" if site else "Reported problem"


def incident_title(incident: IncidentRow, names: Mapping[str, str]) -> str:
    """The incident's public title now, from its site's display name and current cause."""
    return titled(names.get(incident.site or "", incident.site), incident.cause)


def site_name(incident: IncidentRow, names: Mapping[str, str]) -> str | None:
    """The display name of the incident's site, None when it has none (or it was removed)."""
    return names.get(incident.site or "") if incident.site else None


def stored(data: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """The (status, message) stored with a timeline entry when it was posted, if any."""
    found = (data or {}).get(PUBLIC_UPDATE)
    if isinstance(found, dict) and {"status", "message"} <= found.keys():
        return str(found["status"]), str(found["message"])
    return None


def public_update(
    incident: IncidentRow, event: IncidentEventRow, names: Mapping[str, str]
) -> PublicUpdate | None:
    """The update `event` makes public, or None when it is internal. Words stored with the
    entry when it was posted (`data["public_update"]`) are read as they are."""
    if event.kind not in PUBLIC_EVENT_KINDS or not shown_publicly(incident):
        return None
    kept = stored(event.data)
    if kept is not None:
        return PublicUpdate(event.at, kept[0], kept[1], event.kind, event.id)
    site = site_name(incident, names)
    if event.kind == "opened":
        # The cause it opened with, so a later upgrade does not rewrite this update.
        cause = (event.data or {}).get("cause") or incident.cause
        title = titled(names.get(incident.site or "", incident.site), cause)
        status, message = "investigating", f"We are investigating: {title}."
    elif event.kind == "acknowledged":
        status, message = "investigating", "An engineer is working on it."
    elif event.kind == "note" and (event.data or {}).get("public") is True:
        status, message = "update", event.message
    elif event.kind == "resolved":
        status = "resolved"
        if event.by == "monitor" and site:
            message = f"{site} is working normally again."
        else:
            message = "This incident has been resolved."
    else:
        return None
    return PublicUpdate(event.at, status, message, event.kind, event.id)


def public_updates(
    incident: IncidentRow, events: Iterable[IncidentEventRow], names: Mapping[str, str]
) -> list[PublicUpdate]:
    """The incident's public updates, in the order of `events` (oldest first)."""
    found = (public_update(incident, event, names) for event in events)
    return [update for update in found if update is not None]


def maintenance_update(
    phase: str, title: str, at: datetime, starts: str, ends: str
) -> PublicUpdate:
    """A maintenance announcement; `starts` and `ends` are the window's times as shown."""
    if phase == SCHEDULED:
        message = f"Scheduled maintenance: {title}, from {starts} to {ends}."
    elif phase == STARTED:
        message = f"Maintenance has started: {title}. It is planned to end at {ends}."
    else:
        message = f"Maintenance is complete: {title}."
    return PublicUpdate(at, phase, message, "maintenance")
