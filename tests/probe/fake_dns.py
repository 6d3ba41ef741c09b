"""A name server on 127.0.0.1 for probe tests: answers from a table, or never answers.

`FakeDns.records` maps (name, type) to values, e.g. `("www.ok.test", "A"): ["127.0.0.1"]`;
a name in `hang` (or every name, with `hang_all`) gets no answer at all; any other name is
NXDOMAIN. `queries` counts what was asked.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import dnslib

RDATA = {
    "A": dnslib.A,
    "AAAA": dnslib.AAAA,
    "CNAME": dnslib.CNAME,
    "MX": dnslib.MX,
    "NS": dnslib.NS,
    "TXT": dnslib.TXT,
}


class FakeDns(asyncio.DatagramProtocol):
    def __init__(
        self,
        records: dict[tuple[str, str], list[str]] | None = None,
        hang: set[str] | None = None,
        hang_all: bool = False,
    ) -> None:
        self.records = records or {}
        self.hang = hang or set()
        self.hang_all = hang_all
        self.queries: Counter[str] = Counter()
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    async def start(self) -> FakeDns:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        self.port = transport.get_extra_info("sockname")[1]
        return self

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dnslib.DNSRecord.parse(data)
        name = str(query.q.qname).rstrip(".").lower()
        kind = dnslib.QTYPE[query.q.qtype]
        self.queries[name] += 1
        if self.hang_all or name in self.hang:
            return
        reply = query.reply()
        values = self.records.get((name, kind))
        if values is None and not any(key[0] == name for key in self.records):
            reply.header.rcode = dnslib.RCODE.NXDOMAIN
        for value in values or []:
            rdata = RDATA[kind](value)
            reply.add_answer(dnslib.RR(query.q.qname, query.q.qtype, rdata=rdata, ttl=60))
        assert self.transport is not None
        self.transport.sendto(reply.pack(), addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
