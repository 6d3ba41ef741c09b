"""Drives Prometheus's blackbox_exporter as Prometheus would: one `/probe?target=` scrape per
target per interval, over kept-alive connections, with Prometheus's scrape-timeout header.

Only the exporter's own process is measured as the reference; this driver's CPU is reported
beside it (it stands in for the Prometheus server that would do the scraping).

    python -m bench.blackbox_driver URLS_FILE INTERVAL TIMEOUT EXPORTER_URL STATS_FILE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from bench import refloop


async def main(
    urls: list[str], interval: float, timeout: float, exporter: str, stats: Path
) -> None:
    # The exporter probes with min(module timeout, this header - --timeout-offset).
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": f"{timeout + 0.5:g}"}
    connector = aiohttp.TCPConnector(limit=1000)
    client_timeout = aiohttp.ClientTimeout(total=timeout + 5)
    async with aiohttp.ClientSession(
        connector=connector, timeout=client_timeout, headers=headers
    ) as session:

        async def probe(url: str) -> str:
            params = {"module": "http_bench", "target": url}
            try:
                async with session.get(f"{exporter}/probe", params=params) as response:
                    body = await response.text()
            except (TimeoutError, aiohttp.ClientError) as error:
                return f"scrape_failed_{type(error).__name__}"
            if response.status != 200:
                return f"scrape_http_{response.status}"
            return "ok" if "\nprobe_success 1\n" in body else "failed"

        await refloop.run(urls, interval, probe, 1000, stats)


if __name__ == "__main__":
    urls_file, interval, timeout, exporter_url, stats_file = sys.argv[1:6]
    asyncio.run(
        main(
            refloop.read_urls(Path(urls_file)),
            float(interval),
            float(timeout),
            exporter_url,
            Path(stats_file),
        )
    )
