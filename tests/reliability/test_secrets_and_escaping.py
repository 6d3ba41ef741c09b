"""Secrets never reach a log line or a response; names with HTML in them reach the status page
escaped.

The secrets test runs the daemon as a process, as an operator would, with ADMIN_TOKEN,
TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN set to fresh random values, drives traffic that
logs (admin API calls with no, a wrong and the right token; an incident paged through a fake
Twilio that first fails with a 500 and an authentication error, then refuses one number;
Twilio webhooks signed and not; a reload), stops it, and greps the whole log (text and JSON
formats) and every response body and header it got for each secret.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import secrets
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fake_twilio import FakeTwilio
from reliability_support import closed_today, daemon_env, start_daemon, stop_daemon
from support import TargetSite, eventually, free_port
from twilio.request_validator import RequestValidator

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.logs import setup_logging
from uptimeguard.settings import Settings

ALICE, CAROL, ERIN = "+447700900001", "+447700900003", "+447700900005"
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
  carol: {{name: Carol White, phone: "{carol}", role: support_manager}}
  erin: {{name: Erin Black, phone: "{erin}", role: service_director}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 1s}}
    - {{notify: support_manager, via: sms, then_wait: 1s}}
    - {{notify: service_director, via: sms}}
customers:
  - id: acme
    name: Acme Ltd
    plan: p
    status_page: {{slug: acme}}
    sites:
      - {{id: www, url: "http://127.0.0.1:{dead}/"}}
"""


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_secrets_never_reach_logs_or_responses(tmp_path: Path, log_format: str):
    admin = "adm-" + secrets.token_hex(16)
    sid = "AC" + secrets.token_hex(16)
    token = secrets.token_hex(16)
    twilio = await FakeTwilio(sid=sid, token=token).start()
    twilio.fail(500, 20500, "Internal Server Error", to=ALICE, times=1)
    twilio.fail(400, 21211, "The 'To' number is not a valid phone number.", to=CAROL, times=5)
    twilio.fail(401, 20003, "Authenticate", to=ERIN, times=5)
    config = tmp_path / "checks.yaml"
    config.write_text(
        CHECKS.format(
            open_day=closed_today(), alice=ALICE, carol=CAROL, erin=ERIN, dead=free_port()
        )
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = daemon_env(
        tmp_path,
        port,
        {
            "UPTIMEGUARD_ADMIN_TOKEN": admin,
            "UPTIMEGUARD_PUBLIC_URL": base,
            "UPTIMEGUARD_TWILIO_ACCOUNT_SID": sid,
            "UPTIMEGUARD_TWILIO_AUTH_TOKEN": token,
            "UPTIMEGUARD_TWILIO_FROM": "+15005550006",
            "UPTIMEGUARD_TWILIO_API_BASE": twilio.url,
            "UPTIMEGUARD_LOG_FORMAT": log_format,
        },
    )
    daemon = start_daemon(tmp_path, env)
    seen: list[str] = []  # every response: status, headers and body
    try:
        async with aiohttp.ClientSession() as http:

            async def call(method: str, path: str, **kwargs: Any) -> tuple[int, str]:
                try:
                    async with http.request(method, base + path, **kwargs) as response:
                        text = await response.text()
                        seen.append(f"{response.status} {dict(response.headers)} {text}")
                        return response.status, text
                except aiohttp.ClientError as error:
                    return 0, str(error)

            bearer = {"Authorization": f"Bearer {admin}"}
            await eventually(lambda: call("GET", "/healthz"), lambda r: r[0] == 200, timeout=30)
            # alice's SMS meets a 500 and goes on the retry; carol's number is invalid;
            # Twilio refuses the credentials for erin's.
            await eventually(lambda: _count(twilio), lambda n: n >= 1, timeout=30)
            await eventually(lambda: _refused(twilio), lambda n: n >= 3, timeout=30)

            assert (await call("GET", "/api/v1/sites"))[0] == 401
            assert (await call("GET", "/api/v1/sites", headers={"Authorization": "Bearer"}))[
                0
            ] == 401
            wrong = {"Authorization": f"Bearer {admin[:-1]}x"}
            assert (await call("GET", "/api/v1/incidents", headers=wrong))[0] == 401
            basic = base64.b64encode(f"admin:{admin}".encode()).decode()
            assert (
                await call("GET", "/api/v1/incidents", headers={"Authorization": f"Basic {basic}"})
            )[0] == 401
            assert (await call("GET", f"/api/v1/incidents?token={admin}"))[0] == 401
            assert (await call("GET", "/api/v1/sites", headers=bearer))[0] == 200
            status, text = await call("GET", "/api/v1/incidents", headers=bearer)
            assert status == 200 and json.loads(text)["incidents"]
            assert (await call("GET", "/api/v1/incidents/1", headers=bearer))[0] == 200
            status, _ = await call(
                "POST", "/api/v1/incidents", headers=bearer, json={"customer": "acme"}
            )
            assert status == 400
            await call("POST", "/api/v1/incidents/1/notes", headers=bearer, json={"by": "x"})
            for path in ("/metrics", "/readyz", "/api/v1/openapi.json", "/status/acme.json"):
                await call("GET", path)

            # Twilio webhooks: unsigned (refused, and logged), then a signed ACK.
            ack = {
                "From": ALICE,
                "To": "+15005550006",
                "Body": "ACK 1",
                "MessageSid": "SM" + "1" * 32,
            }
            assert (await call("POST", "/twilio/sms", data=ack))[0] == 403
            signature = RequestValidator(token).compute_signature(base + "/twilio/sms", ack)
            status, text = await call(
                "POST", "/twilio/sms", data=ack, headers={"X-Twilio-Signature": signature}
            )
            assert status == 200 and "acknowledged" in text
            assert (await call("POST", "/api/v1/incidents/1/ack", headers=bearer, json={}))[0] in (
                400,
                409,
            )

            # A reload with a broken file, which logs why.
            config.write_text(config.read_text() + "\nnonsense: [\n")
            daemon.send_signal(signal.SIGHUP)
            await asyncio.sleep(1)
    finally:
        stop_daemon(daemon)
        await twilio.stop()

    log = (tmp_path / "daemon.log").read_text()
    # The grep means something only if the log saw the traffic.
    assert "Twilio refused the credentials" in log
    assert "invalid phone number" in log
    assert "X-Twilio-Signature missing or not valid" in log
    assert "reload refused" in log
    assert len(seen) >= 15
    for name, value in (("ADMIN_TOKEN", admin), ("TWILIO_AUTH_TOKEN", token), ("SID", sid)):
        assert value not in log, f"{name} is in the {log_format} log"
        leaks = [r[:200] for r in seen if value in r]
        assert not leaks, f"{name} is in a response: {leaks}"


async def _count(twilio: FakeTwilio) -> int:
    return len(twilio.sent)


async def _refused(twilio: FakeTwilio) -> int:
    return len(twilio.refused)


HOSTILE = "<script>alert(1)</script> \"onmouseover=alert(2) x='"
ESCAPING = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  p:
    calendar: always
    severities: {{bug_fix: {{response: 2h, resolution: 1d}}}}
    causes: {{down: bug_fix}}
customers:
  - id: acme
    name: {name}
    plan: p
    status_page: {{slug: acme, title: {name}}}
    sites:
      - {{id: www, name: {name}, url: "http://127.0.0.1:{dead}/"}}
      - {{id: api, name: {name}, url: "{ok}"}}
"""


async def test_html_in_names_is_escaped_on_the_status_page(tmp_path: Path):
    target = TargetSite()
    await target.start()
    quoted = json.dumps(HOSTILE)  # a YAML double-quoted string
    config = load_config_text(
        ESCAPING.format(name=quoted, dead=free_port(), ok=target.url), "checks.yaml"
    )
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        listen=f"127.0.0.1:{free_port()}",
    )
    try:
        async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{daemon.port}"
            incidents = await eventually(daemon.store.incidents, lambda r: len(r) == 1)
            note = {"by": HOSTILE, "note": f"public update {HOSTILE}", "public": True}
            async with http.post(
                f"{base}/api/v1/incidents/{incidents[0].id}/notes", json=note
            ) as response:
                assert response.status in (200, 201), await response.text()
            await asyncio.sleep(5.5)  # the page is rebuilt at most every 5 s

            async with http.get(f"{base}/status/acme") as response:
                html = await response.text()
                assert response.content_type == "text/html"
                assert response.headers["X-Content-Type-Options"] == "nosniff"
            async with http.get(f"{base}/status/acme.json") as response:
                data = await response.json()
                raw = await response.text()
                assert response.content_type == "application/json"
    finally:
        await target.stop()

    # HTML: the name is there, escaped, everywhere it appears (title, heading, sites, the
    # incident and its public note); never raw.
    assert "<script>alert(1)</script>" not in html
    assert '"onmouseover=' not in html and "x='" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;") >= 4
    assert "public update &lt;script&gt;" in html
    # JSON: the same text as data, exactly, in a JSON document a browser will not sniff as
    # HTML; the quote cannot end the string it is in.
    assert data["page"]["customer"] == HOSTILE and data["page"]["title"] == HOSTILE
    assert {site["name"] for site in data["sites"]} == {HOSTILE}
    assert '\\"onmouseover=' in raw
    (incident,) = data["incidents"]["open"]
    assert HOSTILE in incident["title"]
    assert f"public update {HOSTILE}" in [u["message"] for u in incident["updates"]]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_secret_in_an_exception_is_scrubbed_from_its_traceback(log_format: str):
    """An exception's text can carry a secret (a header echoed in an error, a URL with the
    account SID in it); the traceback written with it is scrubbed like the message."""
    token, sid = "tok-" + secrets.token_hex(8), "AC" + secrets.token_hex(16)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        admin_token=token,
        twilio_account_sid=sid,
        log_format=log_format,
    )
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(out):
            setup_logging(settings)
            try:
                raise RuntimeError(f"POST /Accounts/{sid}/Messages.json with Bearer {token}")
            except RuntimeError:
                logging.getLogger("uptimeguard.test").exception("failed for %s", sid)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    text = out.getvalue()
    assert "RuntimeError" in text and "***" in text
    assert token not in text and sid not in text
