"""POST /status/{slug}/subscribe, the confirm and unsubscribe links, and the page's form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from html_validator import html_errors, vnu_missing

from uptimeguard.config import load_config_text
from uptimeguard.incidents.service import IncidentService
from uptimeguard.mail import mail_service
from uptimeguard.metrics import Metrics
from uptimeguard.notify import notify_service
from uptimeguard.settings import Settings
from uptimeguard.storage.repository import Store
from uptimeguard.web.context import WebContext
from uptimeguard.web.server import build_app
from uptimeguard.web.subscribe_routes import client_key

CHECKS = """
calendars:
  uk: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}}
plans:
  p: {calendar: uk, severities: {s: {response: 1h, resolution: 2h}}, causes: {down: s}}
customers:
  - id: acme
    name: Acme Ltd
    plan: p
    status_page: {slug: acme}
    sites:
      - {id: www, name: Acme website, url: "https://www.acme.example/"}
      - id: api
        url: https://api.acme.example/
        maintenance:
          - {every: "sun 02:00", duration: 2h}
          - {from: "2026-11-25T22:00", to: "2026-11-26T01:00",
             announce: {title: Database upgrade, before: 2d}}
"""
MAILING = {
    "smtp_host": "127.0.0.1", "smtp_port": 9, "mail_from": "status@acme.example",
    "public_url": "https://status.acme.example",
}  # fmt: skip


async def client_for(
    store: Store, clock: Any, tmp_path: Any, **settings: Any
) -> AsyncIterator[tuple[TestClient, Any]]:
    config = load_config_text(CHECKS, path="c.yaml")
    values = {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", **settings}
    configured = Settings(**values)
    mail = mail_service(configured, store, clock, lambda c, u: None)
    notify = notify_service(configured, store, lambda: config, mail)

    async def ready() -> bool:
        return True

    context = WebContext(
        settings=configured,
        store=store,
        incidents=IncidentService(store, config),
        monitor=SimpleNamespace(sites={}),  # type: ignore[arg-type]
        metrics=Metrics(),
        clock=clock,
        ready=ready,
        mail=mail,
        notify=notify,
    )
    async with TestClient(TestServer(build_app(context))) as client:
        yield client, SimpleNamespace(mail=mail, notify=notify)


@pytest.fixture
async def client(store: Store, clock: Any, tmp_path: Any) -> AsyncIterator[Any]:
    async for pair in client_for(store, clock, tmp_path, **MAILING):
        yield pair


async def confirmations(parts: Any) -> list[str]:
    return [row.recipient for row in await parts.mail.outbox.messages("email")]


async def test_a_form_or_json_request_is_accepted_and_sends_one_confirmation(client: Any) -> None:
    http, parts = client
    response = await http.post("/status/acme/subscribe", data={"email": "ann@x.example"})
    assert response.status == 202
    assert "text/html" in response.content_type
    assert "Check your inbox" in await response.text()
    response = await http.post("/status/acme/subscribe", json={"email": "bo@x.example",
                                                              "sites": ["api"]})  # fmt: skip
    assert response.status == 202
    assert (await response.json())["status"] == "Check your inbox"
    # Again, in other letters: the same answer, and no second message within the hour.
    response = await http.post("/status/acme/subscribe", data={"email": "ANN@x.example"})
    assert response.status == 202
    assert await confirmations(parts) == ["ann@x.example", "bo@x.example"]
    subscribers = await parts.notify.subscriptions.subscribers("acme")
    assert [(s.email, s.sites, s.status) for s in subscribers] == [
        ("ann@x.example", None, "pending"), ("bo@x.example", ["api"], "pending"),
    ]  # fmt: skip


async def test_a_second_confirmation_after_an_hour(client: Any, clock: Any) -> None:
    http, parts = client
    await http.post("/status/acme/subscribe", data={"email": "ann@x.example"})
    clock.advance(minutes=59)
    await http.post("/status/acme/subscribe", data={"email": "ann@x.example"})
    assert len(await confirmations(parts)) == 1
    clock.advance(minutes=2)
    await http.post("/status/acme/subscribe", data={"email": "ann@x.example"})
    assert len(await confirmations(parts)) == 2


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"email": "not an address"}, "'email'"),
        ({}, "'email' is required"),
        ({"email": "a@x.example", "sites": ["nope"]}, "unknown site 'nope' in 'sites'"),
        ({"email": "a@x.example", "sites": "www"}, "'sites' must be a list"),
        (["a@x.example"], "JSON object"),
    ],
)
async def test_bad_input_gets_400_naming_the_field(client: Any, body: Any, names: str) -> None:
    http, parts = client
    response = await http.post("/status/acme/subscribe", json=body)
    assert response.status == 400
    assert names in (await response.json())["error"]
    assert await confirmations(parts) == []


async def test_a_bad_form_gets_a_400_page_saying_what_to_fix(client: Any) -> None:
    http, parts = client
    response = await http.post("/status/acme/subscribe", data={"email": "nobody"})
    assert response.status == 400 and "text/html" in response.content_type
    assert "is not an e-mail address" in await response.text()
    assert await confirmations(parts) == []


async def test_requests_are_limited_per_client_address(client: Any) -> None:
    http, parts = client
    statuses = []
    for n in range(7):
        response = await http.post("/status/acme/subscribe", data={"email": f"u{n}@x.example"})
        statuses.append(response.status)
    assert statuses == [202] * 5 + [429] * 2
    assert int(response.headers["Retry-After"]) > 0
    assert len(await confirmations(parts)) == 5


def test_the_limit_counts_ipv6_clients_by_their_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == "192.0.2.7"
    assert client_key(None) == "unknown"


async def test_unknown_pages_and_tokens(client: Any) -> None:
    http, _ = client
    assert (await http.post("/status/nope/subscribe", data={"email": "a@x.ex"})).status == 404
    assert (await http.get("/status/acme/confirm/" + "x" * 32)).status == 404
    assert (await http.get("/status/acme/unsubscribe/" + "x" * 32)).status == 404


async def test_confirm_then_unsubscribe_by_get_or_one_click_post(client: Any) -> None:
    http, parts = client
    await http.post("/status/acme/subscribe", data={"email": "ann@x.example"})
    (row,) = await parts.notify.subscriptions.subscribers("acme")
    response = await http.get(f"/status/acme/confirm/{row.token}")
    assert response.status == 200 and "Subscribed" in await response.text()
    assert (await http.get(f"/status/acme/confirm/{row.token}")).status == 200  # twice: fine
    response = await http.post(
        f"/status/acme/unsubscribe/{row.token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status == 200 and "Unsubscribed" in await response.text()
    (row,) = await parts.notify.subscriptions.subscribers("acme")
    assert row.status == "unsubscribed"
    # A used-up confirmation link does not subscribe again.
    assert (await http.get(f"/status/acme/confirm/{row.token}")).status == 404


async def test_the_page_offers_the_form_the_feed_and_the_maintenance(client: Any) -> None:
    http, _ = client
    response = await http.get("/status/acme")
    html = await response.text()
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]
    assert '<form class="subscribe" method="post" action="/status/acme/subscribe">' in html
    assert 'name="sites" value="api"' in html
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Acme Ltd status: updates" '
        'href="/status/acme/feed.atom">'
    ) in html
    assert '<h2 id="maintenance-h">Scheduled maintenance</h2>' in html
    assert "Database upgrade" in html  # the clock is 24 Nov 10:00: in view from 23 Nov 22:00
    assert "25 Nov 2026 22:00 GMT" in html and "26 Nov 2026 01:00 GMT" in html
    assert "api: every Sunday 02:00-04:00 UK time" in html
    assert "All times UK time." in html


@pytest.mark.skipif(vnu_missing() is not None, reason=vnu_missing() or "")
async def test_the_page_with_form_and_maintenance_and_its_notices_pass_the_w3c_checker(
    client: Any, store: Store
) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the same HTML on every database: checked once")
    http, _ = client
    page = await (await http.get("/status/acme")).text()
    assert '<form class="subscribe"' in page and "Scheduled maintenance" in page
    notice = await (await http.post("/status/acme/subscribe", data={"email": "a@x.ex"})).text()
    for html in (page, notice):  # every notice (accepted, refused, confirmed) is one template
        assert html_errors(html) == []


async def test_without_mail_there_is_no_form_and_subscribing_answers_503(
    store: Store, clock: Any, tmp_path: Any
) -> None:
    async for http, parts in client_for(store, clock, tmp_path):
        html = await (await http.get("/status/acme")).text()
        assert '/subscribe"' not in html  # the callback form is there, the subscription one not
        response = await http.post("/status/acme/subscribe", json={"email": "a@x.example"})
        assert response.status == 503
        assert await confirmations(parts) == []
