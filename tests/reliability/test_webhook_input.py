"""Garbage and oversized bodies on every Twilio webhook, signed and unsigned: 400, 403 or 413,
and nothing changes; and the request size limit on the admin API.

tests/paging/test_paging_webhooks.py covers well-formed requests with missing, wrong or
tampered signatures. Here the bodies themselves are wrong, on the real application (its
middlewares and its 256 KiB body limit) of a running daemon that has paged alice for a real
incident, so there is something to change: an incident to acknowledge, an SMS and a call
whose status a callback could move.

What each answer means: 413 the body is over the limit (refused before it is read, signed or
not); 400 the body is not URL-encoded form fields in UTF-8, which is all Twilio sends; 403 the
signature does not verify. A request that is form fields with a valid signature but means
nothing (fields Twilio never sends) is answered as Twilio expects, with nothing changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from fake_twilio import FROM, SID, TOKEN, FakeTwilio
from reliability_support import closed_today
from sqlalchemy import func, select
from support import eventually, free_port
from twilio.request_validator import RequestValidator

from uptimeguard.app import Daemon, running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.paging.models import PageRow
from uptimeguard.settings import Settings
from uptimeguard.storage.models import IncidentEventRow, IncidentRow

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
    causes: {{down: mission_critical}}
people:
  alice: {{name: Alice Smith, phone: "{alice}"}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 1s}}
    - {{notify: oncall, via: voice}}
customers:
  - id: acme
    name: Acme Ltd
    plan: p
    sites:
      - {{id: www, url: "http://127.0.0.1:{dead}/"}}
"""
OVER = 300 * 1024  # over the 256 KiB the server takes
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def paged(tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[tuple[Daemon, str]]:
    """A daemon whose one site is down: incident 1, an SMS (page 1) and a call (page 2)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        listen=f"127.0.0.1:{port}",
        public_url=base,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=FROM,
        twilio_api_base=twilio.url,
    )
    config = load_config_text(CHECKS.format(open_day=closed_today(), alice=ALICE, dead=free_port()))
    async with running_daemon(settings, config) as daemon:

        async def sent() -> int:
            return len(twilio.sent)

        await eventually(sent, lambda n: n == 2, timeout=20)
        yield daemon, base


async def snapshot(daemon: Daemon, twilio: FakeTwilio) -> tuple[Any, ...]:
    async with daemon.store.sessions() as session:
        incidents = (
            await session.execute(
                select(IncidentRow.id, IncidentRow.status, IncidentRow.acknowledged_at)
            )
        ).all()
        pages = (await session.execute(select(PageRow.id, PageRow.status, PageRow.cause))).all()
        events = await session.scalar(select(func.count()).select_from(IncidentEventRow))
    return sorted(incidents), sorted(pages), events, len(twilio.sent)


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(TOKEN).compute_signature(url, params)


GARBAGE: list[tuple[str, bytes, str]] = [
    ("binary", bytes(range(256)) * 16, FORM),
    ("json", b'{"From": "+447700900001", "Body": "ACK 1"}', "application/json"),
    ("xml", b"<Response><Digits>1</Digits></Response>", "text/xml"),
    ("multipart", b'--b\r\nContent-Disposition: form-data; name="Body"\r\n\r\nACK 1\r\n--b--\r\n',
     "multipart/form-data; boundary=b"),
    ("octets", b"\x00\xff" * 512, "application/octet-stream"),
]  # fmt: skip
ROUTES = ["/twilio/sms", "/twilio/voice/2", "/twilio/voice/2/gather", "/twilio/status/1"]


async def test_garbage_on_every_webhook_changes_nothing(paged, twilio: FakeTwilio):
    daemon, base = paged
    before = await snapshot(daemon, twilio)
    seen: dict[str, set[int]] = {}
    async with aiohttp.ClientSession() as http:

        async def post(path: str, body: Any, ctype: str | None, signature: str | None) -> int:
            headers = {"Content-Type": ctype} if ctype else {}
            if signature is not None:
                headers["X-Twilio-Signature"] = signature
            async with http.post(base + path, data=body, headers=headers) as response:
                text = await response.text()
                assert "Traceback" not in text and TOKEN not in text
                return response.status

        for path in ROUTES:
            url = base + path
            for name, body, ctype in GARBAGE:
                # Unsigned; signed as if the body were no fields at all (what a server that
                # ignored the body would check); and signed over the ACK it pretends to be.
                for label, signature in (
                    ("unsigned", None),
                    ("signed-empty", sign(url, {})),
                    ("signed-ack", sign(url, {"From": ALICE, "Body": "ACK 1", "Digits": "1"})),
                ):
                    status = await post(path, body, ctype, signature)
                    seen.setdefault(f"{name} {label}", set()).add(status)
                    assert status in (400, 403), (path, name, label, status)
            # Oversized, as a plain body and as chunks with no length given.
            big = "Body=ACK+1&From=" + "%2B" * (OVER // 3)
            status = await post(path, big, FORM, sign(url, {"Body": "ACK 1"}))
            seen.setdefault("oversized", set()).add(status)
            assert status == 413, (path, status)

            async def chunks() -> AsyncIterator[bytes]:
                yield b"Body=ACK+1&From="
                for _ in range(OVER // 4096 + 1):
                    yield b"x" * 4096

            status = await post(path, chunks(), FORM, None)
            seen.setdefault("oversized chunked", set()).add(status)
            assert status == 413, (path, status)
            # Form fields with a valid signature that mean nothing: answered, nothing done.
            fields = {"Foo": "<script>", "Digits": "9", "MessageStatus": "bogus", "From": "x"}
            status = await post(path, fields, None, sign(url, fields))
            seen.setdefault("signed nonsense", set()).add(status)
            assert status in (200, 204), (path, status)
        # Percent-encoded bytes that are not UTF-8 decode with replacement characters: signed
        # over what they decode to, they are a text from a stranger, answered with nothing.
        odd = "From=%ff%fe&Body=ACK%201%c3%28"
        decoded = dict(parse_qsl(odd, encoding="utf-8", errors="replace"))
        status = await post("/twilio/sms", odd, FORM, sign(base + "/twilio/sms", decoded))
        assert status == 200

    await asyncio.sleep(1.5)  # a tick of paging, in case anything was set moving
    assert await snapshot(daemon, twilio) == before
    assert (await daemon.store.incident(1)).acknowledged_at is None  # type: ignore[union-attr]
    print("\nwebhook answers: " + "; ".join(f"{k}: {sorted(v)}" for k, v in seen.items()))


async def test_admin_api_refuses_oversized_bodies(paged):
    daemon, base = paged
    count = len(await daemon.store.incidents())
    async with aiohttp.ClientSession() as http:
        body = '{"customer": "acme", "severity": "mission_critical", "summary": "' + "x" * OVER
        body += '"}'
        async with http.post(
            f"{base}/api/v1/incidents", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 413
            assert (await response.json()) == {"error": "request body too large"}

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"customer": "acme", "severity": "mission_critical", "summary": "'
            for _ in range(OVER // 4096 + 1):
                yield b"y" * 4096
            yield b'"}'

        async with http.post(
            f"{base}/api/v1/incidents", data=chunks(), headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 413
        # Just under the limit is taken (the limit is on bytes, not on what they mean).
        note = {"by": "ops", "note": "z" * 10_000}
        async with http.post(f"{base}/api/v1/incidents/1/notes", json=note) as response:
            assert response.status in (200, 201), await response.text()
    assert len(await daemon.store.incidents()) == count
