"""Subscribers and webhooks end to end, through the daemon, a real SMTP server and a real
webhook receiver on loopback: subscribe, confirm by following the link in the mail, an
outage opens, gets a public note and resolves; exactly the expected messages arrive."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from hook_receiver import HOOK_SECRET, HookReceiver
from smtp_sink import Received, SmtpSink
from support import TargetSite, eventually, free_port, get_json

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: Europe/London, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  standard:
    calendar: always
    severities:
      bug_fix: {{response: 2h, resolution: 1d}}
    causes: {{down: bug_fix, http_5xx: bug_fix}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    status_page:
      slug: acme
      title: Acme <status>
      webhooks: [{{url: "{hook}", secret: "${{HOOK_SECRET}}"}}]
    sites:
      - {{id: www, name: Acme website, url: "{url}"}}
      - {{id: api, name: Acme API, url: "{url}steady"}}
"""
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/status/acme/(?:confirm|unsubscribe)/[\w-]+)")


@pytest.fixture
async def target():
    site = TargetSite()
    await site.start()
    yield site
    await site.stop()


def links(message: Received) -> list[str]:
    return LINK.findall(message.part("plain"))


def to(received: list[Received], address: str) -> list[Received]:
    return [m for m in received if m.to == address]


async def test_subscribers_hear_of_each_public_update_once(
    target: TargetSite,
    sink: SmtpSink,
    receiver: HookReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    config = load_config_text(CHECKS.format(url=target.url, hook=receiver.url), path="c.yaml")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notify.db'}",
        listen=f"127.0.0.1:{port}",
        public_url=public,
        write_interval_seconds=0.2,
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_tls="none",
        mail_from="Acme status <status@acme.example>",
    )
    async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
        assert daemon.port == port

        async def subscribe(email: str, sites: list[str] | None = None) -> int:
            body = {"email": email} if sites is None else {"email": email, "sites": sites}
            async with http.post(f"{public}/status/acme/subscribe", json=body) as response:
                return response.status

        # Four addresses ask; each gets one confirmation. Asking again sends nothing more.
        for email, sites in [
            ("alice@example.com", None), ("bob@example.com", ["api"]),
            ("carol@example.com", None), ("dave@example.com", None),
        ]:  # fmt: skip
            assert await subscribe(email, sites) == 202
        assert await subscribe("Alice@Example.com") == 202
        confirmations = await sink.wait(4)
        assert sorted(m.to for m in confirmations) == [
            "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com",
        ]  # fmt: skip
        for message in confirmations:
            assert message.message["Subject"] == "Confirm your subscription to Acme <status>"
            assert "&lt;status&gt;" in message.part("html")
            assert "<status>" not in message.part("html")

        # alice, bob and dave follow their links; carol never does.
        for message in confirmations:
            if message.to == "carol@example.com":
                continue
            confirm_link = next(link for link in links(message) if "/confirm/" in link)
            async with http.get(confirm_link) as response:
                assert response.status == 200
                assert "Subscribed" in await response.text()
        # dave unsubscribes at once with the one-click POST his mail program would send.
        dave = to(confirmations, "dave@example.com")[0]
        header = dave.message["List-Unsubscribe"]
        assert dave.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        async with http.post(
            header.strip("<>"), data={"List-Unsubscribe": "One-Click"}
        ) as response:
            assert response.status == 200

        # An outage of www: opened, a public note (and a private one), resolved.
        await eventually(lambda: get_json(http, f"{public}/api/v1/sites"),
                         lambda s: all(x["state"] == "up" for x in s["sites"]))  # fmt: skip
        target.mode = "500"
        incidents = await eventually(
            lambda: get_json(http, f"{public}/api/v1/incidents"), lambda b: b["incidents"]
        )
        incident_id = incidents["incidents"][0]["id"]
        for note, public_note in [("Rebooting <b>the</b> database", True), ("INTERNAL", False)]:
            async with http.post(
                f"{public}/api/v1/incidents/{incident_id}/notes",
                json={"by": "erin", "note": note, "public": public_note},
            ) as response:
                assert response.status in (200, 201)
        target.mode = "ok"
        await eventually(
            lambda: get_json(http, f"{public}/api/v1/incidents/{incident_id}"),
            lambda b: b["status"] == "resolved",
        )
        received = await sink.wait(4 + 3)
        await eventually(lambda: _count(receiver), lambda n: n == 3)

    updates = to(received, "alice@example.com")[1:]
    assert [m.message["Subject"] for m in updates] == [
        "[Acme <status>] Investigating: Acme website is returning server errors",
        "[Acme <status>] Update: Acme website is returning server errors",
        "[Acme <status>] Resolved: Acme website is returning server errors",
    ]
    assert len(received) == 7  # bob chose api only; carol never confirmed; dave left
    for address in ("bob@example.com", "carol@example.com", "dave@example.com"):
        assert len(to(received, address)) == 1
    alice_token = links(to(received, "alice@example.com")[0])[0].rsplit("/", 1)[1]
    for message in updates:
        unsubscribe = f"{public}/status/acme/unsubscribe/{alice_token}"
        assert message.message["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe in message.part("plain") and unsubscribe in message.part("html")
        assert f"{public}/status/acme" in message.part("plain")
        assert "INTERNAL" not in message.part("plain") and "erin" not in message.part("plain")
    note = updates[1]
    assert "Rebooting <b>the</b> database" in note.part("plain")
    assert "Rebooting &lt;b&gt;the&lt;/b&gt; database" in note.part("html")

    assert receiver.rejected == []
    events = [(hook["event"], hook["update"]["text"]) for hook in receiver.accepted]
    assert events == [
        ("incident.opened", "We are investigating: Acme website is returning server errors."),
        ("incident.updated", "Rebooting <b>the</b> database"),
        ("incident.resolved", "Acme website is working normally again."),
    ]
    first = receiver.accepted[0]
    assert first["customer"] == "acme" and first["page"] == f"{public}/status/acme"
    assert first["incident"]["id"] == incident_id
    assert first["incident"]["status"] == "investigating"
    assert receiver.accepted[2]["incident"]["status"] == "resolved"
    assert set(first["incident"]) == {"id", "title", "status", "started_at", "resolved_at"}


async def _count(receiver: HookReceiver) -> int:
    return len(receiver.accepted)
