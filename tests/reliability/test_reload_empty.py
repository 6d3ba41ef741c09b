"""An empty checks file, or one that drops most sites, is refused unless asked for (issue 12,
item 7).

Before the fix an empty file was accepted on SIGHUP ("reloaded: 0 sites", at INFO): every probe
stopped, status pages answered 404 and ACKs were ignored; and `run` started on an empty file.
The daemon runs as a process; each reload is a SIGHUP, and the test waits (bounded) for the
log line that answers it.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from reliability_support import daemon_env, start_daemon, stop_daemon
from support import eventually, free_port

from uptimeguard.config import ChecksConfig, load_config_text
from uptimeguard.shrink import reload_refusal, start_refusal

TOKEN = "tok-empty-123456"
HEAD = """
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  p:
    calendar: always
    severities: {bug_fix: {response: 2h, resolution: 1d}}
    causes: {down: bug_fix}
"""


def checks(sites: list[str], top: str = "") -> str:
    if not sites:
        return top + HEAD
    lines = [f'      - {{id: {s}, url: "http://127.0.0.1:9/{s}", interval: 1m}}' for s in sites]
    customer = "customers:\n  - id: acme\n    name: Acme\n    plan: p\n    sites:\n"
    return top + HEAD + customer + "\n".join(lines) + "\n"


class Daemon:
    def __init__(self, tmp_path: Path, http: aiohttp.ClientSession, port: int) -> None:
        self.checks, self.log = tmp_path / "checks.yaml", tmp_path / "daemon.log"
        self.http, self.base = http, f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.answers = 0

    async def sites(self) -> list[str]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with self.http.get(f"{self.base}/api/v1/sites", headers=headers) as response:
            return sorted(s["id"] for s in (await response.json())["sites"])

    def answered(self) -> list[str]:
        """The log's answers to reloads, in order."""
        return [
            line
            for line in self.log.read_text().splitlines()
            if "reload refused" in line or " reloaded " in line
        ]

    async def reload(self, text: str) -> str:
        """Write the file, SIGHUP, and return the log line that answers it."""
        assert self.process is not None
        self.checks.write_text(text)
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while len(self.answered()) <= self.answers:
            assert time.monotonic() < deadline, "the reload was not answered within 30 s"
            await asyncio.sleep(0.05)
        self.answers += 1
        return self.answered()[self.answers - 1]


async def test_a_reload_that_empties_or_guts_the_checks_file_is_refused(tmp_path: Path) -> None:
    port = free_port()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        daemon = Daemon(tmp_path, http, port)
        daemon.checks.write_text(checks(["a", "b", "c", "d"]))
        env = daemon_env(tmp_path, port, {"UPTIMEGUARD_ADMIN_TOKEN": TOKEN})
        daemon.process = start_daemon(tmp_path, env)

        async def up() -> list[str]:
            try:
                return await daemon.sites()
            except aiohttp.ClientError:
                return []

        try:
            await eventually(up, lambda s: s == ["a", "b", "c", "d"], timeout=30)

            # An empty file (only comments), then one without customers: refused, at ERROR.
            for text in ("# nothing here yet\n", checks([])):
                line = await daemon.reload(text)
                assert " ERROR " in line, line
                assert line.endswith(
                    f"reload refused, keeping the running configuration: {daemon.checks} has "
                    "no sites (the running configuration has 4); to stop monitoring every "
                    "site, put `allow_empty: true` at the top of the file (or run with "
                    "--allow-empty) and reload again"
                ), line
                assert await daemon.sites() == ["a", "b", "c", "d"]

            # Three of the four removed: refused. Two of four (half): accepted.
            line = await daemon.reload(checks(["a"]))
            assert " ERROR " in line and "reload refused" in line, line
            assert "removes 3 of the 4 running sites (acme/b, acme/c, acme/d), more than half" in (
                line
            )
            assert "`allow_empty: true`" in line and "--allow-empty" in line
            assert await daemon.sites() == ["a", "b", "c", "d"]
            line = await daemon.reload(checks(["a", "b"]))
            assert "reloaded" in line and ": 2 sites" in line, line
            assert await daemon.sites() == ["a", "b"]

            # Asked for in the file: accepted, down to nothing.
            line = await daemon.reload(checks([], top="allow_empty: true\n"))
            assert "reloaded" in line and ": 0 sites" in line, line
            assert await daemon.sites() == []
            assert daemon.process.poll() is None
        finally:
            stop_daemon(daemon.process)
    assert "Traceback" not in daemon.log.read_text()


def run(tmp_path: Path, text: str, *flags: str) -> subprocess.CompletedProcess[str]:
    port = free_port()
    (tmp_path / "checks.yaml").write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "uptimeguard", "run", *flags],
        env=daemon_env(tmp_path, port, {}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_an_empty_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    for text in ("", checks([])):
        result = run(tmp_path, text)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"uptimeguard: error: {tmp_path / 'checks.yaml'}: no sites to monitor; add sites, "
            "or to run with none, pass --allow-empty (or put `allow_empty: true` at the top of "
            "the file)"
        ]


async def test_allow_empty_starts_with_no_sites_and_lets_a_reload_empty_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        daemon = Daemon(tmp_path, http, port)
        daemon.checks.write_text("")
        env = daemon_env(tmp_path, port, {"UPTIMEGUARD_ADMIN_TOKEN": TOKEN})
        log = daemon.log.open("ab")
        daemon.process = subprocess.Popen(
            [sys.executable, "-m", "uptimeguard", "run", "--allow-empty"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        async def sites() -> list[str] | None:
            try:
                return await daemon.sites()
            except aiohttp.ClientError:
                return None

        try:
            await eventually(sites, lambda s: s == [], timeout=30)
            line = await daemon.reload(checks(["a", "b", "c"]))
            assert ": 3 sites" in line, line
            line = await daemon.reload("")  # --allow-empty: asked for at the start
            assert ": 0 sites" in line, line
            assert await daemon.sites() == []
        finally:
            stop_daemon(daemon.process)


def test_what_counts_as_removing_most_sites() -> None:
    def config(sites: list[str], top: str = "", customer: str = "acme") -> ChecksConfig:
        return load_config_text(checks(sites, top).replace("id: acme", f"id: {customer}"), env={})

    four = config(["a", "b", "c", "d"])
    assert reload_refusal(four, config(["a", "b"]), allow_empty=False) is None  # half
    assert reload_refusal(four, config(["a", "b", "x", "y", "z"]), allow_empty=False) is None
    refused = reload_refusal(four, config(["a"]), allow_empty=False)
    assert refused is not None and "removes 3 of the 4" in refused
    # Replaced rather than removed: renaming the customer, or one site for many, still
    # monitors as much as before. Removing most and putting back fewer does not.
    assert reload_refusal(four, config(["a", "b", "c", "d"], customer="acme2"), False) is None
    one = config(["a"])
    assert reload_refusal(one, config(["x", "y", "z"]), allow_empty=False) is None
    shrunk = reload_refusal(four, config(["a", "x"]), allow_empty=False)
    assert shrunk is not None and "removes 3 of the 4" in shrunk
    assert reload_refusal(four, config(["a"]), allow_empty=True) is None
    assert reload_refusal(four, config(["a"], top="allow_empty: true\n"), False) is None
    assert reload_refusal(config([], "allow_empty: yes\n"), config([]), False) is not None
    assert start_refusal(config([]), allow_empty=False) is not None
    assert start_refusal(config([], "allow_empty: true\n"), allow_empty=False) is None
    assert start_refusal(config([]), allow_empty=True) is None
