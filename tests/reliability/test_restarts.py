"""SIGKILL at random moments, twenty times, while sites go down and come back and the ladder
pages through a fake Twilio: no incident is lost or doubled, no page goes twice, and every
ladder carries on.

The kill moments and the outage schedule come from one seeded random generator
(`UPTIMEGUARD_TEST_KILL_SEED`, printed; set it to replay a run). Each daemon lives
uniformly 1 to 7 s from its spawn (start-up takes about 1.5 s, so some kills land during
start-up, some mid-probe, some mid-page). Two sites on two local servers switch between
`ok`, `500` and stopped (refused) on their own schedules. Out of hours (the calendar opens
only on a day three days from now) every incident pages alice by SMS then voice, then carol
by SMS then voice, 2 s apart, through a fake Twilio that answers 0.4 s after taking each
request, so that some kills land mid-send. After the last kill the daemon is started once
more with one site kept down, so one ladder must climb to its end with no kill in its way,
and the other goes down once more; then every site comes back and every incident must
resolve, with one resolution message to each person paged.

What a kill may cost, and the test allows: a page caught mid-send is `interrupted` and not
resent (Twilio may or may not have it); an outage the daemon was dead through, or saw only
once before a kill, has no incident; an incident's opening may be late by the time the
daemon was down. What it may not cost, and the test asserts: a page twice, two open
incidents for one site, an incident outside an outage, a ladder that stops before its end
while its incident is open, a page left `pending` or `sending`, an incident left open after
its site is back.

Set `UPTIMEGUARD_SKIP_KILL_LOOP=1` to skip this test (it takes about two minutes).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from fake_twilio import FROM, SID, TOKEN, FakeTwilio
from reliability_support import closed_today, daemon_env, start_daemon, stop_daemon
from support import TargetSite, eventually, free_port

SEED = int(os.environ.get("UPTIMEGUARD_TEST_KILL_SEED", "20261124"))
KILLS = 20
ALICE, CAROL = "+447700900001", "+447700900003"
FINAL = ("sent", "delivered", "failed", "no_answer", "cancelled", "skipped", "interrupted")

pytestmark = pytest.mark.skipif(
    os.environ.get("UPTIMEGUARD_SKIP_KILL_LOOP") == "1", reason="UPTIMEGUARD_SKIP_KILL_LOOP=1"
)

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  office: {{timezone: UTC, hours: {{{open_day}: "08:00-18:00"}}}}
plans:
  standard:
    calendar: office
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
    causes: {{down: mission_critical, http_5xx: mission_critical}}
people:
  alice: {{name: Alice Smith, phone: "{alice}"}}
  carol: {{name: Carol White, phone: "{carol}", role: support_manager}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 2s}}
    - {{notify: oncall, via: voice, then_wait: 2s}}
    - {{notify: support_manager, via: sms, then_wait: 2s}}
    - {{notify: support_manager, via: voice}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
      - {{id: www, url: "{www}"}}
      - {{id: api, url: "{api}"}}
"""


class LaggyTwilio(FakeTwilio):
    """Takes each message at once and answers 0.4 s later, as Twilio's API often does: a
    kill is then likely to land while a page is being sent (recorded here, not in the
    database), which is the case the outbox must not send twice."""

    async def _handle(self, request: web.Request, kind: str, prefix: str) -> web.Response:
        response = await super()._handle(request, kind, prefix)
        await asyncio.sleep(0.4)
        return response


@dataclass
class Site:
    """A local site whose outages the test schedules and records."""

    name: str
    target: TargetSite
    outages: list[tuple[datetime, datetime | None, str]] = field(default_factory=list)

    async def set(self, mode: str) -> None:
        """`ok`, `500` or `stopped`; an outage is recorded from leaving `ok` to coming back."""
        now = datetime.now(UTC)
        down_before = bool(self.outages) and self.outages[-1][1] is None
        if mode == "stopped":
            await self.target.stop()
        else:
            if self.target._runner is None:
                await self.target.start()
            self.target.mode = mode
        if mode != "ok" and not down_before:
            self.outages.append((now, None, mode))
        elif mode == "ok" and down_before:
            start, _, what = self.outages[-1]
            self.outages[-1] = (start, now, what)


async def chaos(site: Site, rng: random.Random, until: float) -> None:
    """Up for 3-7 s, down (500 or stopped) for 5-10 s, over and over until `until`."""
    while time.monotonic() < until:
        await asyncio.sleep(rng.uniform(3, 7))
        if time.monotonic() >= until:
            break
        await site.set(rng.choice(["500", "stopped"]))
        await asyncio.sleep(rng.uniform(5, 10))
        await site.set("ok")


def rows(db: Path, query: str) -> list[tuple]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def wait_for(check, timeout: float, every: float = 0.5):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s")
        await asyncio.sleep(every)


async def test_twenty_sigkills_lose_nothing_and_send_nothing_twice(tmp_path: Path):
    twilio = await LaggyTwilio().start()
    rng = random.Random(SEED)
    print(f"\nkill loop seed {SEED} (UPTIMEGUARD_TEST_KILL_SEED)")
    www, api = Site("www", TargetSite()), Site("api", TargetSite())
    for site in (www, api):
        await site.target.start()
    (tmp_path / "checks.yaml").write_text(
        CHECKS.format(
            open_day=closed_today(),
            alice=ALICE,
            carol=CAROL,
            www=www.target.url,
            api=api.target.url,
        )
    )
    port = free_port()
    env = daemon_env(
        tmp_path,
        port,
        {
            "UPTIMEGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "UPTIMEGUARD_TWILIO_ACCOUNT_SID": SID,
            "UPTIMEGUARD_TWILIO_AUTH_TOKEN": TOKEN,
            "UPTIMEGUARD_TWILIO_FROM": FROM,
            "UPTIMEGUARD_TWILIO_API_BASE": twilio.url,
        },
    )
    db = tmp_path / "guard.db"
    daemon = start_daemon(tmp_path, env)
    kills: list[tuple[float, datetime]] = []
    lives: list[list[datetime]] = [[datetime.now(UTC), datetime.max.replace(tzinfo=UTC)]]
    try:
        # The first start applies the migrations; it is not killed until it serves.
        await eventually(lambda: _serving(port), lambda up: up, timeout=30)
        loop_seconds = 100.0
        until = time.monotonic() + loop_seconds
        drivers = [
            asyncio.create_task(chaos(site, random.Random(rng.random()), until))
            for site in (www, api)
        ]
        for _ in range(KILLS):
            lived = rng.uniform(1.0, 7.0)
            await asyncio.sleep(lived)
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
            kills.append((lived, datetime.now(UTC)))
            lives[-1][1] = kills[-1][1]
            lives.append([datetime.now(UTC), datetime.max.replace(tzinfo=UTC)])
            daemon = start_daemon(tmp_path, env)
        for task in drivers:
            task.cancel()
        print("kills (lived s): " + ", ".join(f"{lived:.1f}" for lived, _ in kills))

        # Quiet now: www stays down through a whole ladder, api comes back.
        await api.set("ok")
        await www.set("500")
        down_since = www.outages[-1][0]

        def www_ladder_done() -> bool:
            open_www = rows(
                db, "SELECT id FROM incidents WHERE site = 'www' AND resolved_at IS NULL"
            )
            if not open_www:
                return False
            steps = rows(
                db,
                "SELECT DISTINCT step FROM pages WHERE purpose = 'ladder' AND "
                f"incident_id = {open_www[0][0]} AND status IN {FINAL!r}",
            )
            return len(steps) == 4

        await wait_for(www_ladder_done, timeout=60)
        assert daemon.poll() is None
        await www.set("ok")
        # And one more outage, of api, on a daemon the kills are done with: it is seen.
        await api.set("stopped")
        await asyncio.sleep(6)
        await wait_for(
            lambda: rows(db, "SELECT id FROM incidents WHERE site = 'api' AND resolved_at IS NULL"),
            timeout=20,
        )
        await api.set("ok")

        def settled() -> bool:
            open_ = rows(db, "SELECT count(*) FROM incidents WHERE resolved_at IS NULL")[0][0]
            busy = rows(db, "SELECT count(*) FROM pages WHERE status IN ('pending', 'sending')")[0][
                0
            ]
            return open_ == 0 and busy == 0

        await wait_for(settled, timeout=60)
        await asyncio.sleep(3)  # long enough for anything sent twice to show up
    finally:
        stop_daemon(daemon)
        for site in (www, api):
            await site.target.stop()
        await twilio.stop()

    incidents = rows(db, "SELECT id, site, opened_at, resolved_at, cause FROM incidents")
    pages = rows(
        db,
        "SELECT id, incident_id, purpose, step, phone, channel, status, body FROM pages",
    )
    log = (tmp_path / "daemon.log").read_text()
    print(
        f"outages caused: www {len(www.outages)}, api {len(api.outages)}; incidents "
        f"{len(incidents)}; pages planned {len(pages)}, by status "
        f"{dict(Counter(p[6] for p in pages))}; Twilio requests accepted {len(twilio.sent)}"
    )
    assert "Traceback" not in log, f"a traceback in {tmp_path / 'daemon.log'}"

    # No page went twice: every request Twilio took is a different (kind, number, text).
    taken = Counter((s.kind, s.to, s.form.get("Body") or s.form.get("Url")) for s in twilio.sent)
    assert max(taken.values()) == 1, [k for k, n in taken.items() if n > 1]
    # ... and each is a page the database knows, sent once, or caught mid-send.
    for kind, to, text in taken:
        if kind == "sms":
            known = [p for p in pages if p[5] == "sms" and p[4] == to and p[7] == text]
        else:
            known = [p for p in pages if p[5] == "voice" and text.endswith(f"/voice/{p[0]}")]
        assert len(known) == 1, (kind, to, text)
        assert known[0][6] in ("sent", "interrupted"), known[0]
    sent_rows = [p for p in pages if p[6] == "sent"]
    assert len(sent_rows) <= len(twilio.sent)
    # Nothing is left half-done.
    assert all(p[6] in FINAL for p in pages), Counter(p[6] for p in pages)

    by_site: dict[str, list[tuple]] = {"www": [], "api": []}
    for incident in incidents:
        by_site[incident[1]].append(incident)
    slack = timedelta(seconds=3)
    watched_outages = 0
    for name, site in (("www", www), ("api", api)):
        spans = sorted((parse(i[2]), parse(i[3]), i[0]) for i in by_site[name])
        # Never two open at once for a site, and every one resolved now the site is back.
        for (_, resolved, _), (opened, _, _) in itertools.pairwise(spans):
            assert resolved <= opened, f"{name}: overlapping incidents"
        # Each incident opened during an outage of its site, and no outage opened two.
        per_outage: Counter[int] = Counter()
        for opened, _, incident_id in spans:
            windows = [
                n
                for n, (start, end, _) in enumerate(site.outages)
                if start <= opened <= (end or datetime.now(UTC)) + slack
            ]
            assert windows, f"{name}: incident {incident_id} opened outside any outage"
            per_outage[windows[0]] += 1
        assert not per_outage or max(per_outage.values()) == 1, f"{name}: {per_outage}"
        # No outage lost: one the daemon watched for 5 s on end (2.5 s after a start, which
        # takes about 1.5 s) is covered by an incident: a probe within 2 s, a recheck 1 s
        # later, and the second failure confirms.
        for start, end, _ in site.outages:
            end = end or datetime.now(UTC)
            watched = max(
                (min(end, died) - max(start, born + timedelta(seconds=2.5))).total_seconds()
                for born, died in lives
            )
            if watched >= 5:
                covering = [i for o, r, i in spans if o <= end and r >= start]
                assert covering, f"{name}: outage {start:%H:%M:%S}-{end:%H:%M:%S} lost"
                watched_outages += 1
    # The last www incident was open through the final outage (it may have opened in an
    # earlier one that the daemon, dead or just started, never saw end).
    assert by_site["www"] and parse(by_site["www"][-1][3]) > down_since

    # Every ladder is a prefix of its steps (none skipped, whatever the kills did); the
    # last www incident, open through the quiet minute, climbed all four.
    for incident_id, *_ in incidents:
        steps = sorted({p[3] for p in pages if p[1] == incident_id and p[2] == "ladder"})
        assert steps == list(range(len(steps))), (incident_id, steps)
    last_www = by_site["www"][-1][0]
    assert sorted({p[3] for p in pages if p[1] == last_www and p[2] == "ladder"}) == [0, 1, 2, 3]
    # Everyone paged about a resolved incident was told it was resolved, once.
    for incident_id, *_ in incidents:
        attempted = {
            p[4] for p in pages if p[1] == incident_id and p[2] == "ladder"
            and p[6] in ("sent", "interrupted", "delivered", "no_answer")
        }  # fmt: skip
        told = Counter(p[4] for p in pages if p[1] == incident_id and p[2] == "resolved")
        assert set(told) == attempted, (incident_id, attempted, told)
        assert not told or max(told.values()) == 1
    interrupted = [p for p in pages if p[6] == "interrupted"]
    print(
        f"incidents per site: www {len(by_site['www'])}, api {len(by_site['api'])}; "
        f"pages interrupted by a kill: {len(interrupted)}; duplicates at Twilio: 0; "
        f"outages watched 5 s or more: {watched_outages}, each with its incident"
    )


async def _serving(port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(1)) as r,
        ):
            return r.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False
