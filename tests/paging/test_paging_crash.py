"""The daemon is killed with SIGKILL in the middle of a ladder and started again: the fake
Twilio receives every step exactly once (the outbox never sends twice, never skips)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fake_twilio import FROM, SID, TOKEN, FakeTwilio
from support import eventually, free_port

ALICE, CAROL = "+447700900001", "+447700900003"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 1, recheck: 1s, recover: 1}}
calendars:
  office:                       # open only on a day three days from now: out of hours today
    timezone: UTC
    hours: {{{open_day}: "08:00-18:00"}}
plans:
  standard:
    calendar: office
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
    causes: {{down: mission_critical}}
people:
  alice: {{name: Alice Smith, phone: "{alice}"}}
  carol: {{name: Carol White, phone: "{carol}", role: support_manager}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 2s}}
    - {{notify: oncall, via: voice, then_wait: 2s}}
    - {{notify: support_manager, via: sms, then_wait: 2s}}
    - {{notify: support_manager, via: voice}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {{id: www, url: "http://127.0.0.1:{dead_port}/"}}
"""


def start(tmp_path: Path, port: int, twilio: FakeTwilio, log_name: str) -> subprocess.Popen:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("UPTIMEGUARD_")},
        "UPTIMEGUARD_CONFIG": str(tmp_path / "checks.yaml"),
        "UPTIMEGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        "UPTIMEGUARD_LISTEN": f"127.0.0.1:{port}",
        "UPTIMEGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "UPTIMEGUARD_TWILIO_ACCOUNT_SID": SID,
        "UPTIMEGUARD_TWILIO_AUTH_TOKEN": TOKEN,
        "UPTIMEGUARD_TWILIO_FROM": FROM,
        "UPTIMEGUARD_TWILIO_API_BASE": twilio.url,
    }
    log = (tmp_path / log_name).open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "uptimeguard", "run"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def test_sigkill_mid_ladder_then_restart_sends_every_step_exactly_once(tmp_path: Path):
    twilio = await FakeTwilio().start()
    open_day = DAYS[(datetime.now(UTC) + timedelta(days=3)).weekday()]
    (tmp_path / "checks.yaml").write_text(
        CHECKS.format(open_day=open_day, alice=ALICE, carol=CAROL, dead_port=free_port())
    )
    port = free_port()
    daemon = start(tmp_path, port, twilio, "first.log")
    try:
        # The site refuses connections: an incident opens, alice gets the SMS, then the call.
        async def sent() -> int:
            return len(twilio.sent)

        await eventually(sent, lambda n: n >= 2, timeout=30, every=0.02)
        daemon.send_signal(signal.SIGKILL)  # mid-ladder: two steps sent, two to go
        daemon.wait(timeout=10)
        assert twilio.summary()[:2] == [("sms", ALICE), ("call", ALICE)]

        daemon = start(tmp_path, port, twilio, "second.log")
        await eventually(sent, lambda n: n >= 4, timeout=30, every=0.1)
        await asyncio.sleep(5)  # long enough for any duplicate or extra step to show up
        assert twilio.summary() == [
            ("sms", ALICE),
            ("call", ALICE),
            ("sms", CAROL),
            ("call", CAROL),
        ]
        assert twilio.refused == []
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        await twilio.stop()

    with sqlite3.connect(tmp_path / "guard.db") as db:
        pages = db.execute("SELECT step, channel, status FROM pages ORDER BY id").fetchall()
        events = [m for (m,) in db.execute("SELECT message FROM incident_events ORDER BY id")]
    assert [(s, c) for s, c, _ in pages] == [(0, "sms"), (1, "voice"), (2, "sms"), (3, "voice")]
    # A page the kill caught mid-send is `interrupted` (Twilio had it); the rest were sent.
    assert {status for _, _, status in pages} <= {"sent", "interrupted"}
    assert sum("Call to Carol White (+447700900003) sent" in m for m in events) == 1
