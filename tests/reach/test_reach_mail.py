"""What the channels mail, through the mail outbox to a real SMTP server on loopback
(aiosmtpd): the desk hears of phone messages and callback requests, contacts get NPS surveys
and answer them by clicking through HTTP; the report's NPS is checked against a hand count."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from html_validator import html_errors, vnu_missing
from paging.fake_twilio import FakeTwilio
from reach_support import (
    ALICE,
    BUNDLED,
    CHARLIE,
    PUBLIC_URL,
    STRANGER,
    Harness,
    make_harness,
    recording,
    settings_for,
    smtp,
)
from smtp_sink import SmtpSink

from uptimeguard.config import load_config_text
from uptimeguard.reach.store import ReachStore
from uptimeguard.report import build_report, render
from uptimeguard.storage.repository import Store

DESK_EMAIL = "desk@uptimeguard.example"
SATURDAY_3 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# Acme with six contacts with an email (and Jo's phone), for the NPS count.
MORE_CONTACTS = "".join(
    f"      - {{ name: Contact {n}, email: c{n}@acme.example }}\n" for n in range(3, 7)
)
CHECKS = BUNDLED.read_text().replace(
    "      - { name: Sam Patel, email: sam@acme.example }\n",
    "      - { name: Sam Patel, email: sam@acme.example }\n" + MORE_CONTACTS,
)


@pytest.fixture
async def hm(
    store: Store, clock: Any, twilio: FakeTwilio, sink: SmtpSink
) -> AsyncIterator[Harness]:
    config = load_config_text(CHECKS, "checks.yaml", env={})
    settings = settings_for(twilio, **smtp(sink.port))
    async for harness in make_harness(store, clock, twilio, config, settings):
        yield harness


async def test_a_phone_message_is_paged_and_mailed_to_the_desk_once(hm: Harness, sink: SmtpSink):
    hm.clock.current = SATURDAY_3
    assert (await hm.post("/twilio/voice/inbound/recording", recording(CHARLIE)))[0] == 200
    path = "/twilio/voice/inbound/recording?caller=447700900151"
    assert (await hm.post(path, recording(None)))[0] == 200  # the status callback: same sid
    [incident] = await hm.incidents_of("wonka")
    assert (incident.severity, incident.response_due, incident.resolution_due) == (
        "mission_critical",
        datetime(2026, 11, 28, 3, 30, tzinfo=UTC),
        datetime(2026, 11, 28, 7, 0, tzinfo=UTC),
    )
    await hm.paging.tick()
    assert hm.twilio.summary() == [("sms", ALICE)]
    assert await hm.send_mail() == 1
    [mail] = await sink.wait(1)
    assert mail.to == DESK_EMAIL
    assert mail.message["Subject"] == (
        f"Phone message from Charlie Bucket (Wonka Confectionery), incident {incident.id}"
    )
    text = mail.part("plain")
    assert f"Incident {incident.id} is open for it." in text
    assert f"Caller: {CHARLIE}" in text and "Length: 17 s" in text
    assert "Listen: https://api.twilio.com/2010-04-01/Accounts/" in text
    assert ("RE" + "a" * 32 + ".mp3") in text
    assert await hm.send_mail() == 0


async def test_an_unknown_callers_message_goes_to_the_desk_email_only(hm: Harness, sink: SmtpSink):
    hm.clock.current = SATURDAY_3
    await hm.post("/twilio/voice/inbound/recording", recording(STRANGER))
    assert await hm.store.incidents() == []
    await hm.paging.tick()
    assert hm.twilio.sent == []
    await hm.send_mail()
    [mail] = await sink.wait(1)
    assert mail.message["Subject"] == f"Phone message from {STRANGER}"
    assert "not a contact of any customer" in mail.part("plain")
    assert "No incident was opened." in mail.part("plain")


async def test_a_callback_request_is_mailed_to_the_desk(hm: Harness, sink: SmtpSink):
    hm.clock.current = TUESDAY_10
    form = {"name": "Jo Bloggs", "phone": "01453 884100", "about": "Renewal"}
    assert (await hm.client.post("/status/acme/callback", data=form)).status == 200
    [incident] = await hm.incidents_of("acme")
    await hm.send_mail()
    [mail] = await sink.wait(1)
    assert mail.message["Subject"] == (
        f"Callback requested: Jo Bloggs (Acme Ltd), incident {incident.id}"
    )
    assert "asked to be called back on 01453884100" in mail.part("plain")
    assert "Renewal" in mail.part("plain")


# -- NPS ---------------------------------------------------------------------------------------


async def resolve_an_outage(h: Harness, at: datetime) -> int:
    h.clock.current = at
    incident = await h.incidents.site_failing("acme", "www", "down", at - timedelta(hours=1))
    assert incident is not None
    await h.incidents.resolve(incident.id, "alice", at)
    return incident.id


def links_of(text: str) -> list[str]:
    return re.findall(rf"{re.escape(PUBLIC_URL)}(/status/acme/nps/[A-Za-z0-9_-]+/\d+)", text)


def message_of(page: str) -> str:
    return re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('<h2 id="notice-h">', 1)[1])
    ).strip()


async def test_surveys_after_a_resolution_answered_once_by_a_click(hm: Harness, sink: SmtpSink):
    incident = await resolve_an_outage(hm, TUESDAY_10)
    assert await hm.send_mail() == 6
    received = await sink.wait(6)
    assert sorted(m.to for m in received) == sorted(
        ["jo@acme.example", "sam@acme.example"] + [f"c{n}@acme.example" for n in range(3, 7)]
    )
    jo = next(m for m in received if m.to == "jo@acme.example")
    assert jo.message["Subject"] == "How likely are you to recommend us? (Acme Ltd)"
    text = jo.part("plain")
    assert f"We have just resolved incident #{incident} (Acme website is not responding)" in text
    assert "How likely are you to recommend us to a friend or colleague?" in text
    links = links_of(text)
    assert [link.rsplit("/", 1)[1] for link in links] == [str(n) for n in range(11)]
    assert links_of(jo.part("html")) == links

    # A mail scanner's HEAD answers nothing.
    assert (await hm.client.head(links[9])).status == 200
    response = await hm.client.get(links[9])
    page = await response.text()
    assert response.status == 200
    assert message_of(page).startswith("Thank you Your answer: 9 out of 10.")
    assert 'name="comment"' in page
    # A second click changes nothing and says so.
    response = await hm.client.get(links[3])
    assert response.status == 200
    assert "You have already answered" in message_of(await response.text())
    assert "Your answer, 9 out of 10 on 24 Nov 2026 10:00 UTC, is kept: this click changed" in (
        message_of(await (await hm.client.get(links[9])).text())
    )
    [survey] = [s for s in await ReachStore(hm.store).surveys() if s.email == "jo@acme.example"]
    assert (survey.score, survey.answered_at, survey.incident_id) == (9, TUESDAY_10, incident)

    # The optional comment, once.
    comment_url = links[0].rsplit("/", 1)[0]
    response = await hm.client.post(comment_url, data={"comment": "Quick fix, thanks"})
    assert "Thank you for your comment." in await response.text()
    response = await hm.client.post(comment_url, data={"comment": "Changed my mind"})
    assert "We already have your comment; it is kept as it was." in await response.text()
    assert (await hm.client.post(comment_url, data={"comment": ""})).status == 400
    [survey] = [s for s in await ReachStore(hm.store).surveys() if s.email == "jo@acme.example"]
    assert survey.comment == "Quick fix, thanks"
    assert "We have your comment too." in await (await hm.client.get(links[9])).text()

    # Unknown surveys, and a survey under another customer's page.
    token = links[0].split("/")[4]
    assert (await hm.client.get(f"/status/acme/nps/{'x' * 32}/9")).status == 404
    assert (await hm.client.get(f"/status/globex/nps/{token}/9")).status == 404
    assert (await hm.client.get(f"/status/acme/nps/{token}/11")).status == 404
    assert (await hm.client.post(f"/status/globex/nps/{token}", data={"c": "x"})).status == 404

    value = hm.metrics.registry.get_sample_value(
        "uptimeguard_nps_responses_total", {"customer": "acme", "category": "promoter"}
    )
    assert value == 1
    assert hm.metrics.registry.get_sample_value(
        "uptimeguard_nps_responses_total", {"customer": "acme", "category": "detractor"}
    ) == 0  # fmt: skip


async def test_at_most_one_survey_per_contact_every_30_days(hm: Harness, sink: SmtpSink):
    await resolve_an_outage(hm, TUESDAY_10)
    await resolve_an_outage(hm, TUESDAY_10 + timedelta(days=29, hours=23))
    assert await hm.send_mail() == 6
    await resolve_an_outage(hm, TUESDAY_10 + timedelta(days=30))
    assert await hm.send_mail() == 6
    assert len(await sink.wait(12)) == 12
    # Customers without contacts, or without a status page, are not surveyed.
    incident = await hm.incidents.site_failing("initech", "intranet", "down", TUESDAY_10)
    assert incident is not None
    hm.clock.current = TUESDAY_10 + timedelta(days=31)
    await hm.incidents.resolve(incident.id, "alice", hm.clock.current)
    assert await hm.send_mail() == 0


async def test_the_reports_nps_by_hand(hm: Harness, sink: SmtpSink):
    await resolve_an_outage(hm, TUESDAY_10)
    await hm.send_mail()
    received = await sink.wait(6)
    by_email = {m.to: links_of(m.part("plain")) for m in received}
    # November: 10 and 9 (promoters), 8 and 7 (passives), 3 (a detractor); one answer on
    # 1 December (6), which November does not count.
    answers = [
        ("jo@acme.example", 10, TUESDAY_10),
        ("sam@acme.example", 9, TUESDAY_10 + timedelta(days=1)),
        ("c3@acme.example", 8, TUESDAY_10 + timedelta(days=2)),
        ("c4@acme.example", 7, TUESDAY_10 + timedelta(days=3)),
        ("c5@acme.example", 3, datetime(2026, 11, 30, 23, 59, tzinfo=UTC)),
        ("c6@acme.example", 6, datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
    ]
    for email, score, at in answers:
        hm.clock.current = at
        assert (await hm.client.get(by_email[email][score])).status == 200
    # By hand: 5 answers; (2 promoters - 1 detractor) / 5 = 20%.
    report = await build_report(hm.store, hm.incidents.config, "acme", "2026-11", SATURDAY_3)
    assert (report.nps.promoters, report.nps.passives, report.nps.detractors) == (2, 2, 1)
    assert report.nps.responses == 5 and report.nps.score == 20.0
    data = json.loads(render(report, "json"))
    assert data["nps"] == {
        "score": 20.0, "responses": 5, "promoters": 2, "passives": 2, "detractors": 1,
    }  # fmt: skip
    text = render(report, "text")
    assert "NPS: +20 from 5 answers: 2 promoters (9-10), 2 passives (7-8), 1 detractors" in text
    assert "NPS</h2>\n<p>+20 from 5 answers" in render(report, "html")
    assert "nps,,,,,,,,,,,,,,,,,,,,,,,,,,,,20.0,5,2,2,1" in render(report, "csv")
    # December: one detractor of one answer: -100%.
    december = await build_report(hm.store, hm.incidents.config, "acme", "2026-12", SATURDAY_3)
    assert (december.nps.responses, december.nps.score) == (1, -100.0)


@pytest.mark.skipif(vnu_missing() is not None, reason=vnu_missing() or "")
async def test_the_survey_pages_pass_the_w3c_html_checker(hm: Harness, sink: SmtpSink):
    await resolve_an_outage(hm, TUESDAY_10)
    await hm.send_mail()
    [link, *_] = links_of((await sink.wait(6))[0].part("plain"))
    first = await (await hm.client.get(link)).text()
    second = await (await hm.client.get(link)).text()
    missing = await (await hm.client.get("/status/acme/nps/" + "x" * 32 + "/1")).text()
    for page in (first, second, missing):
        assert html_errors(page) == []
