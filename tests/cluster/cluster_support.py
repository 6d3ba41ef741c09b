"""Helpers for the cluster tests: real daemons on one PostgreSQL database, and target sites
that answer each vantage point (the probe's source address) as a test says."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from support import free_port

# The vantage points: two locations on one machine, told apart by the probes' source.
EU, US = "127.0.0.2", "127.0.0.3"


@dataclass
class Hit:
    at: float  # time.monotonic() when the request arrived
    path: str
    source: str


@dataclass
class Targets:
    """One local web server for many sites (`/<site>`): each site answers 200, or 500 to the
    sources in `failing[site]` (every source: `"*"`). Every request is logged."""

    port: int = field(default_factory=free_port)
    failing: dict[str, set[str]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    def url(self, site: str) -> str:
        return f"http://127.0.0.1:{self.port}/{site}"

    def fail(self, site: str, *sources: str) -> None:
        self.failing[site] = set(sources) or {"*"}

    def heal(self, site: str) -> None:
        self.failing.pop(site, None)

    def times(self, site: str, source: str) -> list[float]:
        return [h.at for h in self.hits if h.path == f"/{site}" and h.source == source]

    async def _handle(self, request: web.Request) -> web.Response:
        source = request.remote or ""
        site = request.path.strip("/")
        self.hits.append(Hit(time.monotonic(), request.path, source))
        failing = self.failing.get(site, set())
        if "*" in failing or source in failing:
            return web.Response(status=500, text="broken from here")
        return web.Response(text="<h1>Welcome</h1>", content_type="text/html")

    async def start(self) -> Targets:
        app = web.Application()
        app.router.add_get("/{site}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class Node:
    """One `uptimeguard run` as a process."""

    name: str
    location: str
    source: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: Mapping[str, str], cwd: Path) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uptimeguard", "run"],
            env={
                **env,
                "UPTIMEGUARD_NODE": self.name,
                "UPTIMEGUARD_LOCATION": self.location,
                "UPTIMEGUARD_PROBE_SOURCE_ADDRESS": self.source,
                "UPTIMEGUARD_LISTEN": f"127.0.0.1:{self.port}",
            },
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        handle.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 30) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def base_env(
    database_url: str, config: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A daemon's environment: nothing inherited from UPTIMEGUARD_*; a 3 s node timeout."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("UPTIMEGUARD_")},
        "UPTIMEGUARD_CONFIG": str(config),
        "UPTIMEGUARD_DATABASE_URL": database_url,
        "UPTIMEGUARD_NODE_TIMEOUT_SECONDS": "3",
        "UPTIMEGUARD_WRITE_INTERVAL_SECONDS": "0.2",
        **(extra or {}),
    }


async def get(http: aiohttp.ClientSession, node: Node, path: str) -> Any:
    try:
        async with http.get(node.base + path, timeout=aiohttp.ClientTimeout(total=5)) as r:
            if r.status != 200:
                return None
            return await r.json()
    except (aiohttp.ClientError, TimeoutError):
        return None


async def nodes_view(http: aiohttp.ClientSession, node: Node) -> dict[str, dict[str, Any]]:
    """`/api/v1/nodes` of one node, by node name (empty when it does not answer)."""
    body = await get(http, node, "/api/v1/nodes")
    return {n["node"]: n for n in body["nodes"]} if body else {}


async def wait_until(check: Any, timeout: float, every: float = 0.2) -> Any:
    """Poll `check()` (sync or async) until truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s (last: {value!r})")
        await asyncio.sleep(every)
