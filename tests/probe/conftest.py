"""Fixtures for probe tests: a prober, certificates made with `openssl`, raw TCP servers.

Every server listens on 127.0.0.1; nothing here reaches another host.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_dns import FakeDns
from probe_helpers import Certs

from uptimeguard.probe import Prober

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _openssl(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("certs")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    san = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    _openssl(
        "req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-days", "30",
        "-subj", "/CN=127.0.0.1", "-addext", san, cwd=d,
    )  # fmt: skip
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "60",
        "-subj", "/CN=uptimeguard test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d,
    )  # fmt: skip
    _openssl(
        "req", "-new", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1",
        cwd=d,
    )  # fmt: skip
    (d / "leaf.ext").write_text(
        f"{san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n"
        "subjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "45", "-extfile", "leaf.ext", "-out", "leaf.pem", cwd=d,
    )  # fmt: skip
    end = _openssl("x509", "-in", "leaf.pem", "-noout", "-enddate", cwd=d)
    # "notAfter=Jan  7 12:00:00 2027 GMT"
    value = " ".join(end.strip().split("=", 1)[1].split())
    not_after = datetime.strptime(value, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
    return Certs(
        ca=d / "ca.pem",
        leaf=d / "leaf.pem",
        leaf_key=d / "leaf.key",
        leaf_not_after=not_after,
        self_signed=d / "self.pem",
        self_signed_key=d / "self.key",
    )


@pytest.fixture
async def fake_dns() -> AsyncIterator[FakeDns]:
    """A name server on 127.0.0.1 that knows no names (NXDOMAIN for each)."""
    fake = await FakeDns().start()
    yield fake
    fake.close()


@pytest.fixture
async def prober(fake_dns: FakeDns) -> AsyncIterator[Prober]:
    """A prober whose lookups go to `fake_dns`, never to this machine's resolver."""
    async with Prober(dns_servers=[fake_dns.server]) as p:
        yield p


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[StreamHandler], Awaitable[int]]]:
    """Start `asyncio.start_server(handler)` on 127.0.0.1; returns its port."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(handler: StreamHandler) -> int:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                await handler(reader, writer)

        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for writer in writers:
        writer.transport.abort()
    for server in servers:
        server.close()
        await server.wait_closed()
