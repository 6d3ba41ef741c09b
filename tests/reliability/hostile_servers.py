"""Web servers for the hostile-sites test, run as a process of their own so they never take
the daemon's (or the test's) event loop.

    python hostile_servers.py healthy STATS_FILE
    python hostile_servers.py hostile STATS_FILE

Prints one JSON line with the ports it listens on (127.0.0.1), serves until SIGTERM, then
writes what it saw to STATS_FILE as JSON.

`healthy`: one port; answers every request 200 with a small body and closes; records when
each path was requested (CLOCK_MONOTONIC, comparable across processes on Linux).

`hostile`: a port per behaviour:
- `hang`: reads the request, then never answers (until the client goes away);
- `trickle`: answers one byte a second;
- `headers`: a status line, then header lines without end, as fast as the client reads;
- `huge`: a 1 GiB body, generated on the fly (64 KiB of zeros at a time), never stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import defaultdict
from typing import Any, ClassVar

HEALTHY_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n"
    b"Connection: close\r\n\r\nWelcome"
)
GIB = 1 << 30
CHUNK = b"\0" * 65536


class Healthy(asyncio.Protocol):
    hits: ClassVar[dict[str, list[float]]] = defaultdict(list)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer:
            return
        path = self.buffer.split(b" ", 2)[1].decode("latin-1")
        Healthy.hits[path].append(time.monotonic())
        self.transport.write(HEALTHY_RESPONSE)  # type: ignore[attr-defined]
        self.transport.close()


class Stats:
    def __init__(self) -> None:
        self.accepted: dict[str, int] = defaultdict(int)
        self.open: dict[str, int] = defaultdict(int)
        self.peak_open: dict[str, int] = defaultdict(int)
        self.bytes_sent: dict[str, int] = defaultdict(int)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "open": self.open,
            "peak_open": self.peak_open,
            "bytes_sent": self.bytes_sent,
        }


STATS = Stats()


async def _read_request(reader: asyncio.StreamReader) -> bool:
    try:
        await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return False
    return True


async def _until_closed(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(4096):
            pass


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _until_closed(reader)


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n" + b"x" * 64
    closed = asyncio.ensure_future(_until_closed(reader))
    try:
        for byte in response:
            if closed.done():
                return
            writer.write(bytes([byte]))
            await writer.drain()
            STATS.bytes_sent["trickle"] += 1
            await asyncio.wait([closed], timeout=1.0)
    finally:
        closed.cancel()


async def headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while not writer.transport.is_closing():
        line = b"X-Endless-%d: %s\r\n" % (n, b"h" * 100)
        writer.write(line)
        STATS.bytes_sent["headers"] += len(line)
        n += 1
        if n % 64 == 0:
            await writer.drain()


async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: %d\r\n\r\n" % GIB
    )
    sent = 0
    while sent < GIB:
        writer.write(CHUNK)
        sent += len(CHUNK)
        STATS.bytes_sent["huge"] += len(CHUNK)
        await writer.drain()


BEHAVIOURS = {"hang": hang, "trickle": trickle, "headers": headers, "huge": huge}


def _serve(name: str):  # type: ignore[no-untyped-def]
    behaviour = BEHAVIOURS[name]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        STATS.accepted[name] += 1
        STATS.open[name] += 1
        STATS.peak_open[name] = max(STATS.peak_open[name], STATS.open[name])
        try:
            if await _read_request(reader):
                await behaviour(reader, writer)
        except (ConnectionError, OSError):
            pass  # the prober gave up and closed: what we expect
        finally:
            STATS.open[name] -= 1
            writer.transport.abort()

    return handle


async def main(kind: str, stats_file: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    ports: dict[str, int] = {}
    servers = []
    if kind == "healthy":
        server = await loop.create_server(Healthy, "127.0.0.1", 0, backlog=4096)
        servers.append(server)
        ports["healthy"] = server.sockets[0].getsockname()[1]
    else:
        for name in BEHAVIOURS:
            server = await asyncio.start_server(_serve(name), "127.0.0.1", 0, backlog=4096)
            servers.append(server)
            ports[name] = server.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    await stop.wait()
    for server in servers:
        server.close()
    result: dict[str, Any] = (
        {"hits": Healthy.hits, "now": time.monotonic()} if kind == "healthy" else STATS.as_dict()
    )
    with open(stats_file, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
