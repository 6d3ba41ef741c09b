"""A daemon killed (SIGKILL) while the SMTP server is taking a message: after a restart the
rest are sent and nothing is sent twice."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
from pathlib import Path

import aiohttp
from reliability_support import daemon_env, start_daemon, stop_daemon
from smtp_sink import SmtpSink
from support import eventually, free_port

CHECKS = """
defaults: {interval: 10m, timeout: 1s}
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  standard:
    calendar: always
    severities: {query: {response: 8h, resolution: 10d}}
    causes: {}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    status_page: {slug: acme}
    sites:
      - {id: www, url: "http://127.0.0.1:9/"}
"""
PEOPLE = [f"person{n}@example.com" for n in range(4)]


def rows(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT recipient, status FROM mail_outbox WHERE dedupe_key LIKE 'incident:%' "
            "ORDER BY id"
        ).fetchall()


async def test_sigkill_mid_send_sends_nothing_twice(tmp_path: Path) -> None:
    (tmp_path / "checks.yaml").write_text(CHECKS)
    sink = SmtpSink()
    sink.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = daemon_env(
        tmp_path,
        port,
        {
            "UPTIMEGUARD_PUBLIC_URL": base,
            "UPTIMEGUARD_SMTP_HOST": "127.0.0.1",
            "UPTIMEGUARD_SMTP_PORT": str(sink.port),
            "UPTIMEGUARD_SMTP_TLS": "none",
            "UPTIMEGUARD_MAIL_FROM": "status@acme.example",
        },
    )
    db = tmp_path / "guard.db"
    daemon = start_daemon(tmp_path, env)
    try:
        async with aiohttp.ClientSession() as http:

            async def healthy() -> bool:
                try:
                    async with http.get(f"{base}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(healthy, bool, timeout=60)
            for person in PEOPLE:
                async with http.post(
                    f"{base}/status/acme/subscribe", json={"email": person}
                ) as response:
                    assert response.status == 202
            for message in await sink.wait(len(PEOPLE), timeout=60):
                link = re.search(r"http://\S+/confirm/[\w-]+", message.part("plain"))
                assert link is not None
                async with http.get(link.group(0)) as response:
                    assert response.status == 200

            sink.hold_seconds = 5.0  # the server takes each message, then answers late
            async with http.post(
                f"{base}/api/v1/incidents",
                json={"customer": "acme", "site": "www", "severity": "query", "summary": "x"},
            ) as response:
                assert response.status == 201
            await sink.wait(len(PEOPLE) + 1, timeout=60)  # the first is being taken...
        daemon.send_signal(signal.SIGKILL)  # ...when the daemon dies
        daemon.wait(timeout=30)
        assert [status for _, status in rows(db)].count("sending") == 1
        sink.hold_seconds = 0.0

        daemon = start_daemon(tmp_path, env, "daemon2.log")

        async def final() -> list[tuple[str, str]]:
            return await asyncio.to_thread(rows, db)

        done = await eventually(
            final, lambda r: len(r) == 4 and all(s in ("sent", "interrupted") for _, s in r),
            timeout=60,
        )  # fmt: skip
    finally:
        stop_daemon(daemon)
        sink.stop()
    assert [status for _, status in done].count("interrupted") == 1
    updates = [m.to for m in sink.messages()][len(PEOPLE) :]
    assert sorted(updates) == PEOPLE  # each person once: the one caught mid-send not again
