"""The same hostile servers probed by us and by Prometheus's blackbox_exporter (Debian's
`prometheus-blackbox-exporter`): the verdicts (good or failed) must agree, except in the few
cases marked `stricter`, where we fail a site blackbox_exporter passes, on purpose. Each case
has a line in docs/PROBES.md saying who is right and why.

Skipped, saying why, where blackbox_exporter is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from fake_dns import FakeDns
from probe_helpers import Certs, free_port, read_request

from uptimeguard.config.models import DnsCheck, Expect, Site
from uptimeguard.probe import Prober

BLACKBOX = shutil.which("prometheus-blackbox-exporter") or (
    "/usr/bin/prometheus-blackbox-exporter"
    if Path("/usr/bin/prometheus-blackbox-exporter").exists()
    else None
)
PROBES_DOC = Path(__file__).resolve().parents[2] / "docs" / "PROBES.md"
MIB = 1 << 20
GOOD = frozenset({"up", "slow"})

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def http_reply(data: bytes, *, stall: bool = False) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(data)
        await writer.drain()
        if stall:
            await reader.read()
        writer.close()

    return handler


def endless_headers(total: int) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        line = b"X-Filler: " + b"f" * 1000 + b"\r\n"
        for _ in range(total // len(line)):
            writer.write(line)
            await writer.drain()
        writer.write(b"Content-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    return handler


def late_text() -> Handler:
    body = b"a" * (2 * MIB) + b"Welcome"
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return http_reply(head.encode() + body)


def looping() -> Handler:
    return http_reply(b"HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n")


def ping_pong(reply: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(reply)
        await writer.drain()
        writer.close()

    return handler


def ok(body: bytes = b"Welcome", extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\n"
        + extra
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )


@dataclass(frozen=True)
class Case:
    id: str
    ours: str  # our outcome
    blackbox: bool  # blackbox_exporter's probe_success
    module: str = "http_get"
    handler: Handler | None = None
    tls10: bool = False
    dns: str | None = None  # for dns cases: the name asked
    dns_hang: bool = False
    site: dict[str, object] = field(default_factory=dict)  # our Site options
    stricter: bool = False


CASES = [
    Case("healthy", "up", True, handler=http_reply(ok())),
    Case("http-503", "http_5xx", False,
         handler=http_reply(b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n")),
    Case("redirect-without-location", "content", False,
         handler=http_reply(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")),
    Case("redirect-loop", "content", False, handler=looping()),
    Case("body-stalls-half-way", "timeout", False, handler=http_reply(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\n\r\n" + b"a" * (3 * MIB // 2),
        stall=True)),
    Case("body-closes-short", "reset", False, handler=http_reply(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\n\r\n" + b"a" * (3 * MIB // 2))),
    Case("300-header-lines", "up", True, handler=http_reply(
        ok(extra=b"".join(b"X-H%d: v\r\n" % i for i in range(300))))),
    Case("70-kib-header-line", "up", True,
         handler=http_reply(ok(extra=b"X-Big: " + b"b" * 70_000 + b"\r\n"))),
    Case("chunked-with-content-length", "up", True, handler=http_reply(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n"
        b"Connection: close\r\n\r\n7\r\nWelcome\r\n0\r\n\r\n")),
    Case("head-reply-with-a-body", "up", True, module="http_head",
         handler=http_reply(ok(b"a body a HEAD reply should not have")),
         site={"method": "HEAD"}),
    Case("bytes-past-content-length", "up", True, handler=http_reply(ok() + b"GARBAGE")),
    Case("tls-1.0-only", "tls", False, module="https", tls10=True),
    Case("headers-over-256-kib", "reset", True, handler=endless_headers(MIB),
         stricter=True),
    Case("text-after-the-first-mib", "content", True, module="http_welcome",
         handler=late_text(), site={"expect": Expect(body_contains="Welcome")}, stricter=True),
    Case("tcp-ping-pong", "up", True, module="tcp_ping", handler=ping_pong(b"+PONG\r\n"),
         site={"send": "PING", "expect": Expect(line="+PONG")}),
    Case("tcp-wrong-reply", "content", False, module="tcp_ping",
         handler=ping_pong(b"-ERR\r\n"), site={"send": "PING", "expect": Expect(line="+PONG")}),
    Case("dns-a-record", "up", True, module="dns_ok", dns="www.ok.test"),
    Case("dns-no-such-name", "dns", False, module="dns_missing", dns="nowhere.test"),
    Case("dns-server-never-answers", "dns", False, module="dns_ok", dns="www.ok.test",
         dns_hang=True),
]  # fmt: skip

CONFIG = """\
modules:
  http_get:
    prober: http
    timeout: 3s
    http: {preferred_ip_protocol: ip4}
  http_head:
    prober: http
    timeout: 3s
    http: {preferred_ip_protocol: ip4, method: HEAD}
  http_welcome:
    prober: http
    timeout: 3s
    http: {preferred_ip_protocol: ip4, fail_if_body_not_matches_regexp: [Welcome]}
  https:
    prober: http
    timeout: 3s
    http: {preferred_ip_protocol: ip4, tls_config: {ca_file: "CA_FILE"}}
  tcp_ping:
    prober: tcp
    timeout: 3s
    tcp:
      preferred_ip_protocol: ip4
      query_response: [{send: "PING"}, {expect: "^\\\\+PONG"}]
  dns_ok:
    prober: dns
    timeout: 2s
    dns:
      preferred_ip_protocol: ip4
      transport_protocol: udp
      query_name: www.ok.test
      query_type: A
      validate_answer_rrs: {fail_if_none_matches_regexp: ["127\\\\.0\\\\.0\\\\.1"]}
  dns_missing:
    prober: dns
    timeout: 2s
    dns:
      preferred_ip_protocol: ip4
      transport_protocol: udp
      query_name: nowhere.test
      query_type: A
"""


@pytest.fixture(scope="module")
def blackbox(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BLACKBOX is None:
        pytest.skip("prometheus-blackbox-exporter is not installed (Debian's package)")
    config = tmp_path_factory.mktemp("blackbox") / "blackbox.yml"
    config.write_text(CONFIG.replace("CA_FILE", str(certs.ca)))
    port = free_port()
    process = subprocess.Popen(
        [BLACKBOX, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/-/healthy", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, err = process.communicate()
                pytest.fail(f"blackbox_exporter did not start: {err.decode()[-500:]}")
            time.sleep(0.2)
    yield base
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def blackbox_success(base: str, module: str, target: str) -> bool:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base}/probe", params={"module": module, "target": target}) as resp,
    ):
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith("probe_success "):
            return float(line.split()[1]) == 1.0
    raise AssertionError(f"no probe_success in blackbox_exporter's answer: {text[:300]}")


def tls10_context(certs: Certs):  # type: ignore[no-untyped-def]
    from test_probe_tls import tls10_only_context

    return tls10_only_context(certs)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_verdicts_agree(case: Case, blackbox: str, certs: Certs) -> None:
    servers: list[asyncio.Server] = []
    fake: FakeDns | None = None
    try:
        if case.dns is not None:
            fake = await FakeDns(
                records={("www.ok.test", "A"): ["127.0.0.1"]}, hang_all=case.dns_hang
            ).start()
            target = fake.server
            site = Site(id="c", url=f"dns://{case.dns}", dns=DnsCheck("A", server=fake.server))
            if case.dns == "www.ok.test":
                site = Site(id="c", url=site.url, dns=DnsCheck("A", ("127.0.0.1",), fake.server))
        else:
            if case.tls10:
                context = tls10_context(certs)

                async def silent(reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                    await reader.read()

                server = await asyncio.start_server(silent, "127.0.0.1", 0, ssl=context)
            else:
                assert case.handler is not None
                server = await asyncio.start_server(case.handler, "127.0.0.1", 0)
            servers.append(server)
            port = server.sockets[0].getsockname()[1]
            if case.module.startswith("tcp"):
                target = f"127.0.0.1:{port}"
                url = f"tcp://127.0.0.1:{port}"
            else:
                scheme = "https" if case.tls10 else "http"
                target = url = f"{scheme}://127.0.0.1:{port}/"
            site = Site(id="c", url=url, **case.site)  # type: ignore[arg-type]
        async with Prober(ssl_context=certs.client_context(), dns_timeout=1.5) as prober:
            ours = await prober.check(site, timeout=3)
        theirs = await blackbox_success(blackbox, case.module, target)
    finally:
        for server in servers:
            server.close()
        if fake is not None:
            fake.close()
    assert ours.outcome == case.ours, ours.error
    assert theirs == case.blackbox
    if case.stricter:
        assert ours.outcome not in GOOD and theirs  # we fail what blackbox_exporter passes
    else:
        assert (ours.outcome in GOOD) == theirs


def test_every_case_has_a_line_in_the_probes_doc() -> None:
    doc = PROBES_DOC.read_text()
    missing = [case.id for case in CASES if f"| `{case.id}` |" not in doc]
    assert missing == []
