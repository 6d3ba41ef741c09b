"""The SQLite database file deleted (or replaced) while the daemon runs.

The open connection goes on writing to the unlinked file, so every write "succeeds" and, before
the fix, `/readyz` stayed 200: nothing said that everything written from then on would be gone
at the next restart. Readiness now compares the path's file with the one the daemon opened.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import aiohttp
import pytest
from support import eventually, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings

CHECKS = """
defaults: {interval: 2s, timeout: 1s}
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  p:
    calendar: always
    severities: {bug_fix: {response: 2h, resolution: 1d}}
    causes: {down: bug_fix}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
      - {id: www, url: "http://127.0.0.1:9/"}
"""


async def _readyz(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        return response.status


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_readiness_notices_the_database_file_gone(
    tmp_path: Path, how: str, caplog: pytest.LogCaptureFixture
):
    database = tmp_path / "guard.db"
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{database}",
        listen=f"127.0.0.1:{port}",
        write_interval_seconds=0.2,
    )
    url = f"http://127.0.0.1:{port}/readyz"
    async with (
        running_daemon(settings, load_config_text(CHECKS)),
        aiohttp.ClientSession() as session,
    ):
        await eventually(lambda: _readyz(session, url), lambda status: status == 200)
        if how == "replaced":  # a restore over the running daemon's file
            shutil.copy(database, tmp_path / "copy.db")
            (tmp_path / "copy.db").replace(database)
        else:
            for path in tmp_path.glob("guard.db*"):
                path.unlink()
        with caplog.at_level(logging.ERROR, logger="uptimeguard.storage.file_watch"):
            for _ in range(3):  # every check says so; the log says it once
                await eventually(lambda: _readyz(session, url), lambda status: status == 503)
    told = [r for r in caplog.records if "database file" in r.getMessage()]
    assert len(told) == 1
    assert f"the database file {database} was {how}" in told[0].getMessage()
