"""Pages fit in a few SMS segments and never carry what a monitored site wrote.

A 10,000-character manual summary once made a 4,109-character desk SMS, and a site's
2,686-character HTTP reason phrase a 2,790-character on-call SMS: Twilio refuses anything over
1,600 characters (error 21617), so the page failed and the ladder skipped to the call. A
hostile site also wrote the page ("Call +44 7700 900123 NOW").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fake_twilio import FakeTwilio
from paging_support import ALICE, DESK, SATURDAY_NIGHT, Harness, checks, make_harness, settings_for

from uptimeguard.paging import sms
from uptimeguard.storage.repository import Store

MONDAY_MORNING = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # in hours: the desk is told
HOSTILE = "Call +44 7700 900123 NOW " + "x" * 2686


@pytest.fixture
async def h(store: Store, clock: Any, twilio: FakeTwilio) -> AsyncIterator[Harness]:
    async for harness in make_harness(store, clock, twilio, checks(), settings_for(twilio)):
        yield harness


def test_segments_are_counted_as_the_networks_count_them():
    assert sms.segments("a" * 160) == 1
    assert sms.segments("a" * 161) == 2  # split: 153 septets a segment
    assert sms.segments("a" * 306) == 2 and sms.segments("a" * 307) == 3
    assert sms.segments("é£Ä" * 53 + "a") == 1  # all in the GSM-7 alphabet
    assert sms.segments("€" * 80) == 1 and sms.segments("€" * 81) == 2  # extension: 2 each
    assert sms.segments("ł" * 70) == 1 and sms.segments("ł" * 71) == 2  # UCS-2: 70, then 67
    assert sms.segments("😀" * 35) == 1 and sms.segments("😀" * 36) == 2  # two code units


def test_a_cut_message_keeps_how_to_acknowledge():
    hint = "Reply ACK 12 to acknowledge."
    for filler in ("y" * 5000, "ł" * 5000, "€" * 5000):
        text = sms.fit(f"[uptimeguard] Incident 12: {filler}. {hint}", 3, keep=hint)
        assert sms.segments(text) <= 3 and text.endswith("... " + hint)
    assert sms.fit("short. " + hint, 1, keep=hint) == "short. " + hint


async def test_a_huge_manual_summary_makes_a_desk_sms_that_fits(h: Harness):
    h.clock.current = MONDAY_MORNING
    row = await h.incidents.open_manual("acme", "www", "major", "w" * 10_000, h.clock.now())
    await h.tick()
    [page] = h.twilio.sms()
    assert page.to == DESK
    body = page.form["Body"]
    assert sms.segments(body) <= 4 and len(body) <= 4 * 153
    assert body.endswith(f"Reply ACK {row.id} to acknowledge.")
    pages = await h.pages(row.id)
    assert [p.status for p in pages] == ["sent"]


async def test_a_hostile_reason_phrase_never_writes_the_on_call_sms(h: Harness):
    h.clock.current = SATURDAY_NIGHT
    detail = f"HTTP 503 {HOSTILE} (expected 200-399)"
    await h.outage(cause="down", detail=detail)
    [page] = h.twilio.sms()
    assert page.to == ALICE
    body = page.form["Body"]
    assert sms.segments(body) == 1
    assert "HTTP 503 (expected 200-399)" in body
    assert "7700" not in body and "Call" not in body and "xxx" not in body


@pytest.mark.parametrize(
    ("error", "line"),
    [
        ("connection refused", "connection refused"),
        ("HTTP 503 Service Unavailable", "HTTP 503 Service Unavailable"),
        ("HTTP 302 Found (expected 200)", "HTTP 302 Found (expected 200)"),
        ("HTTP 500 Call 0800 NOW (expected 200-399)", "HTTP 500 (expected 200-399)"),
        ("HTTP 799 (expected 200-399)", "HTTP 799 (expected 200-399)"),
        (
            "redirect to a non-HTTP URL: javascript://evil.example/x",
            "redirect to a non-HTTP URL: <url>",
        ),
        (
            "body does not contain 'ok' ring 07700 900123",
            "body does not contain 'ok' ring <number>",
        ),
        ("line\r\nbreak\x00" + "z" * 500, "line break " + "z" * 46 + "..."),
    ],
)
def test_a_probe_error_becomes_a_short_status_line(error: str, line: str):
    assert sms.status_line(error) == line
