"""Callback requests through HTTP: the form on the status page, the incident it opens (held
over out of hours), the rate limits per client address and per phone, and a response that
never says more than "we will call you back". Acme is on Azzure IT's standard hours; London is
on GMT in November 2026, so local time is UTC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from html_validator import html_errors, vnu_missing
from paging.fake_twilio import FakeTwilio
from reach_support import DESK, Harness, bundled, make_harness, settings_for

from uptimeguard.storage.repository import Store

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
FORM = {"name": "Jo Bloggs", "phone": "+44 7700 900101", "about": "Our invoice for November"}


async def ask(h: Harness, slug: str = "acme", **fields: str) -> tuple[int, str, Any]:
    response = await h.client.post(f"/status/{slug}/callback", data={**FORM, **fields})
    return response.status, await response.text(), response.headers


def said(page: str) -> str:
    """The page's message: from its heading to the link back to the status page."""
    return page.split('<h2 id="notice-h">', 1)[1].split("<p><a href=", 1)[0]


async def test_the_status_page_offers_the_form(h: Harness):
    h.clock.current = TUESDAY_10
    response = await h.client.get("/status/acme")
    page = await response.text()
    assert '<form class="form" method="post" action="/status/acme/callback">' in page
    for field in ('name="name"', 'name="phone"', 'name="about"'):
        assert field in page
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]


async def test_in_hours_a_query_incident_and_the_desk_hears(h: Harness):
    h.clock.current = TUESDAY_10
    status, page, headers = await ask(h)
    assert status == 200
    assert said(page) == "Thank you</h2>\n<p>We will call you back.</p>\n"
    assert "form-action 'self'" in headers["Content-Security-Policy"]
    [incident] = await h.incidents_of("acme")
    assert (incident.severity, incident.source, incident.cause, incident.site) == (
        "query", "callback", "callback", None,
    )  # fmt: skip
    assert incident.summary == "Jo Bloggs on +447700900101: Our invoice for November"
    assert not incident.held_over
    assert incident.response_due == datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 8 business h
    [_, request] = await h.timeline(incident.id)
    assert (request.kind, request.data) == (
        "callback_request",
        {"name": "Jo Bloggs", "phone": "+447700900101", "about": "Our invoice for November"},
    )
    await h.paging.tick()
    assert h.twilio.summary() == [("sms", DESK)]
    assert (
        "Acme Ltd asked to be called back (Jo Bloggs on +447700900101"
        in (h.twilio.sms()[0].form["Body"])
    )
    page_json = await (await h.client.get("/status/acme.json")).json()
    assert page_json["incidents"]["open"] == []  # a callback request is not public


async def test_out_of_hours_it_is_held_over_to_the_next_working_day(h: Harness):
    h.clock.current = SATURDAY_10
    assert (await ask(h))[0] == 200
    [incident] = await h.incidents_of("acme")
    assert incident.held_over
    assert incident.clock_starts_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    await h.paging.tick()
    assert h.twilio.sent == []
    h.clock.current = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    await h.paging.tick()
    assert h.twilio.summary() == [("sms", DESK)]


async def test_the_plan_names_the_callback_severity(h: Harness):
    h.clock.current = TUESDAY_10
    await ask(h, "hooli", phone="07700 900141")
    [incident] = await h.incidents_of("hooli")
    assert (incident.severity, incident.summary) == (
        "s5", "Jo Bloggs on 07700900141: Our invoice for November",
    )  # fmt: skip


async def test_the_answer_is_the_same_whoever_asks(h: Harness):
    h.clock.current = TUESDAY_10
    _, first, _ = await ask(h)
    _, second, _ = await ask(h, name="Someone Else", phone="+1 555 0100 999", about="")
    assert first == second


async def test_bad_input_is_refused_and_opens_nothing(h: Harness):
    h.clock.current = TUESDAY_10
    status, page, _ = await ask(h, phone="")
    assert status == 400 and "Please check the form: phone: please fill it in." in page
    status, page, _ = await ask(h, phone="call me")
    assert status == 400 and "phone: use digits" in page
    status, page, _ = await ask(h, name="x" * 101)
    assert status == 400 and "name: at most 100 characters" in page
    status, page, _ = await ask(h, about="a\x00b")
    assert status == 400 and "about: remove the control characters" in page
    assert (await ask(h, "no-such-page"))[0] == 404
    assert await h.store.incidents() == []


async def test_five_an_hour_per_address(h: Harness):
    h.clock.current = TUESDAY_10
    for n in range(5):
        assert (await ask(h, phone=f"+4477009002{n:02d}"))[0] == 200
    status, page, headers = await ask(h, phone="+447700900299")
    assert status == 429 and "Too many requests. Please try again later." in page
    assert headers["Retry-After"] == "3600"
    assert len(await h.incidents_of("acme")) == 5
    h.clock.advance(minutes=59, seconds=59)
    assert (await ask(h, phone="+447700900299"))[0] == 429
    h.clock.advance(seconds=1)
    assert (await ask(h, phone="+447700900299"))[0] == 200
    assert len(await h.incidents_of("acme")) == 6


@pytest.fixture
async def behind_proxy(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    settings = settings_for(twilio, trusted_proxies="127.0.0.1")
    async for harness in make_harness(store, clock, twilio, bundled(), settings):
        yield harness


async def test_three_a_day_per_phone_whatever_the_address(behind_proxy: Harness):
    h = behind_proxy
    h.clock.current = TUESDAY_10

    async def from_address(address: str, phone: str) -> int:
        response = await h.client.post(
            "/status/acme/callback",
            data={**FORM, "phone": phone},
            headers={"X-Forwarded-For": f"198.51.100.9, {address}"},
        )
        return response.status

    assert [await from_address(f"203.0.113.{n}", "01453 884100") for n in range(4)] == [
        200, 200, 200, 429,
    ]  # fmt: skip
    assert await from_address("203.0.113.50", "+441453884101") == 200  # another number
    h.clock.advance(days=1)
    assert await from_address("203.0.113.51", "0145-388-4100") == 200
    assert len(await h.incidents_of("acme")) == 5


@pytest.mark.skipif(vnu_missing() is not None, reason=vnu_missing() or "")
async def test_the_pages_pass_the_w3c_html_checker(h: Harness):
    h.clock.current = TUESDAY_10
    for fields in ({}, {"phone": ""}):
        _, page, _ = await ask(h, **fields)
        assert html_errors(page) == []
