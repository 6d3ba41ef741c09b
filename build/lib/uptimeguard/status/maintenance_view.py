"""The status page's "Scheduled maintenance" section, as JSON-ready data. Pure.

Announced one-off windows are listed from `before` ahead of their start until they end (see
`uptimeguard.notify.maintenance`); weekly windows are always listed, as a line in the words
of the zone they are written in ("every Sunday 02:00-04:00 UK time"). Unannounced one-off
windows are not listed: only the site's state shows them while they run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from uptimeguard.config.models import ChecksConfig, Customer, RecurringMaintenance
from uptimeguard.incidents.views import iso_ms
from uptimeguard.status.announced import in_view
from uptimeguard.status.public import display_name
from uptimeguard.status.zones import calendar_zone, local_when, weekly_words


def maintenance_view(
    config: ChecksConfig, customer: Customer, now: datetime, zone: str
) -> dict[str, Any]:
    names = {site.id: display_name(site) for site in customer.sites}
    scheduled = [
        {
            "title": window.title,
            "sites": [names[site] for site in window.sites],
            "status": "in_progress" if window.starts_at <= now else "scheduled",
            "starts_at": iso_ms(window.starts_at),
            "ends_at": iso_ms(window.ends_at),
            "starts": local_when(window.starts_at, zone),
            "ends": local_when(window.ends_at, zone),
        }
        for window in in_view(config, customer, now)
    ]
    written_in = calendar_zone(config, customer)
    recurring = [
        {"site": names[site.id], "text": weekly_words(window, written_in)}
        for site in customer.sites
        for window in site.maintenance
        if isinstance(window, RecurringMaintenance)
    ]
    return {"scheduled": scheduled, "recurring": recurring}
