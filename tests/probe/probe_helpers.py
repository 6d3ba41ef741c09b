"""Helpers for probe tests (imported by the test modules; fixtures live in conftest)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp.abc import AbstractResolver, ResolveResult


@dataclass(frozen=True)
class Certs:
    """A CA, a leaf it signed for 127.0.0.1/localhost, and a self-signed leaf."""

    ca: Path
    leaf: Path
    leaf_key: Path
    leaf_not_after: datetime
    self_signed: Path
    self_signed_key: Path

    def server_context(self, cert: Path, key: Path) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca))


class MapResolver(AbstractResolver):
    """Resolves the names it was given to 127.0.0.1; every other name does not exist."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request head (the probe sends no body)."""
    return await reader.readuntil(b"\r\n\r\n")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
