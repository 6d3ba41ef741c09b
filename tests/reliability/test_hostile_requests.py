"""Requests that used to end in a 500 with a traceback: JSON nested 50,000 deep, ids written in
digits that are not ASCII ("²", "１"), and control characters (NUL above all) in the text a
request stores. Each is a 400 or 404 naming what to fix, and nothing changes.

On a running daemon (the real application, its middlewares and limits) on SQLite and on
PostgreSQL, which refuse NUL differently: PostgreSQL fails the insert, SQLite stores it and
every page that shows the text hands it on.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
import pytest
from fake_twilio import FROM, SID, TOKEN, FakeTwilio
from reliability_support import closed_today
from sqlalchemy import func, select
from support import eventually, free_port
from twilio.request_validator import RequestValidator

from uptimeguard.app import Daemon, running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.logs import setup_logging
from uptimeguard.notify.models import SubscriberRow
from uptimeguard.paging.models import PageRow
from uptimeguard.settings import Settings
from uptimeguard.storage.models import IncidentEventRow, IncidentRow

PG_URL = os.environ.get("UPTIMEGUARD_TEST_DATABASE_URL", "")
ALICE = "+447700900001"
CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  office: {{timezone: UTC, hours: {{{open_day}: "08:00-18:00"}}}}
plans:
  p:
    calendar: office
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
      query: {{response: 8h, resolution: 10d}}
    causes: {{down: mission_critical}}
people:
  alice: {{name: Alice Smith, phone: "{alice}"}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 1h}}
customers:
  - id: acme
    name: Acme Ltd
    plan: p
    status_page: {{slug: acme, title: Acme status}}
    sites:
      - {{id: www, url: "http://127.0.0.1:{dead}/"}}
"""
NESTED = "[" * 50_000
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"]


@dataclass
class Guard:
    daemon: Daemon
    base: str
    http: aiohttp.ClientSession
    twilio: FakeTwilio

    def sign(self, path: str, fields: dict[str, str]) -> str:
        """Twilio's signature, over the URL as sent (percent-encoded)."""
        url = self.base + quote(path, safe="/?=&")
        return RequestValidator(TOKEN).compute_signature(url, fields)

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.base + path, **kwargs) as response:
            text = await response.text()
            assert "Traceback" not in text
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, text

    async def call_from(self, source: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """POST `path` from the loopback address `source`."""
        connector = aiohttp.TCPConnector(local_addr=(source, 0))
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.post(self.base + path, **kwargs) as response,
        ):
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

    async def snapshot(self) -> tuple[Any, ...]:
        async with self.daemon.store.sessions() as session:
            incidents = (
                await session.execute(
                    select(IncidentRow.id, IncidentRow.status, IncidentRow.summary)
                )
            ).all()
            pages = (await session.execute(select(PageRow.id, PageRow.status))).all()
            events = await session.scalar(select(func.count()).select_from(IncidentEventRow))
        return sorted(incidents), sorted(pages), events


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}"
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("UPTIMEGUARD_TEST_DATABASE_URL does not name a PostgreSQL database")
    name = f"ug_hostile_{uuid.uuid4().hex[:10]}"
    server = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def guard(database: str, twilio: FakeTwilio) -> AsyncIterator[Guard]:
    """A daemon whose one site is down: incident 1, and an SMS to alice about it (page 1)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database,
        listen=f"127.0.0.1:{port}",
        public_url=base,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=FROM,
        twilio_api_base=twilio.url,
        # Mail to a port where nothing listens: subscriptions are offered, mail is retried.
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_tls="none",
        mail_from="desk@uptimeguard.example",
    )
    config = load_config_text(CHECKS.format(open_day=closed_today(), alice=ALICE, dead=free_port()))
    async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
        guard = Guard(daemon, base, http, twilio)

        async def settled() -> bool:
            """Page 1 sent and recorded, and nothing more moving."""
            first = await guard.snapshot()
            await asyncio.sleep(0.2)
            return first[1] == [(1, "sent")] and await guard.snapshot() == first

        await eventually(settled, bool, timeout=30)
        yield guard


async def test_json_nested_too_deep_is_a_400(guard: Guard):
    before = await guard.snapshot()
    for path in (
        "/api/v1/incidents",
        "/api/v1/incidents/1/ack",
        "/api/v1/incidents/1/resolve",
        "/api/v1/incidents/1/notes",
    ):
        for body in (NESTED, '{"a":' * 50_000):
            status, answer = await guard.call(
                "POST", path, data=body, headers={"Content-Type": "application/json"}
            )
            assert status == 400, (path, status, answer)
            assert answer == {"error": "body is not valid JSON: nested too deeply"}
    assert await guard.snapshot() == before


async def test_ids_in_digits_that_are_not_ascii_are_not_ids(guard: Guard):
    before = await guard.snapshot()
    # "²" passes str.isdigit() but int() refuses it; "１" (fullwidth) and "١" (Arabic-Indic)
    # int() reads as 1, which is no id anyone was given either.
    for digits in ("²", "¹", "１", "١"):
        status, answer = await guard.call("GET", f"/api/v1/incidents/{digits}")
        assert status == 404 and answer == {"error": f"no incident {digits!r}"}, answer
        for action in ("ack", "resolve", "notes"):
            status, answer = await guard.call(
                "POST", f"/api/v1/incidents/{digits}/{action}", json={"by": "ops", "note": "x"}
            )
            assert status == 404, (action, status, answer)
        for path in (f"/twilio/status/{digits}", f"/twilio/voice/{digits}"):
            fields = {"MessageStatus": "delivered", "CallStatus": "completed"}
            status, answer = await guard.call(
                "POST", path, data=fields, headers={"X-Twilio-Signature": guard.sign(path, fields)}
            )
            assert status == 404, (path, status, answer)
        # Signed, to a page that exists: the number inside is not taken for one either.
        path = f"/twilio/voice/1?play={digits}"
        status, answer = await guard.call(
            "POST", path, data={}, headers={"X-Twilio-Signature": guard.sign(path, {})}
        )
        assert status == 200, (path, status, answer)
        # And an SMS "ACK １" acknowledges nothing.
        fields = {"From": ALICE, "Body": f"ACK {digits}", "MessageSid": f"SM{uuid.uuid4().hex}"}
        status, answer = await guard.call(
            "POST", "/twilio/sms", data=fields,
            headers={"X-Twilio-Signature": guard.sign("/twilio/sms", fields)},
        )  # fmt: skip
        assert status == 200 and "acknowledged" not in answer, answer
    assert await guard.snapshot() == before
    # A failed page's error code in other digits is no code: the page fails all the same.
    fields = {"MessageStatus": "undelivered", "ErrorCode": "３０００３"}
    path = "/twilio/status/1"
    status, answer = await guard.call(
        "POST", path, data=fields, headers={"X-Twilio-Signature": guard.sign(path, fields)}
    )
    assert status == 204, (status, answer)
    page = await guard.daemon.paging.outbox.page(1)  # type: ignore[union-attr]
    assert page.status == "failed" and "３０００３" in page.cause, page.cause


async def test_control_characters_in_stored_text_are_a_400(guard: Guard):
    before = await guard.snapshot()
    opening = {"customer": "acme", "severity": "query", "summary": "printer on fire", "by": "jo"}
    for char in CONTROL:
        shown = f"U+{ord(char):04X}"
        cases: list[tuple[str, str, dict[str, Any]]] = [
            ("/api/v1/incidents", "summary", {**opening, "summary": f"down{char}again"}),
            ("/api/v1/incidents", "by", {**opening, "by": f"j{char}o"}),
            ("/api/v1/incidents", "customer", {**opening, "customer": f"ac{char}me"}),
            ("/api/v1/incidents/1/notes", "note", {"by": "ops", "note": f"a{char}b"}),
            ("/api/v1/incidents/1/notes", "by", {"by": f"o{char}ps", "note": "ok"}),
            ("/api/v1/incidents/1/ack", "by", {"by": f"op{char}s"}),
            ("/api/v1/incidents/1/ack", "note", {"by": "ops", "note": f"on{char}it"}),
            ("/api/v1/incidents/1/resolve", "note", {"by": "ops", "note": f"fi{char}xed"}),
            ("/api/v1/incidents/1/pause", "reason", {"by": "ops", "reason": f"wa{char}it"}),
            ("/api/v1/incidents/1/pause", "by", {"by": f"o{char}ps", "reason": "wait"}),
            ("/api/v1/incidents/1/resume", "by", {"by": f"o{char}ps"}),
        ]
        for path, field, body in cases:
            status, answer = await guard.call("POST", path, json=body)
            assert status == 400, (path, field, repr(char), status, answer)
            assert answer == {"error": f"{field}: remove the control character {shown}"}
        if char != "\ud800":  # a query string carries UTF-8 bytes: no lone surrogate in one
            status, answer = await guard.call(
                "GET", "/api/v1/incidents", params={"customer": f"ac{char}me"}
            )
            assert status == 400, (repr(char), status, answer)
            assert answer == {"error": f"customer: remove the control character {shown}"}
        # An e-mail address to subscribe, as JSON and as a form (each from an address of its
        # own: the form takes 5 requests per address in 10 minutes).
        email = f"j{char}o@acme.example"
        status, answer = await guard.call_from(
            f"127.0.1.{ord(char) % 250 + 1}", "/status/acme/subscribe", json={"email": email}
        )
        assert status == 400, (repr(char), status, answer)
        assert answer == {"error": "'email' is not an e-mail address (name@example.com)"}
        if char != "\ud800":
            status, answer = await guard.call_from(
                f"127.0.2.{ord(char) % 250 + 1}", "/status/acme/subscribe", data={"email": email}
            )
            assert status == 400 and "Not subscribed" in answer, (repr(char), status)
    assert await guard.snapshot() == before
    async with guard.daemon.store.sessions() as session:
        assert not (await session.scalars(select(SubscriberRow.id))).all()

    # Tabs and line breaks are text, where text may span lines.
    status, answer = await guard.call(
        "POST", "/api/v1/incidents/1/notes", json={"by": "ops", "note": "line 1\n\tline 2\r\n"}
    )
    assert status == 201, answer
    status, answer = await guard.call(
        "POST", "/api/v1/incidents/1/ack", json={"by": "ops\nops", "note": "x"}
    )
    assert status == 400 and answer == {"error": "by: remove the control character U+000A"}


async def test_control_characters_in_twilio_fields_are_not_stored(guard: Guard):
    """Twilio's fields are not refused (the text or keypress would be lost): what is read
    from them has each control character replaced, and nothing fails on PostgreSQL."""
    fields = {"MessageStatus": "failed", "ErrorCode": "30003\x00", "MessageSid": "SM\x00\x01"}
    path = "/twilio/status/1"
    status, answer = await guard.call(
        "POST", path, data=fields, headers={"X-Twilio-Signature": guard.sign(path, fields)}
    )
    assert status in (200, 204), answer
    async with guard.daemon.store.sessions() as session:
        texts = [
            str(value)
            for row in (await session.execute(select(PageRow))).scalars()
            for value in vars(row).values()
        ]
    assert not any("\x00" in text or "\x01" in text for text in texts)
    fields = {"From": ALICE, "Body": "ACK\x00 1", "MessageSid": f"SM{uuid.uuid4().hex}"}
    status, answer = await guard.call(
        "POST", "/twilio/sms", data=fields,
        headers={"X-Twilio-Signature": guard.sign("/twilio/sms", fields)},
    )  # fmt: skip
    assert status == 200 and "\x00" not in answer, answer


async def test_header_bytes_that_are_not_utf8_are_a_wrong_token(
    database: str, tmp_path: Path
) -> None:
    """With ADMIN_TOKEN set, a bearer token in bytes that are not UTF-8 (aiohttp hands them on
    as lone surrogates) is a wrong token: 401, not a 500 from encoding it."""
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database,
        listen=f"127.0.0.1:{port}",
        admin_token="right-token-0123456789",
    )
    config = load_config_text(CHECKS.format(open_day=closed_today(), alice=ALICE, dead=free_port()))
    async with running_daemon(settings, config):
        for raw in (b"Bearer \xff\xfe", b"Bearer right-token-0123456789\xe9", b"\xc3\x28 x"):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                b"Authorization: " + raw + b"\r\n\r\n"
            )
            answer = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            assert answer.startswith(b"HTTP/1.1 401 "), (raw, answer[:200])
            assert b"missing or wrong bearer token" in answer


async def test_a_body_not_in_its_content_encoding_is_a_400(
    guard: Guard, caplog: pytest.LogCaptureFixture
) -> None:
    """`Content-Encoding: gzip` on a body that is not gzip: 400 naming it, nothing logged as
    an unhandled error (aiohttp's read of the rest of the body, after the answer, included)."""
    before = await guard.snapshot()
    fields = {"From": ALICE, "Body": "ACK 1"}
    form = "application/x-www-form-urlencoded"
    cases = [
        ("/api/v1/incidents", b'{"customer": "acme"}', "application/json"),
        ("/api/v1/incidents/1/ack", b'{"by": "ops"}', "application/json"),
        ("/twilio/sms", b"From=%2B447700900001&Body=ACK+1", form),
        ("/status/acme/callback", b"name=Jo&phone=01453884100", form),
    ]
    for path, body, ctype in cases:
        for encoding in ("gzip", "deflate"):
            headers = {"Content-Type": ctype, "Content-Encoding": encoding}
            if path == "/twilio/sms":
                headers["X-Twilio-Signature"] = guard.sign(path, fields)
            status, answer = await guard.call("POST", path, data=body, headers=headers)
            assert status == 400, (path, encoding, status, answer)
            assert answer == {
                "error": f"the request body cannot be read: Can not decode content-encoding: "
                f"{encoding}"
            }, answer
    async with guard.http.get(f"{guard.base}/healthz") as response:
        assert response.status == 200
    assert await guard.snapshot() == before
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not logged, [r.getMessage() for r in logged]


async def test_a_malformed_request_is_one_line_in_the_log(tmp_path: Path) -> None:
    """aiohttp answers a request it cannot parse with 400 itself, and logs it at ERROR with a
    traceback: any client could fill the log with them. The daemon's logging makes each one
    WARNING line naming what was wrong."""
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        listen=f"127.0.0.1:{port}",
    )
    config = load_config_text(CHECKS.format(open_day=closed_today(), alice=ALICE, dead=free_port()))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(out):
            setup_logging(settings)
        async with running_daemon(settings, config):
            for raw in (
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: a\x7fb\r\n\r\n",
            ):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(raw)
                answer = await asyncio.wait_for(reader.read(), 10)
                writer.close()
                assert answer.split(b" ", 2)[1] in (b"400", b"200", b"405"), answer[:100]
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    text = out.getvalue()
    assert "Traceback" not in text, text[-3000:]
    refused = [line for line in text.splitlines() if "refused a malformed request" in line]
    assert len(refused) == 2, text[-3000:]
    assert all(" WARNING " in line for line in refused), refused
    assert all("Invalid header value char" in line for line in refused), refused
