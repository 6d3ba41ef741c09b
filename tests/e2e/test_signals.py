"""The daemon as a process: SIGHUP reloads (or refuses a bad file), SIGTERM stops cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from support import free_port

SITE = """
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  p:
    calendar: always
    severities: {{bug_fix: {{response: 2h, resolution: 1d}}}}
    causes: {{down: bug_fix}}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
{sites}
"""


def checks(port: int, sites: list[str]) -> str:
    lines = "\n".join(
        f'      - {{id: {s}, url: "http://127.0.0.1:{port}/healthz", interval: 2s, timeout: 1s}}'
        for s in sites
    )
    return SITE.format(sites=lines)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.fixture
def daemon(tmp_path: Path):
    port = free_port()
    config = tmp_path / "checks.yaml"
    config.write_text(checks(port, ["one"]))
    log = (tmp_path / "daemon.log").open("w+")
    env = {
        **os.environ,
        "UPTIMEGUARD_CONFIG": str(config),
        "UPTIMEGUARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        "UPTIMEGUARD_LISTEN": f"127.0.0.1:{port}",
        "UPTIMEGUARD_ADMIN_TOKEN": "tok-123456",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uptimeguard", "run"], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: get(f"{base}/healthz")[0] == 200)
    yield process, base, config, port, tmp_path, log
    if process.poll() is None:
        process.kill()
        process.wait()


def sites(base: str) -> list[str]:
    request = urllib.request.Request(
        f"{base}/api/v1/sites", headers={"Authorization": "Bearer tok-123456"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        import json

        return sorted(s["id"] for s in json.load(response)["sites"])


def test_sighup_reloads_and_refuses_a_bad_file(daemon):
    process, base, config, port, _tmp_path, log = daemon
    assert sites(base) == ["one"]
    config.write_text(checks(port, ["one", "two"]))
    process.send_signal(signal.SIGHUP)
    wait_for(lambda: sites(base) == ["one", "two"])

    config.write_text("customers:\n  - id: acme\n    bogus: true\n")
    process.send_signal(signal.SIGHUP)
    log.flush()
    wait_for(lambda: "reload refused" in Path(log.name).read_text())
    assert sites(base) == ["one", "two"]
    assert "checks.yaml:3:5" in Path(log.name).read_text()
    assert process.poll() is None


def test_sigterm_stops_cleanly_and_keeps_results(daemon):
    process, base, _config, _port, tmp_path, log = daemon
    database = tmp_path / "d.db"

    def probed() -> bool:
        with sqlite3.connect(database) as connection:
            return connection.execute("select count(*) from site_states").fetchone()[0] > 0

    wait_for(lambda: get(f"{base}/readyz")[0] == 200)
    # Results are written in batches; stopping must flush what is queued.
    time.sleep(2.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert probed()
    with sqlite3.connect(database) as connection:
        assert connection.execute("select count(*) from probe_results").fetchone()[0] >= 1
    text = Path(log.name).read_text()
    assert "Traceback" not in text
    assert "tok-123456" not in text
