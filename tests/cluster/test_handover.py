"""Three real daemons in two locations on PostgreSQL, probes from 127.0.0.2 (eu) and 127.0.0.3
(us): every site is probed once per interval from each location; SIGKILL one eu node in
steady state and the other takes its sites within the node timeout, so no site goes unprobed
from eu for longer than interval + node timeout, and nothing is probed twice at once; the log
and `/api/v1/nodes` show the hand-over; the killed node, back under its name, takes its share
again at the same phase."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import aiohttp
from cluster_support import EU, US, Node, Targets, base_env, get, nodes_view, wait_until
from support import free_port

from uptimeguard.cluster.hrw import assign

INTERVAL, TIMEOUT = 2.0, 3.0  # seconds: the sites' interval and NODE_TIMEOUT_SECONDS
SITES = [f"s{n}" for n in range(12)]


def checks(targets: Targets) -> str:
    sites = "\n".join(f"      - {{id: {s}, url: '{targets.url(s)}'}}" for s in SITES)
    return f"""
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
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
{sites}
"""


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in pairwise(sorted(times))]


async def test_sigkill_in_steady_state_hands_over_within_the_timeout(
    cluster_url: str, tmp_path: Path
) -> None:
    targets = await Targets().start()
    config = tmp_path / "checks.yaml"
    config.write_text(checks(targets))
    env = base_env(cluster_url, config)
    nodes = {
        name: Node(name, location, source, free_port(), tmp_path / f"{name}.log")
        for name, location, source in (("eu-1", "eu", EU), ("eu-2", "eu", EU), ("us-1", "us", US))
    }
    http = aiohttp.ClientSession()
    try:
        for node in nodes.values():
            node.start(env, tmp_path)
        us = nodes["us-1"]

        async def settled() -> bool:
            view = await nodes_view(http, us)
            alive = {n: v for n, v in view.items() if v["alive"]}
            return len(alive) == 3 and sum(v["sites_owned"] for v in alive.values()) == 24

        await wait_until(settled, timeout=60)
        start = time.monotonic()
        await wait_until(lambda: time.monotonic() > start + 3 * INTERVAL, timeout=30)

        keys = [("acme", s) for s in SITES]
        owners = assign(keys, {"eu-1", "eu-2"})
        view = await nodes_view(http, us)
        victim = "eu-2" if not view["eu-2"]["leader"] else "eu-1"
        survivor = "eu-1" if victim == "eu-2" else "eu-2"
        victims = [site for (_, site) in keys if owners[("acme", site)] == victim]
        assert victims, "the split gave the victim no site; the test needs one"
        assert view[victim]["sites_owned"] == len(victims)

        # Any node answers for every site, those another node probes included.
        listed = await get(http, nodes["eu-1"], "/api/v1/sites")
        assert len(listed["sites"]) == len(SITES)
        assert all(s["last_checked"] and s["state"] == "up" for s in listed["sites"])

        nodes[victim].kill()
        killed = time.monotonic()

        async def handed_over() -> bool:
            view = await nodes_view(http, nodes[survivor])
            return view.get(victim, {}).get("state") == "dead" and view[survivor][
                "sites_owned"
            ] == len(SITES)

        await wait_until(handed_over, timeout=30)
        took = time.monotonic() - killed
        view = await nodes_view(http, nodes[survivor])
        assert [n for n, v in view.items() if v["leader"]] in (["eu-1"], ["eu-2"], ["us-1"])
        assert view[victim]["sites_owned"] == 0 and view[victim]["sites_owned_last"] == len(victims)
        assert took < TIMEOUT + 2.0, f"hand-over took {took:.1f}s"
        settled_at = time.monotonic()
        await wait_until(lambda: time.monotonic() > settled_at + 3 * INTERVAL, timeout=30)
        assert (
            f"takes {len(victims)} sites: {len(victims)} from {victim} (dead)"
            in nodes[survivor].text()
        )

        # Every site, not only the victim's, kept its rhythm from both places.
        for site in SITES:
            for source in (EU, US):
                seen = [t for t in targets.times(site, source) if t >= start]
                assert max(gaps(seen)) <= INTERVAL + TIMEOUT, (site, source, gaps(seen))
                assert min(gaps(seen)) > 0.05, f"{site} probed twice at once from {source}"
        for site in victims:
            seen = [t for t in targets.times(site, EU) if start <= t]
            assert any(t > killed for t in seen), f"{site} not probed since the kill"

        # Back under its name it takes its share again, and nothing is probed twice at once.
        nodes[victim].start(env, tmp_path)
        rejoined = time.monotonic()

        async def shared_again() -> bool:
            view = await nodes_view(http, us)
            return (
                view.get(victim, {}).get("alive") is True
                and view[victim]["sites_owned"] == len(victims)
                and view[survivor]["sites_owned"] == len(SITES) - len(victims)
            )

        await wait_until(shared_again, timeout=60)
        after = time.monotonic()
        await wait_until(lambda: time.monotonic() > after + 3 * INTERVAL, timeout=30)
        for site in SITES:
            seen = [t for t in targets.times(site, EU) if t >= rejoined - INTERVAL]
            assert max(gaps(seen)) <= INTERVAL + TIMEOUT, (site, gaps(seen))
            assert min(gaps(seen)) > 0.05, f"{site} probed twice at once after the rejoin"
        assert (
            f"hands over {len(victims)} sites: {len(victims)} to {victim}" in nodes[survivor].text()
        )
    finally:
        await http.close()
        for node in nodes.values():
            node.stop()
        await targets.stop()
