"""SIGKILL the leader in the middle of an outage, with three real daemons in two locations on
PostgreSQL and pages going to the fake Twilio: the incident opens once, every page of its
ladder goes exactly once (counted at the fake Twilio), the response breach is recorded at its
deadline by the new leader, and the daily rollups the leaders kept equal those of a single
node rolling up the same probes from scratch."""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from cluster_support import EU, US, Node, Targets, base_env, get, nodes_view, wait_until
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from support import free_port

from uptimeguard.config import load_config
from uptimeguard.status.rollup_job import roll_up
from uptimeguard.storage.database import make_engine, upgrade_schema
from uptimeguard.storage.models import DailyRollupRow, ProbeResultRow
from uptimeguard.storage.repository import Store

PAGING_TESTS = str(Path(__file__).resolve().parent.parent / "paging")
RELIABILITY_TESTS = str(Path(__file__).resolve().parent.parent / "reliability")
for extra in (PAGING_TESTS, RELIABILITY_TESTS):
    if extra not in sys.path:
        sys.path.insert(0, extra)

from fake_twilio import FROM, SID, TOKEN, FakeTwilio  # noqa: E402
from reliability_support import closed_today  # noqa: E402

ALICE, CAROL = "+447700900001", "+447700900003"
RESPONSE = 25  # seconds: the response target, on a 24x7 clock
GRACE = timedelta(seconds=3)
SITES = ["www", "ok1", "ok2", "ok3"]


def checks(targets: Targets) -> str:
    sites = "\n".join(f"      - {{id: {s}, url: '{targets.url(s)}'}}" for s in SITES)
    return f"""
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2, agree: 2}}
calendars:
  office: {{timezone: UTC, hours: {{{closed_today()}: "08:00-18:00"}}}}
plans:
  standard:
    calendar: office
    severities:
      mission_critical: {{response: {RESPONSE}s, resolution: 4h, clock: 24x7, out_of_hours: true}}
    causes: {{down: mission_critical, http_5xx: mission_critical}}
people:
  alice: {{name: Alice Smith, phone: "{ALICE}"}}
  carol: {{name: Carol White, phone: "{CAROL}", role: support_manager}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 3s}}
    - {{notify: oncall, via: voice, then_wait: 3s}}
    - {{notify: support_manager, via: sms, then_wait: 3s}}
    - {{notify: support_manager, via: voice}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
{sites}
"""


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_sigkill_the_leader_mid_outage(cluster_url: str, tmp_path: Path) -> None:
    twilio = await FakeTwilio().start()
    targets = await Targets().start()
    config = tmp_path / "checks.yaml"
    config.write_text(checks(targets))
    ports = {name: free_port() for name in ("eu-1", "eu-2", "us-1")}
    env = base_env(
        cluster_url,
        config,
        {
            "UPTIMEGUARD_TWILIO_ACCOUNT_SID": SID,
            "UPTIMEGUARD_TWILIO_AUTH_TOKEN": TOKEN,
            "UPTIMEGUARD_TWILIO_FROM": FROM,
            "UPTIMEGUARD_TWILIO_API_BASE": twilio.url,
            "UPTIMEGUARD_PUBLIC_URL": f"http://127.0.0.1:{ports['eu-1']}",
            "UPTIMEGUARD_ROLLUP_INTERVAL_SECONDS": "2",
            # Every probe kept raw, so the rollups can be folded again from scratch below.
            "UPTIMEGUARD_KEEP_ALL_RESULTS": "true",
            "UPTIMEGUARD_ROLLUP_GRACE_SECONDS": str(GRACE.total_seconds()),
        },
    )
    nodes = {
        name: Node(name, location, source, ports[name], tmp_path / f"{name}.log")
        for name, location, source in (("eu-1", "eu", EU), ("eu-2", "eu", EU), ("us-1", "us", US))
    }
    engine = make_engine(cluster_url)
    store = Store(engine)
    http = aiohttp.ClientSession()
    try:
        for node in nodes.values():
            node.start(env, tmp_path)
        any_node = nodes["us-1"]

        async def settled() -> bool:
            view = await nodes_view(http, any_node)
            alive = [v for v in view.values() if v["alive"]]
            return len(alive) == 3 and sum(v["sites_owned"] for v in alive) == 2 * len(SITES)

        await wait_until(settled, timeout=60)
        await wait_until(lambda: len(targets.hits) > 40, timeout=30)

        targets.fail("www")

        async def www_incidents() -> list:
            return [row for row in await store.incidents(limit=100) if row.site == "www"]

        opened = (await wait_until(www_incidents, timeout=60))[0]
        await wait_until(lambda: len(twilio.sent) >= 1, timeout=30)
        view = await nodes_view(http, any_node)
        leader = next(name for name, v in view.items() if v["leader"])
        nodes[leader].kill()
        killed = time.monotonic()
        others = [n for name, n in nodes.items() if name != leader]

        async def new_leader() -> str | None:
            view = await nodes_view(http, others[0])
            leaders = [n for n, v in view.items() if v["leader"]]
            return leaders[0] if leaders and leaders != [leader] else None

        successor = await wait_until(new_leader, timeout=30)
        # The lock went with the killed session: a new leader within a heartbeat or two.
        assert time.monotonic() - killed < 3.0
        view = await nodes_view(http, others[0])
        assert [n for n, v in view.items() if v["leader"]] == [successor]

        # The rest of the ladder, from the new leader: four rungs in all.
        await wait_until(lambda: len(twilio.sent) >= 4, timeout=60)

        # The response deadline passes with nobody acknowledging: the breach is recorded at
        # the deadline, not at the next 30 s sweep.
        due = opened.response_due
        assert due is not None

        async def breached() -> dict | None:
            body = await get(http, others[0], f"/api/v1/incidents/{opened.id}")
            return body if body and body["sla"]["response_breached"] else None

        body = await wait_until(breached, timeout=RESPONSE + 30)
        seen_at = datetime.now(UTC)
        assert parse(body["sla"]["response_breached_at"]) == due
        assert seen_at - due < timedelta(seconds=4), f"breach seen {seen_at - due} late"

        targets.heal("www")

        async def resolved() -> bool:
            row = await store.incident(opened.id)
            return row is not None and row.resolved_at is not None

        await wait_until(resolved, timeout=60)
        # One resolution SMS to each person paged.
        await wait_until(lambda: len(twilio.sent) >= 6, timeout=30)
        await wait_until(lambda: time.monotonic() > killed + 2, timeout=10)
        for node in others:
            node.stop()

        assert len(await www_incidents()) == 1
        sent = Counter(twilio.summary())
        assert sent == Counter(
            {("sms", ALICE): 2, ("call", ALICE): 1, ("sms", CAROL): 2, ("call", CAROL): 1}
        ), twilio.summary()
        bodies = [s.form.get("Body", "") for s in twilio.sms()]
        assert sum("resolved" in b.lower() for b in bodies) == 2, bodies
        assert f"node {leader} in location" in nodes[leader].text()
        assert f"node {successor} is now the leader" in nodes[successor].text()

        await same_rollups_as_one_node(cluster_url, store, config)
    finally:
        await http.close()
        for node in nodes.values():
            node.stop()
        await targets.stop()
        await twilio.stop()
        await engine.dispose()


async def same_rollups_as_one_node(cluster_url: str, store: Store, config: Path) -> None:
    """Bring the cluster's rollups (which each node folded as its results came, and wrote as it
    stopped) up to now, then roll the same probe results up from scratch in a database of
    their own, up to the same instant: every row must be the same. The nodes have stopped, so
    every result is stored: no grace is needed."""
    checks = load_config(config)
    now = datetime.now(UTC)
    async with store.engine.connect() as connection:
        query = select(DailyRollupRow.location).distinct()
        locations = sorted((await connection.execute(query)).scalars().all())
    assert locations == ["eu", "us"], "each location's nodes roll up their own results"
    for location in locations:
        await roll_up(store, checks, now, timedelta(0), location)
    name = f"ug_single_{uuid.uuid4().hex[:10]}"
    admin = make_engine(cluster_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    single = make_engine(make_url(cluster_url).set(database=name).render_as_string(False))
    try:
        await upgrade_schema(single)
        columns = [c for c in ProbeResultRow.__table__.columns if c.name != "id"]
        async with store.engine.connect() as source:
            rows = [dict(r._mapping) for r in (await source.execute(select(*columns))).all()]
        assert len(rows) > 100
        async with single.begin() as target:
            await target.execute(insert(ProbeResultRow), rows)
        alone = Store(single)
        for location in locations:
            await roll_up(alone, checks, now, timedelta(0), location)
        ours, theirs = await rollups(store), await rollups(alone)
        assert ours == theirs
    finally:
        await single.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def rollups(store: Store) -> list[tuple]:
    """Every rollup row; seconds to the microsecond (sums folded in several runs differ from
    one run's in the last bits of a float)."""
    table = DailyRollupRow.__table__
    async with store.engine.connect() as connection:
        order = (table.c.customer, table.c.site, table.c.day, table.c.location)
        query = select(table).order_by(*order)
        rows = (await connection.execute(query)).all()
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]
