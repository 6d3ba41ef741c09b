"""Agreement across locations, with three real daemons in two locations on PostgreSQL whose
probes come from 127.0.0.2 (eu) and 127.0.0.3 (us).

With `agree: 2`, a site that fails for one source only opens no incident, and one that fails
for both opens exactly one, whose timeline says which locations saw what and when; it resolves
once both see it up. When every site fails from us alone (its own network), us is marked
degraded (log, `/api/v1/nodes`, metric) and opens nothing on its word, even for a site that
asks only `agree: 1`; when its network comes back it is no longer degraded."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from cluster_support import EU, US, Node, Targets, base_env, get, nodes_view, wait_until
from prometheus_client.parser import text_string_to_metric_families
from support import free_port

from uptimeguard.storage.database import make_engine
from uptimeguard.storage.repository import Store

AGREE_TWO = ["one", "both", "ok1", "ok2", "ok3"]
AGREE_ONE = ["solo1", "solo2", "solo3"]


def checks(targets: Targets) -> str:
    sites = [f"      - {{id: {s}, url: '{targets.url(s)}'}}" for s in AGREE_TWO]
    sites += [f"      - {{id: {s}, url: '{targets.url(s)}', agree: 1}}" for s in AGREE_ONE]
    body = "\n".join(sites)
    return f"""
defaults: {{interval: 3s, timeout: 2s, confirm: 2, recheck: 1s, recover: 2, agree: 2}}
calendars:
  office: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  standard:
    calendar: office
    severities:
      major: {{response: 1h, resolution: 8h, clock: 24x7, out_of_hours: true}}
    causes: {{down: major, http_5xx: major}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
{body}
"""


async def incidents(store: Store, site: str) -> list:
    return [row for row in await store.incidents(limit=1000) if row.site == site]


async def views(store: Store, site: str) -> dict[str, bool]:
    from uptimeguard.cluster.agreement_sql import views_of

    return {v.location: v.failing for v in await views_of(store.engine, "acme", site)}


async def degraded_metric(http: aiohttp.ClientSession, node: Node, location: str) -> float:
    async with http.get(node.base + "/metrics") as response:
        text = await response.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "uptimeguard_location_degraded" and sample.labels == {
                "location": location
            }:
                return sample.value
    return -1.0


async def test_locations_must_agree_and_a_failing_location_is_degraded(
    cluster_url: str, tmp_path: Path
) -> None:
    targets = await Targets().start()
    config = tmp_path / "checks.yaml"
    config.write_text(checks(targets))
    env = base_env(cluster_url, config)
    nodes = [
        Node(name, location, source, free_port(), tmp_path / f"{name}.log")
        for name, location, source in (("eu-1", "eu", EU), ("eu-2", "eu", EU), ("us-1", "us", US))
    ]
    engine = make_engine(cluster_url)
    store = Store(engine)
    http = aiohttp.ClientSession()
    try:
        for node in nodes:
            node.start(env, tmp_path)
        us = nodes[2]
        sites = len(AGREE_TWO) + len(AGREE_ONE)

        async def settled() -> bool:
            view = await nodes_view(http, us)
            alive = [v for v in view.values() if v["alive"]]
            return len(alive) == 3 and sum(v["sites_owned"] for v in alive) == 2 * sites

        await wait_until(settled, timeout=60)

        targets.fail("one", US)
        targets.fail("both")
        both = await wait_until(lambda: incidents(store, "both"), timeout=60)
        # us has confirmed "one" failing; eu, asked to probe it now, sees it up.
        await wait_until(lambda: views_of_one(store), timeout=60)
        assert "127.0.0.2" not in str(targets.failing["one"])
        await wait_until(lambda: len(targets.times("one", EU)) > 0, timeout=10)
        # Another two rounds: still nothing for "one", still one incident for "both".
        rounds = len(targets.times("one", US)) + 2
        await wait_until(lambda: len(targets.times("one", US)) >= rounds, timeout=30)
        assert await incidents(store, "one") == []
        assert len(await incidents(store, "both")) == 1
        assert len(both) == 1

        timeline = await get(http, nodes[0], f"/api/v1/incidents/{both[0].id}")
        seen = [e for e in timeline["timeline"] if e["kind"] == "locations"]
        assert seen, timeline["timeline"]
        assert "down from eu" in seen[0]["message"] and "us (" in seen[0]["message"]
        assert seen[0]["data"]["locations"] == ["eu", "us"]
        assert "since" in seen[0]["message"] and "confirmed" in seen[0]["message"]

        targets.heal("one")
        targets.heal("both")
        await wait_until(lambda: resolved(store, "both"), timeout=60)

        # us's own network fails: every site fails from 127.0.0.3 only.
        for site in AGREE_TWO + AGREE_ONE:
            targets.fail(site, US)

        async def us_degraded() -> bool:
            view = await nodes_view(http, nodes[0])
            return bool(view) and view["us-1"]["degraded"]

        await wait_until(us_degraded, timeout=60)
        # us confirms its failures (views written) but opens nothing, agree: 1 or not.
        await wait_until(lambda: failing_from(store, "us", AGREE_ONE), timeout=60)
        rounds = len(targets.times("solo1", US)) + 2
        await wait_until(lambda: len(targets.times("solo1", US)) >= rounds, timeout=30)
        for site in AGREE_ONE + AGREE_TWO:
            assert await incidents(store, site) == [] or site == "both", site
        assert len(await incidents(store, "both")) == 1
        assert await degraded_metric(http, us, "us") == 1.0
        body = await get(http, us, "/api/v1/nodes")
        assert {"location": "us", "live_nodes": 1, "degraded": True}.items() <= next(
            loc for loc in body["locations"] if loc["location"] == "us"
        ).items()
        assert "location us is degraded" in "".join(n.text() for n in nodes)

        for site in AGREE_TWO + AGREE_ONE:
            targets.heal(site)

        async def us_back() -> bool:
            view = await nodes_view(http, nodes[0])
            return bool(view) and not view["us-1"]["degraded"]

        await wait_until(us_back, timeout=60)
        assert await degraded_metric(http, us, "us") == 0.0
        assert "location us is no longer degraded" in "".join(n.text() for n in nodes)
    finally:
        await http.close()
        for node in nodes:
            node.stop()
        await targets.stop()
        await engine.dispose()


async def views_of_one(store: Store) -> bool:
    return (await views(store, "one")).get("us") is True


async def resolved(store: Store, site: str) -> bool:
    rows = await incidents(store, site)
    return bool(rows) and all(row.resolved_at is not None for row in rows)


async def failing_from(store: Store, location: str, sites: list[str]) -> bool:
    for site in sites:
        if (await views(store, site)).get(location) is not True:
            return False
    return True
