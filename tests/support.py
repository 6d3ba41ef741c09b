"""Helpers shared by tests that run the daemon and local target sites."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from uptimeguard.storage.database import make_engine

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(
    probe: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    timeout: float = 20.0,
    every: float = 0.1,
) -> T:
    """Poll `probe` until `check` holds; fail with the last value after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if check(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(every)


class TargetSite:
    """A local website whose behaviour a test changes: `ok`, `500`, or stopped (refused).
    Paths under `/steady` answer 200 in every mode but stopped."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.mode = "ok"
        self.hits = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.mode == "500" and not request.path.startswith("/steady"):
            return web.Response(status=500, text="Internal Server Error")
        return web.Response(text="<h1>Welcome to Acme</h1>", content_type="text/html")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def get_json(session: Any, url: str, **kwargs: Any) -> Any:
    async with session.get(url, **kwargs) as response:
        return await response.json()


class TcpProxy:
    """A TCP relay in front of a server that a test can cut, as if the server were stopped:
    `cut()` resets every relayed connection and refuses new ones; `restore()` listens again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            transport = writer.transport
            if not transport.is_closing():
                transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                if not sink.transport.is_closing():
                    sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._writers -= {writer, upstream_writer}


@contextlib.asynccontextmanager
async def empty_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database, disposed of afterwards: on PostgreSQL a schema of its
    own (dropped afterwards), so tests (and people running them side by side) never see each
    other's rows."""
    schema = None
    kwargs: dict = {}
    if database_url.startswith("postgresql"):
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(database_url)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = make_engine(database_url, **kwargs)
    try:
        yield engine
    finally:
        await engine.dispose()
        if schema is not None:
            admin = make_engine(database_url)
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
