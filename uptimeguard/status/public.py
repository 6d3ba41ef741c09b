"""What a customer's public status page says, as one JSON-ready dict. Pure.

The HTML page is rendered from this same dict, so it can never show more than the JSON. What
is public, and nothing else:

- the page title and the customer's name; each site's display name (`name`, else its id) and
  URL, without credentials or query string, and for a `private: true` site the host only;
- each site's state now (`operational`, `degraded`, `down`, `maintenance`, `unknown`) and when
  it was last checked; 90 daily uptime figures (rollups, maintenance excluded);
- incidents open now and those resolved in the last 14 days, titled from the site and cause
  (never the internal summary), with their public updates.

Public updates are defined once, in `uptimeguard.status.updates` (the feed, the mail to
subscribers and the webhooks read the same definition).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from uptimeguard.config.models import Customer, Site
from uptimeguard.incidents.views import iso_ms
from uptimeguard.status.rollups import DAY, day_of, uptime_of
from uptimeguard.status.updates import incident_title, public_updates, shown_publicly
from uptimeguard.storage.models import IncidentEventRow, IncidentRow

HISTORY_DAYS = 90
RECENT = timedelta(days=14)
# What the page reads of each daily rollup.
ROLLUP_COLUMNS = ("site", "day", "up_seconds", "down_seconds", "maintenance_seconds")

STATE_WORDS = {
    "operational": "Operational",
    "degraded": "Degraded performance",
    "down": "Down",
    "maintenance": "Under maintenance",
    "unknown": "Not checked yet",
}
# The page's overall indicator: the worst state of any site, or an open incident.
SEVERITY_ORDER = ("operational", "unknown", "maintenance", "degraded", "incident", "down")


@dataclass(frozen=True, slots=True)
class SiteNow:
    """What the monitor knows of a site this moment."""

    state: str  # the tracker's: up, down, degraded, unknown
    last_checked_at: datetime | None
    in_maintenance: bool = False


def public_url(url: str, private: bool) -> str:
    """`url` without credentials, query or fragment; only scheme and host when `private`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    path = "/" if private or not parts.path else parts.path
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def display_name(site: Site) -> str:
    return site.name or site.id


def history_span(days: Iterable[Any]) -> str:
    """How much history the uptime figure stands on, in words: "90 days" once the page's
    whole history is observed, else "5 min", "7 h", "12 days" (rounded down)."""
    seconds = sum(d.up_seconds + d.down_seconds + d.maintenance_seconds for d in days)
    if seconds >= (HISTORY_DAYS - 1) * DAY.total_seconds():
        return f"{HISTORY_DAYS} days"
    minutes = int(seconds // 60)
    if minutes < 120:
        return "1 min" if minutes <= 1 else f"{minutes} min"
    hours = minutes // 60
    if hours < 72:
        return f"{hours} h"
    return f"{hours // 24} days"


def percent(ratio: float | None, places: int = 3) -> float | None:
    """A ratio as a percentage rounded DOWN, so a day with any downtime never reads 100."""
    if ratio is None:
        return None
    scale = 10**places
    return int(ratio * 100 * scale) / scale


def shown_ratio(ratio: float, places: int = 3) -> float:
    """The ratio the page's percentage shows (`percent` / 100, without the float noise of
    dividing again): what `uptimeguard_uptime_ratio` exports, so Grafana and the page agree."""
    scale = 10**places
    return int(ratio * 100 * scale) / (100 * scale)


def site_state(now: SiteNow) -> str:
    if now.in_maintenance:
        return "maintenance"
    return {"up": "operational", "degraded": "degraded", "down": "down"}.get(now.state, "unknown")


def _updates(
    incident: IncidentRow, events: Iterable[IncidentEventRow], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The updates a customer may read (`uptimeguard.status.updates`), newest first."""
    updates = [
        {"at": iso_ms(update.at), "status": update.status, "message": update.message}
        for update in public_updates(incident, events, names)
    ]
    updates.reverse()
    return updates


def _incident(
    incident: IncidentRow,
    events: Sequence[IncidentEventRow],
    names: Mapping[str, str],
    now: datetime,
) -> dict[str, Any]:
    title = incident_title(incident, names)
    site = names.get(incident.site or "") if incident.site else None
    end = incident.resolved_at or now
    return {
        "id": incident.id,
        "site": incident.site if site else None,
        "site_name": site,
        "title": title,
        "status": "resolved" if incident.resolved_at else "investigating",
        "started_at": iso_ms(incident.opened_at),
        "resolved_at": iso_ms(incident.resolved_at),
        "duration_seconds": int((end - incident.opened_at).total_seconds()),
        "updates": _updates(incident, events, names),
    }


def _overall(sites: Sequence[dict[str, Any]], open_count: int) -> dict[str, str]:
    by_state: dict[str, list[str]] = {}
    for site in sites:
        by_state.setdefault(site["state"], []).append(site["name"])
    if "down" in by_state:
        return _said("down", by_state["down"], "is down", "are down")
    if open_count:
        noun = "an incident" if open_count == 1 else f"{open_count} incidents"
        return {"indicator": "incident", "description": f"We are working on {noun}"}
    if "degraded" in by_state:
        return _said("degraded", by_state["degraded"], "is slow", "are slow")
    if "maintenance" in by_state:
        names = _join(by_state["maintenance"])
        return {"indicator": "maintenance", "description": f"Scheduled maintenance: {names}"}
    if sites and set(by_state) == {"unknown"}:
        return {"indicator": "unknown", "description": "Not checked yet"}
    return {"indicator": "operational", "description": "All systems operational"}


def _said(indicator: str, names: list[str], one: str, many: str) -> dict[str, str]:
    verb = one if len(names) == 1 else many
    return {"indicator": indicator, "description": f"{_join(names)} {verb}"}


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _days(
    rollups: Mapping[date, Any],
    incidents: Sequence[IncidentRow],
    titles: Mapping[int, str],
    first: date,
    zone: str,
) -> list[dict[str, Any]]:
    touching: dict[date, list[dict[str, Any]]] = {}
    last = first + (HISTORY_DAYS - 1) * DAY
    for incident in incidents:  # each incident on every day (of `zone`) it was open
        day = max(first, day_of(incident.opened_at, zone))
        resolved = incident.resolved_at
        end = min(last, day_of(resolved, zone) if resolved else last)
        while day <= end:
            touching.setdefault(day, []).append({"id": incident.id, "title": titles[incident.id]})
            day += DAY
    days = []
    for offset in range(HISTORY_DAYS):
        day = first + offset * DAY
        row = rollups.get(day)
        days.append(
            {
                "date": day.isoformat(),
                "uptime_percent": percent(uptime_of((row,))) if row else None,
                "down_seconds": round(row.down_seconds) if row else 0,
                "maintenance_seconds": round(row.maintenance_seconds) if row else 0,
                "incidents": touching.get(day, []),
            }
        )
    return days


def build_status(
    customer: Customer,
    live: Mapping[str, SiteNow],
    rollups: Iterable[Any],
    incidents: Sequence[IncidentRow],
    events: Iterable[IncidentEventRow],
    now: datetime,
    zone: str = "UTC",
) -> dict[str, Any]:
    """The public view of `customer` at `now`.

    `live` is each site's state now, by site id; `rollups` (anything with the `ROLLUP_COLUMNS`
    of a `DailyRollupRow` as attributes) cover the last `HISTORY_DAYS` days of the page's
    `zone` (whose days the rollups are), today included; `incidents`
    are the customer's incidents open at any time in those days, and `events` the
    `PUBLIC_EVENT_KINDS` events of those of them open now or resolved within `RECENT`.
    Internal incidents (`shown_publicly`) are left out.
    """
    assert customer.status_page is not None
    incidents = [i for i in incidents if shown_publicly(i)]
    names = {site.id: display_name(site) for site in customer.sites}
    last = day_of(now, zone)
    first = last - (HISTORY_DAYS - 1) * DAY
    by_site: dict[str, dict[date, Any]] = {}
    for row in rollups:
        if first <= row.day <= last:
            by_site.setdefault(row.site, {})[row.day] = row
    by_incident: dict[int, list[IncidentEventRow]] = {}
    for event in events:
        by_incident.setdefault(event.incident_id, []).append(event)
    titles = {i.id: incident_title(i, names) for i in incidents}
    incidents_of: dict[str, list[IncidentRow]] = {}
    for incident in incidents:
        if incident.site is not None:
            incidents_of.setdefault(incident.site, []).append(incident)

    sites = []
    for site in customer.sites:
        now_of = live.get(site.id, SiteNow("unknown", None))
        state = site_state(now_of)
        days = by_site.get(site.id, {})
        sites.append(
            {
                "id": site.id,
                "name": names[site.id],
                "url": public_url(site.url, site.private),
                "state": state,
                "state_text": STATE_WORDS[state],
                "last_checked_at": iso_ms(now_of.last_checked_at),
                "uptime_90d_percent": percent(uptime_of(days.values())),
                "uptime_span": history_span(days.values()),
                "days": _days(days, incidents_of.get(site.id, []), titles, first, zone),
            }
        )

    ordered = sorted(incidents, key=lambda i: (i.opened_at, i.id), reverse=True)
    open_now = [
        _incident(i, by_incident.get(i.id, []), names, now)
        for i in ordered
        if i.resolved_at is None
    ]
    recent = [
        _incident(i, by_incident.get(i.id, []), names, now)
        for i in ordered
        if i.resolved_at is not None and i.resolved_at >= now - RECENT
    ]
    page = customer.status_page
    return {
        "page": {
            "slug": page.slug,
            "title": page.title or f"{customer.name} status",
            "customer": customer.name,
        },
        "generated_at": iso_ms(now),
        "status": _overall(sites, len(open_now)),
        "sites": sites,
        "incidents": {"open": open_now, "resolved_recently": recent},
        "history": {"days": HISTORY_DAYS, "first_day": first.isoformat(), "time_zone": zone},
    }
