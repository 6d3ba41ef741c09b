"""Incidents a customer raised by phone or by a callback request stay between them and the
desk: no e-mail to the page's subscribers, no webhook call, no Atom entry, not on the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import feedparser
from notify_support import confirmed_subscriber, messages_to
from test_subscribe_routes import MAILING, client_for

from uptimeguard.incidents.service import IncidentService
from uptimeguard.notify.pages import PageInfo
from uptimeguard.storage.repository import Store


async def test_phone_and_callback_incidents_are_not_told(
    store: Store, clock: Any, tmp_path: Any
) -> None:
    async for http, parts in client_for(store, clock, tmp_path, **MAILING):
        config = parts.notify.maintenance._config()
        page = PageInfo.of(config, config.customer("acme"), MAILING["public_url"])
        now = clock.now()
        await confirmed_subscriber(parts.notify.subscriptions, page, "ann@x.example", None, now)
        service = IncidentService(store, config)
        for channel in ("phone", "callback"):
            incident = await service.open_from_channel(
                "acme", channel, "Jo on +447700900101", now, by="test"
            )
            await service.add_note(incident.id, "alice", "We called", now, public=True)
            await service.resolve(incident.id, "alice", now + timedelta(minutes=5))
        # A monitor incident is told, as before: the subscriber hears of that one only.
        outage = await service.site_failing("acme", "www", "down", now)
        assert outage is not None
        told = [m.subject for m in await messages_to(parts.mail.outbox, "ann@x.example")]
        assert len(told) == 2  # the confirmation, and the outage's "investigating"
        assert not any("Reported problem" in subject for subject in told)
        feed = feedparser.parse(await (await http.get("/status/acme/feed.atom")).read())
        assert [entry.title for entry in feed.entries] == [
            "Investigating: Acme website is not responding"
        ]
        page_json = await (await http.get("/status/acme.json")).json()
        assert [i["id"] for i in page_json["incidents"]["open"]] == [outage.id]
        assert page_json["incidents"]["resolved_recently"] == []
