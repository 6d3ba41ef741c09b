"""A real Prometheus on 127.0.0.1 scraping one target: no alerting, no remote write, nothing
but loopback."""

from __future__ import annotations

import contextlib
import math
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from support import eventually, free_port


@dataclass
class Prometheus:
    url: str
    http: aiohttp.ClientSession
    started: float

    async def api(self, path: str, **params: str) -> dict[str, Any]:
        """POST a query the way Grafana does (httpMethod POST); the JSON answer, errors too."""
        async with self.http.post(f"{self.url}/api/v1/{path}", data=params) as response:
            return await response.json()

    async def get(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        async with self.http.get(f"{self.url}/api/v1/{path}", params=params) as response:
            body = await response.json()
        assert body["status"] == "success", body
        return body["data"]

    async def value(self, query: str) -> float:
        """The one value of an instant query, NaN when it has none."""
        data = (await self.api("query", query=query))["data"]["result"]
        return float(data[0]["value"][1]) if len(data) == 1 else math.nan


@contextlib.asynccontextmanager
async def running_prometheus(
    binary: str,
    target: str,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    interval: str = "1s",
    timeout: str = "1s",
) -> AsyncIterator[Prometheus]:
    """Prometheus scraping `target` (host:port) as job `uptimeguard` every `interval`."""
    config = {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": timeout,
            "evaluation_interval": interval,
        },
        "scrape_configs": [{"job_name": "uptimeguard", "static_configs": [{"targets": [target]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        server = Prometheus(f"http://127.0.0.1:{port}", http, time.time())

        async def ready() -> int:
            if process.poll() is not None:
                log_text = (tmp_path / "prometheus.log").read_text()
                raise AssertionError(f"prometheus exited: {log_text}")
            try:
                async with http.get(f"{server.url}/-/ready") as response:
                    return response.status
            except aiohttp.ClientConnectionError:
                return 0

        await eventually(ready, lambda status: status == 200, timeout=30)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
