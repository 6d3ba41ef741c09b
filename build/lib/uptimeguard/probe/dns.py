"""`dns://name` checks: a record of the name resolves, optionally to expected values.

Queries go to the check's own `server`, else the prober's name servers, else the system's,
through c-ares (`aiodns`). Outcomes: `dns` when there is no answer (no such name, no record
of that type, a server that fails, refuses or never answers), `content` when the answer lacks
an expected value, `slow` and `up` as for HTTP.

Values are compared normalised: addresses as addresses (`2001:db8::1` equals
`2001:0db8:0:0::1`), names without case or trailing dot, TXT strings exactly.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from datetime import datetime
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import aiodns

from uptimeguard.config.models import DnsCheck, Site
from uptimeguard.probe.classify import short
from uptimeguard.probe.result import ProbeResult

RECORDS = ("A", "AAAA", "CNAME", "MX", "NS", "TXT")


def normalise(record: str, value: str) -> str:
    """A record value as compared: see the module docstring."""
    text = value.strip()
    if record in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return text
    if record == "TXT":
        return value
    return text.rstrip(".").lower()


class DnsProber:
    """Runs DNS checks; one c-ares channel per set of name servers, opened when first used."""

    def __init__(self, servers: Sequence[str], timeout: float) -> None:
        self._servers = tuple(servers)
        self._timeout = timeout
        self._channels: dict[tuple[str, ...], aiodns.DNSResolver] = {}

    def _channel(self, server: str | None) -> aiodns.DNSResolver:
        servers = (server,) if server else self._servers
        channel = self._channels.get(servers)
        if channel is None:
            options: dict[str, Any] = {"timeout": max(self._timeout / 2.5, 0.05), "tries": 2}
            if servers:
                options["nameservers"] = list(servers)
            channel = self._channels[servers] = aiodns.DNSResolver(**options)
        return channel

    async def probe(self, site: Site, *, timeout: float, started_at: datetime) -> ProbeResult:
        check = site.dns or DnsCheck()
        name = urlsplit(site.url).hostname or ""
        t0 = perf_counter()
        outcome, error = "up", None
        try:
            async with asyncio.timeout(timeout):
                answer = await self._channel(check.server).query_dns(name, check.record)
            found = _values(check.record, answer.answer)
            if not found:
                outcome, error = "dns", f"DNS: {check.record} {name}: no records"
            else:
                outcome, error = _judge(check, name, found)
        except TimeoutError:
            outcome, error = "dns", f"DNS: {check.record} {name}: no answer within {timeout:g}s"
        except aiodns.error.DNSError as exc:
            said = exc.args[1] if len(exc.args) > 1 else str(exc)
            outcome, error = "dns", short(f"DNS: {check.record} {name}: {said}")
        total = perf_counter() - t0
        limit = site.expect.max_response
        if outcome == "up" and limit is not None and total > limit.total_seconds():
            seconds = limit.total_seconds()
            outcome, error = "slow", f"took {total:.3f}s, over max_response {seconds:g}s"
        return ProbeResult(
            url=site.url,
            outcome=outcome,
            status_code=None,
            error=error,
            started_at=started_at,
            dns=total,
            total=total,
        )

    async def close(self) -> None:
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            await channel.close()


# The field holding each record type's value in pycares' record data.
_FIELDS = {"A": "addr", "AAAA": "addr", "CNAME": "cname", "MX": "exchange", "NS": "nsdname",
           "TXT": "data"}  # fmt: skip


def _values(record: str, answer: Sequence[Any]) -> list[str]:
    """The answer's values of the record type asked (a CNAME may come with an A query)."""
    wanted = aiodns.query_type_map[record]
    values = []
    for item in answer:
        if item.type != wanted:
            continue
        raw = getattr(item.data, _FIELDS[record])
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        values.append(normalise(record, text))
    return values


def _judge(check: DnsCheck, name: str, found: list[str]) -> tuple[str, str | None]:
    missing = [v for v in check.values if normalise(check.record, v) not in found]
    if not missing:
        return "up", None
    got = ", ".join(found)
    return "content", short(f"{check.record} {name} is {got}; expected {', '.join(check.values)}")
