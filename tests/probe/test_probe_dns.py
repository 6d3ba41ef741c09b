"""Name resolution against a fake name server on 127.0.0.1 (one that answers from a table, or
never answers), and `dns://` checks. No test asks a real resolver."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from fake_dns import FakeDns

from uptimeguard.config.models import DnsCheck, Expect, Site
from uptimeguard.probe import Prober
from uptimeguard.probe.session import BoundedResolver

DEFAULT = Expect()


@pytest.fixture
async def dns() -> AsyncIterator[FakeDns]:
    fake = await FakeDns(
        records={
            ("www.ok.test", "A"): ["127.0.0.1"],
            ("www.ok.test", "AAAA"): ["2001:db8::1"],
            ("alias.ok.test", "CNAME"): ["www.ok.test."],
            ("ok.test", "MX"): ["mail.ok.test."],
            ("ok.test", "TXT"): ["v=spf1 -all"],
        },
        hang={"hung.test"} | {f"hung{i}.test" for i in range(60)},
    ).start()
    yield fake
    fake.close()


@pytest.fixture
async def site() -> AsyncIterator[int]:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text="Welcome")

    app = web.Application()
    app.router.add_get("/", home)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    yield tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()


async def test_names_resolve_through_the_configured_server(dns: FakeDns, site: int) -> None:
    async with Prober(dns_servers=[dns.server]) as prober:
        result = await prober.probe(f"http://www.ok.test:{site}/", timeout=3, expect=DEFAULT)
        missing = await prober.probe(f"http://nowhere.test:{site}/", timeout=3, expect=DEFAULT)
    assert result.outcome == "up", result.error
    assert dns.queries["www.ok.test"] >= 1
    assert missing.outcome == "dns"
    assert missing.error is not None and missing.error.startswith("DNS: nowhere.test: ")


async def test_a_lookup_that_never_answers_is_dns_within_its_own_timeout(dns: FakeDns) -> None:
    async with Prober(dns_servers=[dns.server], dns_timeout=0.5) as prober:
        result = await prober.probe("http://hung.test/", timeout=10, expect=DEFAULT)
    assert result.outcome == "dns"
    assert result.error == "DNS: hung.test: no answer from the name server within 0.5s"
    assert result.total < 5  # its own bound, not the probe's 10 s


async def test_a_probe_timeout_shorter_than_the_dns_timeout_wins(dns: FakeDns) -> None:
    async with Prober(dns_servers=[dns.server], dns_timeout=30) as prober:
        result = await prober.probe("http://hung.test/", timeout=0.3, expect=DEFAULT)
    assert result.outcome == "timeout"
    assert result.error == "timed out after 0.3s resolving the host name"


async def test_hung_lookups_do_not_hold_up_other_probes(dns: FakeDns, site: int) -> None:
    # Far more hung lookups than asyncio's default executor has threads (6 on 2 cores).
    async with Prober(dns_servers=[dns.server], dns_timeout=8) as prober:
        hung = [
            asyncio.create_task(prober.probe(f"http://hung{i}.test/", timeout=10, expect=DEFAULT))
            for i in range(60)
        ]
        await asyncio.sleep(0)  # every hung lookup has started
        healthy = [
            await prober.probe(f"http://www.ok.test:{site}/", timeout=5, expect=DEFAULT)
            for _ in range(10)
        ]
        still_waiting = sum(not task.done() for task in hung)
        for task in hung:
            task.cancel()
        await asyncio.gather(*hung, return_exceptions=True)
    assert [r.outcome for r in healthy] == ["up"] * 10
    assert still_waiting == 60  # the healthy probes finished while every hung one waited


async def test_the_resolver_bounds_each_lookup(dns: FakeDns) -> None:
    resolver = BoundedResolver([dns.server], timeout=0.3)
    try:
        with pytest.raises(OSError, match=r"no answer from the name server within 0\.3s"):
            await resolver.resolve("hung.test", 80)
        [found] = await resolver.resolve("www.ok.test", 80)
        assert found["host"] == "127.0.0.1"
    finally:
        await resolver.close()


async def test_the_probe_command_exits_at_its_timeout_on_hung_dns(dns: FakeDns) -> None:
    env = {
        **os.environ,
        "UPTIMEGUARD_PROBE_DNS_SERVERS": dns.server,
        "UPTIMEGUARD_PROBE_DNS_TIMEOUT_SECONDS": "30",
    }
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uptimeguard", "probe", "http://hung.test/", "--timeout", "2s",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    elapsed = time.monotonic() - began
    assert process.returncode == 1, err
    text = out.decode()
    assert text.startswith("timeout - total="), text
    assert 2.0 <= float(text.split("total=")[1].split("s")[0]) < 5, text
    assert "timed out after 2s resolving the host name" in text
    # 2 s of probe plus the interpreter's start and exit; it used to wait for a stuck
    # resolver thread (12 s for a 5 s timeout).
    assert elapsed < 8, elapsed


# -- dns:// checks ---------------------------------------------------------------------------


def dns_site(name: str, check: DnsCheck | None = None, **kwargs) -> Site:  # type: ignore[no-untyped-def]
    return Site(id="dns", url=f"dns://{name}", dns=check, **kwargs)


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("www.ok.test", None),
        ("www.ok.test", DnsCheck("A", ("127.0.0.1",))),
        ("www.ok.test", DnsCheck("AAAA", ("2001:0db8:0:0::1",))),
        ("alias.ok.test", DnsCheck("CNAME", ("WWW.ok.test",))),
        ("ok.test", DnsCheck("MX", ("mail.ok.test",))),
        ("ok.test", DnsCheck("TXT", ("v=spf1 -all",))),
    ],
)
async def test_a_record_that_resolves_is_up(dns: FakeDns, name, check) -> None:  # type: ignore[no-untyped-def]
    async with Prober(dns_servers=[dns.server]) as prober:
        result = await prober.check(dns_site(name, check), timeout=3)
    assert (result.outcome, result.error) == ("up", None)
    assert result.status_code is None and result.dns is not None


async def test_dns_check_failures(dns: FakeDns) -> None:
    async with Prober(dns_servers=[dns.server], dns_timeout=0.5) as prober:
        wrong = await prober.check(dns_site("www.ok.test", DnsCheck("A", ("10.0.0.9",))), timeout=3)
        missing = await prober.check(dns_site("nowhere.test"), timeout=3)
        no_record = await prober.check(dns_site("ok.test", DnsCheck("A")), timeout=3)
        hung = await prober.check(dns_site("hung.test"), timeout=1)
    assert (wrong.outcome, wrong.error) == (
        "content",
        "A www.ok.test is 127.0.0.1; expected 10.0.0.9",
    )
    assert missing.outcome == "dns" and "nowhere.test" in (missing.error or "")
    assert no_record.outcome == "dns"
    assert hung.outcome == "dns" and hung.error is not None and "hung.test" in hung.error


async def test_a_dns_check_can_name_its_own_server(dns: FakeDns) -> None:
    other = await FakeDns(records={("www.ok.test", "A"): ["192.0.2.7"]}).start()
    try:
        async with Prober(dns_servers=[dns.server]) as prober:
            check = DnsCheck("A", ("192.0.2.7",), server=other.server)
            result = await prober.check(dns_site("www.ok.test", check), timeout=3)
    finally:
        other.close()
    assert result.outcome == "up", result.error
    assert other.queries["www.ok.test"] == 1
