"""SQLite stays one node: a second daemon on the same file refuses to start, saying which
node holds it and to use PostgreSQL; after a SIGKILL the file is free at once. `uptimeguard
nodes` and `GET /api/v1/nodes` show the one node, leading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aiohttp
from cluster_support import Node, base_env, get, wait_until
from support import free_port

CHECKS = """
allow_empty: true
customers: []
"""


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uptimeguard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_a_second_daemon_on_one_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    config = tmp_path / "checks.yaml"
    config.write_text(CHECKS)
    database = tmp_path / "guard.db"
    env = base_env(f"sqlite+aiosqlite:///{database}", config)
    first = Node("alpha", "default", "127.0.0.1", free_port(), tmp_path / "alpha.log")
    http = aiohttp.ClientSession()
    try:
        first.start(env, tmp_path)
        await wait_until(lambda: get(http, first, "/api/v1/nodes"), timeout=60)

        listen = f"127.0.0.1:{free_port()}"
        second = run_cli({**env, "UPTIMEGUARD_NODE": "beta"}, "run", "--listen", listen)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert "is in use by node alpha" in lines[0] and "use PostgreSQL" in lines[0]
        assert str(database) in lines[0]

        report = json.loads(run_cli(env, "nodes", "--json").stdout)
        assert [(n["node"], n["state"], n["leader"]) for n in report["nodes"]] == [
            ("alpha", "alive", True)
        ]
        table = run_cli(env, "nodes").stdout
        assert table.splitlines()[0].split()[:3] == ["NODE", "LOCATION", "STATE"]
        assert table.splitlines()[1].split()[:4] == ["alpha", "default", "alive", "yes"]
        api = await get(http, first, "/api/v1/nodes")
        assert api["nodes"][0]["node"] == "alpha" and api["nodes"][0]["leader"] is True
        assert api["locations"] == [
            {"location": "default", "live_nodes": 1, "degraded": False, "degraded_since": None}
        ]

        # SIGKILL leaves no stale lock: the kernel drops it with the process.
        first.kill()
        beta = Node("beta", "default", "127.0.0.1", free_port(), tmp_path / "beta.log")
        beta.start(env, tmp_path)
        try:
            view = await wait_until(lambda: get(http, beta, "/api/v1/nodes"), timeout=60)
            states = {n["node"]: n["state"] for n in view["nodes"]}
            assert states == {"alpha": "stopped", "beta": "alive"}
        finally:
            beta.stop()
    finally:
        await http.close()
        first.stop()
