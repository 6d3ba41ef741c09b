"""GET /status/{slug}/feed.atom: one entry per public update, newest first, valid Atom as a
real feed parser reads it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import feedparser
from test_subscribe_routes import MAILING, client_for

from uptimeguard.incidents.service import IncidentService
from uptimeguard.notify.maintenance import MaintenanceNotices
from uptimeguard.storage.repository import Store


async def test_the_feed_lists_public_updates_newest_first(
    store: Store, clock: Any, tmp_path: Any
) -> None:
    async for http, parts in client_for(store, clock, tmp_path, **MAILING):
        config = parts.notify.maintenance._config()
        service = IncidentService(store, config)
        start = clock.now() - timedelta(hours=2)
        incident = await service.site_failing("acme", "www", "down", start)
        assert incident is not None
        await service.acknowledge(incident.id, "alice", start + timedelta(minutes=1), "INTERNAL")
        await service.add_note(incident.id, "alice", "INTERNAL only", start + timedelta(minutes=2))
        await service.add_note(
            incident.id, "alice", "Fixing <it> & more", start + timedelta(minutes=3), public=True
        )
        await service.resolve(incident.id, "monitor", start + timedelta(minutes=4))
        notices: MaintenanceNotices = parts.notify.maintenance
        assert await notices.run(clock.now()) == 1  # "Database upgrade" is in view

        response = await http.get("/status/acme/feed.atom")
        assert response.status == 200
        assert response.content_type == "application/atom+xml"
        body = await response.read()
        again = await http.get(
            "/status/acme/feed.atom", headers={"If-None-Match": response.headers["ETag"]}
        )
        assert again.status == 304
        anything = await http.get("/status/acme/feed.atom", headers={"If-None-Match": "*"})
        assert anything.status == 304

    feed = feedparser.parse(body)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Acme Ltd status"
    assert feed.feed.link == "https://status.acme.example/status/acme"
    titles = [entry.title for entry in feed.entries]
    assert titles == [
        "Scheduled maintenance: Database upgrade",
        "Resolved: Acme website is not responding",
        "Update: Acme website is not responding",
        "Investigating: Acme website is not responding",
        "Investigating: Acme website is not responding",
    ]
    texts = [entry.summary for entry in feed.entries]
    assert texts[1:] == [
        "Acme website is working normally again.",
        "Fixing <it> & more",
        "An engineer is working on it.",
        "We are investigating: Acme website is not responding.",
    ]
    assert "INTERNAL" not in body.decode()
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == len(ids)
    updated = [entry.updated_parsed for entry in feed.entries]
    assert updated == sorted(updated, reverse=True)
