"""Reference: the least an aiohttp monitor can do per probe.

One `ClientSession`, a new connection per probe (`force_close`), a total timeout, TLS verified
against the bench's CA, the body read, the status counted. No tracing, no storage, no metrics,
no incident logic.

    python -m bench.bare_aiohttp URLS_FILE INTERVAL_SECONDS TIMEOUT_SECONDS CA_FILE STATS_FILE
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path

import aiohttp

from bench import refloop


async def main(urls: list[str], interval: float, timeout: float, ca: str, stats: Path) -> None:
    context = ssl.create_default_context(cafile=ca)
    connector = aiohttp.TCPConnector(limit=1000, force_close=True, ssl=context)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:

        async def probe(url: str) -> str:
            try:
                async with session.get(url) as response:
                    await response.read()
                    return "ok" if response.status < 400 else f"http_{response.status}"
            except TimeoutError:
                return "timeout"
            except aiohttp.ClientError as error:
                return type(error).__name__

        await refloop.run(urls, interval, probe, 1000, stats)


if __name__ == "__main__":
    urls_file, interval, timeout, ca_file, stats_file = sys.argv[1:6]
    asyncio.run(
        main(
            refloop.read_urls(Path(urls_file)),
            float(interval),
            float(timeout),
            ca_file,
            Path(stats_file),
        )
    )
