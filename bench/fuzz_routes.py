"""Fuzz every HTTP route of a running daemon: no 5xx, whatever the request.

Starts the daemon in this process (`running_daemon`: the real application with its
middlewares and limits, listening on loopback, paging through a fake Twilio on loopback,
mail to an SMTP port where nothing listens), seeds its database (an outage paged out of
hours, manual incidents with public notes, a resolved one with its NPS survey, a
subscription, a phone message), then sends Hypothesis-generated requests to each route the
app's router lists (so a new route is fuzzed without a change here): paths built from the
route's own pattern and from the seeded ids and tokens, query strings, headers (bearer
tokens right and wrong, Twilio signatures valid for the request, for another, and junk) and
bodies (JSON of any shape, JSON shaped like the API's, nested 50,000 deep, form fields,
multipart, bytes). Each request comes from an address of its own in 127.0.0.0/8, so the
public forms' per-address limits do not turn every later case into a 429.

Prints the cases run and the statuses seen per route; exits 1 on any 5xx, timeout or error
the server logged.

    nice .venv/bin/python -m bench.fuzz_routes --cases 100000 [--seed N] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import logging
import random
import socket
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from hypothesis import HealthCheck, Phase, given, seed, settings
from sqlalchemy import select

import uptimeguard.app as app_module
from bench.fuzz_cases import Case, Known, Route, request_case, route_of
from uptimeguard.config import load_config_text
from uptimeguard.notify.models import SubscriberRow
from uptimeguard.paging.models import PageRow
from uptimeguard.reach.models import NpsSurveyRow
from uptimeguard.settings import Settings
from uptimeguard.storage.models import IncidentRow

ADMIN_TOKEN = "fuzz-admin-token-0123456789"
TWILIO_TOKEN = "fuzz-twilio-token-0123456789"
SID = "AC" + "0" * 32
BATCH = 100  # cases per route per round
FROM = "+15005550006"
ALICE = "+447700900001"
JO = "+447700900101"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  office: {{timezone: UTC, hours: {{{open_day}: "08:00-18:00"}}}}
plans:
  p:
    calendar: office
    severities:
      critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
      query: {{response: 8h, resolution: 10d}}
    causes: {{down: critical}}
    phone: critical
    callback: query
people:
  alice: {{name: Alice Smith, phone: "{alice}"}}
  carol: {{name: Carol White, phone: "+447700900003", role: support_manager}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  desk: {{phone: "+447700900099", email: "desk@uptimeguard.example"}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 1m}}
    - {{notify: support_manager, via: [sms, voice]}}
nps: {{every: 1d}}
customers:
  - id: acme
    name: Acme Ltd
    plan: p
    status_page: {{slug: acme, title: Acme status}}
    contacts:
      - {{name: Jo Bloggs, phone: "{jo}", email: jo@acme.example}}
    sites:
      - {{id: www, name: Web shop, url: "http://127.0.0.1:{dead}/"}}
      - {{id: api, url: "http://127.0.0.1:{port}/healthz"}}
  - id: globex
    name: Globex
    plan: p
    status_page: {{slug: globex-status}}
    sites:
      - {{id: portal, url: "http://127.0.0.1:{port}/readyz"}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def fake_twilio() -> tuple[web.AppRunner, str]:
    """Twilio's REST API as far as paging needs it: every message and call taken."""
    count = 0

    async def take(request: web.Request) -> web.Response:
        nonlocal count
        count += 1
        await request.post()
        prefix = "SM" if request.path.endswith("Messages.json") else "CA"
        return web.json_response({"sid": f"{prefix}{count:032d}", "status": "queued"}, status=201)

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/{kind}", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


@dataclass
class Server:
    """The daemon, run on an event loop of its own in a thread."""

    database_url: str
    port: int = field(default_factory=free_port)
    routes: list[Route] = field(default_factory=list)
    known: Known | None = None
    error: BaseException | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self.error is not None:
            raise RuntimeError(f"the daemon did not start: {self.error!r}")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(60)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with self._daemon() as daemon:
                self.known = await seed_database(daemon, self.public_url)
                self._ready.set()
                await self._stop.wait()
        except BaseException as error:  # reported by start()
            self.error = error
            self._ready.set()

    @contextlib.asynccontextmanager
    async def _daemon(self) -> AsyncIterator[app_module.Daemon]:
        twilio, twilio_url = await fake_twilio()
        open_day = DAYS[(datetime.now(UTC) + timedelta(days=3)).weekday()]
        config = load_config_text(
            CHECKS.format(open_day=open_day, alice=ALICE, jo=JO, dead=free_port(), port=self.port)
        )
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=self.database_url,
            listen=f"127.0.0.1:{self.port}",
            public_url=self.public_url,
            admin_token=ADMIN_TOKEN,
            twilio_account_sid=SID,
            twilio_auth_token=TWILIO_TOKEN,
            twilio_from=FROM,
            twilio_api_base=twilio_url,
            smtp_host="127.0.0.1",
            smtp_port=free_port(),  # nothing listens: mail is queued and retried
            smtp_tls="none",
            mail_from="desk@uptimeguard.example",
        )
        # The routes, as the app's router lists them (wrapping build_app is the one way in:
        # running_daemon builds the app itself).
        build = app_module.build_app

        def recording_build(context: Any) -> web.Application:
            app = build(context)
            for resource_route in app.router.routes():
                route = route_of(resource_route.method, resource_route.resource.get_info())
                if route is not None:
                    self.routes.append(route)
            return app

        app_module.build_app = recording_build  # type: ignore[assignment]
        try:
            async with app_module.running_daemon(settings, config) as daemon:
                yield daemon
        finally:
            app_module.build_app = build
            await twilio.cleanup()


async def _wait(check: Callable[[], Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the seeded database did not reach its state in time")
        await asyncio.sleep(0.2)


async def seed_database(daemon: app_module.Daemon, public_url: str) -> Known:
    """An outage paged out of hours, manual incidents (a public note, one acknowledged, one
    resolved, whose survey goes to Jo), a subscription; then what the cases draw from."""
    store = daemon.store

    async def paged() -> bool:
        async with store.sessions() as session:
            return bool((await session.scalars(select(PageRow.id))).all())

    await _wait(paged)
    now = datetime.now(UTC)
    incidents = daemon.incidents
    first = await incidents.open_manual("acme", None, "query", "Printer on fire", now, by="jo")
    await incidents.add_note(first.id, "ops", "Looking into it", now, public=True)
    second = await incidents.open_manual("globex", None, "critical", "Portal slow", now)
    await incidents.acknowledge(second.id, "ops", now, "on it")
    third = await incidents.open_manual("acme", "api", "query", "API errors", now)
    await incidents.resolve(third.id, "ops", now, "fixed")
    async with aiohttp.ClientSession() as http:  # a subscription, asked for as a person would
        await http.post(f"{public_url}/status/acme/subscribe", json={"email": "pat@example.com"})
        async with http.get(f"{public_url}/api/v1/openapi.json") as response:
            document = await response.json()

    async def surveyed() -> bool:
        async with store.sessions() as session:
            return bool((await session.scalars(select(NpsSurveyRow.token))).all())

    with contextlib.suppress(TimeoutError):
        await _wait(surveyed, timeout=10)
    async with store.sessions() as session:
        incident_ids = [str(i) for i in (await session.scalars(select(IncidentRow.id))).all()]
        page_ids = [str(i) for i in (await session.scalars(select(PageRow.id))).all()]
        tokens = list((await session.scalars(select(NpsSurveyRow.token))).all())
        tokens += list((await session.scalars(select(SubscriberRow.token))).all())
    tokens = tokens or ["A" * 32]
    severities = ["critical", "query", "bogus"]
    return Known(
        bodies=body_schemas(document),
        admin_token=ADMIN_TOKEN,
        twilio_token=TWILIO_TOKEN,
        public_url=public_url,
        values={
            "id": incident_ids,
            "page_id": page_ids,
            "slug": ["acme", "globex-status", "nobody"],
            "token": tokens,
            "score": [str(n) for n in range(11)],
        },
        fields={
            "customer": ["acme", "globex", "nobody"],
            "site": ["www", "api", "portal"],
            "severity": severities,
            "summary": ["Site down", "x" * 10_001],
            "by": ["ops", "alice"],
            "note": ["Restarted the server", "line 1\nline 2"],
            "status": ["open", "acknowledged", "resolved"],
            "email": [
                "someone@example.com",
                "jo@acme.example",
                "not an address",
                "a\x00b@example.com",
            ],
            "reason": ["Waiting for the customer", "line 1\nline 2"],
            "From": [ALICE, JO, "+15005550123", ""],
            "To": [FROM],
            "Body": ["ACK", "ACK 1", "ack #2", "HELP", "ACK 99999999999999999"],
            "Digits": ["1", "2", "9", "*", ""],
            "MessageStatus": ["delivered", "failed", "undelivered", "sent", "queued"],
            "CallStatus": ["completed", "no-answer", "busy", "ringing", "in-progress"],
            "ErrorCode": ["30003", "30006", "21211", "0"],
            "RecordingSid": ["RE" + "a" * 32, "RE" + "b" * 32],
            "RecordingUrl": [f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/x"],
            "RecordingDuration": ["0", "17", "99999"],
            "RecordingStatus": ["completed", "failed"],
            "AccountSid": [SID],
            "MessageSid": [f"SM{n:032x}" for n in range(1, 40)] + ["SM\x00", ""],
            "name": ["Jo Bloggs"],
            "phone": [JO, "01453 884100", "abc"],
            "about": ["Our site is down"],
            "comment": ["Great service", ""],
            "public": ["true"],
        },
    )


def body_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`METHOD /path/{var}` -> the JSON schema of its body, from the app's OpenAPI document
    (so a body the API takes is drawn for a route added to it later, too)."""
    found = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if isinstance(schema, dict) and schema.get("properties"):
                found[f"{method.upper()} {path}"] = schema
    return found


# -- the client -------------------------------------------------------------------------------


def send(port: int, case: Case, rng: random.Random, timeout: float = 30.0) -> int:
    """The case's status code; -1 when the connection failed, -2 on a timeout."""
    source = f"127.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
    )
    try:
        connection.putrequest(case.method, case.target, skip_accept_encoding=True)
        for name, value in case.headers:
            connection.putheader(name, value.encode("latin-1"))
        if case.body is not None:
            connection.putheader("Content-Length", str(len(case.body)))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # The server may answer (400) and close before the body is all sent: its
            # answer is still there to read.
            connection.endheaders(case.body)
        response = connection.getresponse()
        response.read()
        return response.status
    except TimeoutError:
        return -2
    except (OSError, http.client.HTTPException):
        return -1
    finally:
        connection.close()


class LoggedErrors(logging.Handler):
    """Errors the server logged: an unhandled exception in a handler above all. aiohttp's
    own tracebacks for a malformed request are counted apart: a request its parser refused
    (answered 400), and a body no handler read that aiohttp, reading it after the answer to
    keep the connection, could not decode (the client had its answer)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []
        self.malformed = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("uptimeguard.web", "aiohttp")):
            return
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError | RequestPayloadError) and (
            record.name == "aiohttp.server"
        ):
            self.malformed += 1
            return
        self.records.append(self.format(record))


@dataclass
class Tally:
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500 or s < 0)


def fuzz_route(
    port: int, route: Route, known: Known, cases: int, run_seed: int, tally: Tally
) -> None:
    """`cases` more cases for `route`, drawn from the seed `run_seed` (and the route)."""
    rng = random.Random(f"{run_seed}-{route.key}")
    counts = tally.statuses[route.key]
    wanted = sum(counts.values()) + cases

    @settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=request_case(route, known))
    def one(case: Case) -> None:
        status = send(port, case, rng)
        counts[status] += 1
        if (status >= 500 or status < 0) and len(tally.failures) < 50:
            tally.failures.append(f"{route.key} -> {status}: {case.describe()}")

    # Hypothesis may stop short of max_examples when it runs out of new cases: go again
    # (with the next seed) until the route has had its share.
    route_seed = run_seed + zlib.crc32(route.key.encode())  # each route its own draws
    for attempt in range(5):
        if sum(counts.values()) >= wanted:
            break
        seed(route_seed + attempt)(one)()


def report(tally: Tally, routes: list[Route], seconds: float, label: str, logged: int) -> str:
    statuses = sorted({s for c in tally.statuses.values() for s in c})
    width = max(len(r.key) for r in routes)
    head = f"{'route':<{width}} {'cases':>6} " + " ".join(f"{s:>5}" for s in statuses)
    lines = [
        f"fuzz_routes: {tally.cases:,} cases over {len(routes)} routes in {seconds:,.1f} s "
        f"({tally.cases / seconds:,.0f} cases/s), {label}",
        "",
        head,
    ]
    for route in routes:
        counts = tally.statuses[route.key]
        cells = " ".join(f"{counts.get(s, 0) or '':>5}" for s in statuses)
        lines.append(f"{route.key:<{width}} {sum(counts.values()):>6} {cells}")
    total = Counter[int]()
    for counts in tally.statuses.values():
        total.update(counts)
    lines.append(
        f"{'all':<{width}} {tally.cases:>6} " + " ".join(f"{total[s]:>5}" for s in statuses)
    )
    lines.append("")
    lines.append(
        f"server errors (5xx, timeouts, failed connections): {tally.server_errors}; "
        f"errors the server logged: {logged}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2_000, help="in total, over every route")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--seconds", type=float, help="stop after this long, cases or not")
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--log", help="the daemon's log (default: in a temporary folder)")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="fuzz-routes-"))
    database = args.database or f"sqlite+aiosqlite:///{folder / 'fuzz.db'}"
    log_path = Path(args.log) if args.log else folder / "daemon.log"
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    errors = LoggedErrors()
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.addHandler(errors)

    server = Server(database)
    server.start()
    assert server.known is not None
    unique = {route.key: route for route in server.routes}.values()
    routes = sorted(unique, key=lambda r: (r.formatter, r.method))
    tally = Tally()
    started = time.monotonic()
    deadline = started + args.seconds if args.seconds else float("inf")
    # In rounds over every route, so that a run stopped by --seconds has fuzzed each alike.
    batch = max(1, min(BATCH, args.cases // len(routes)))
    round_number = 0
    try:
        while tally.cases < args.cases and time.monotonic() < deadline:
            # The last round shares what is left alike.
            quota = min(batch, -(-(args.cases - tally.cases) // len(routes)))
            for route in routes:
                left = args.cases - tally.cases
                if left <= 0 or time.monotonic() >= deadline:
                    break
                cases = min(quota, left)
                fuzz_route(server.port, route, server.known, cases, args.seed + round_number, tally)
            round_number += 1
            print(
                f"round {round_number}: {tally.cases:,} cases, "
                f"{time.monotonic() - started:,.0f} s, server errors {tally.server_errors}, "
                f"logged {len(errors.records)}",
                file=sys.stderr,
                flush=True,
            )
    finally:
        seconds = time.monotonic() - started
        server.stop()
    kind = database.split(":", 1)[0].split("+", 1)[0]
    print(report(tally, routes, seconds, f"seed {args.seed}, {kind}", len(errors.records)))
    print(f"malformed requests aiohttp logged a traceback for: {errors.malformed}")
    for failure in tally.failures:
        print("FAILED", failure)
    for record in errors.records[:10]:
        print("LOGGED", record[:2000])
    print(f"daemon log: {log_path}")
    return 1 if tally.server_errors or errors.records else 0


if __name__ == "__main__":
    sys.exit(main())
