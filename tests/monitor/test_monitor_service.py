"""The monitor with fakes at its edges: what it tells incidents, and retries when it cannot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from uptimeguard.config import load_config_text
from uptimeguard.metrics import Metrics
from uptimeguard.monitor.scheduler import next_slot_in
from uptimeguard.monitor.service import IncidentSignal, Monitor, squash
from uptimeguard.probe import ProbeResult

CHECKS = """
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
plans:
  p:
    calendar: always
    severities: {bug_fix: {response: 2h, resolution: 1d}}
    causes: {down: bug_fix}
customers:
  - id: acme
    name: Acme
    plan: p
    sites:
      - id: www
        url: "http://127.0.0.1:9/"
        maintenance: [{from: "2026-11-24T12:00", to: "2026-11-24T13:00"}]
"""
KEY = ("acme", "www")


class ScriptedProber:
    def __init__(self, outcomes: list[str]) -> None:
        self.outcomes = outcomes

    async def check(self, site, *, timeout, started_at):  # type: ignore[no-untyped-def]
        return ProbeResult(
            url=site.url,
            outcome=self.outcomes.pop(0),
            status_code=None,
            error="scripted",
            started_at=started_at,
            total=0.01,
        )


class FlakyIncidents:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple] = []

    async def site_failing(self, customer, site, cause, now, detail=""):  # type: ignore[no-untyped-def]
        return self._call(("failing", cause, now))

    async def site_recovered(self, customer, site, now):  # type: ignore[no-untyped-def]
        return self._call(("recovered", now))

    def _call(self, what: tuple) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("database unreachable")
        self.calls.append(what)


class ListWriter:
    def __init__(self) -> None:
        self.results: list[dict] = []
        self.states: list[dict | None] = []

    rollups = None  # results are kept raw, none folded

    def add(
        self, result: dict, state: dict | None = None, span: object = None, zone: str = "UTC"
    ) -> None:
        self.results.append(result)
        self.states.append(state)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def make_monitor(outcomes: list[str], incidents, clock) -> tuple[Monitor, ListWriter]:  # type: ignore[no-untyped-def]
    writer = ListWriter()
    monitor = Monitor(
        load_config_text(CHECKS),
        ScriptedProber(outcomes),
        incidents,
        writer,  # type: ignore[arg-type]
        store=None,
        metrics=Metrics(CollectorRegistry(), process=False),
        clock=clock,  # type: ignore[arg-type]
    )
    monitor._apply(monitor.config, {})
    return monitor, writer


async def run(monitor: Monitor, count: int) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(count):
        monitor._clock.current += timedelta(seconds=30)  # type: ignore[attr-defined]
        await monitor.probe_site(KEY, loop.time())


async def test_change_lost_to_a_database_outage_is_retried_with_its_time():
    incidents = FlakyIncidents(failures=2)
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clock = Clock(start)
    monitor, _ = await make_monitor(["refused"] * 4 + ["up"] * 3, incidents, clock)
    await run(monitor, 4)
    # Probe 2 confirmed the outage but the database was away (and again at probe 3); at
    # probe 4 the outage is stored with the time it was confirmed, then the newer signal.
    confirmed_at = start + timedelta(seconds=60)
    assert incidents.calls == [
        ("failing", "down", confirmed_at),
        ("failing", "down", start + timedelta(seconds=120)),
    ]
    incidents.failures = 1
    await run(monitor, 3)
    # The recovery (probe 6) failed once and was retried at probe 7 with its own time.
    assert incidents.calls[-1] == ("recovered", start + timedelta(seconds=180))
    assert monitor.sites[KEY].unsent == []


async def test_unsent_signals_are_squashed_and_bounded():
    t = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    down = [IncidentSignal("down", t + timedelta(seconds=i)) for i in range(5)]
    assert squash(down) == [down[0]]
    flapping = [
        IncidentSignal("down" if i % 2 else None, t + timedelta(seconds=i)) for i in range(40)
    ]
    kept = squash(flapping)
    assert len(kept) == 16 and kept[0] == flapping[0] and kept[-1] == flapping[-1]


async def test_no_incident_in_maintenance_but_results_are_kept():
    incidents = FlakyIncidents(failures=0)
    clock = Clock(datetime(2026, 11, 24, 12, 30, tzinfo=UTC))
    monitor, writer = await make_monitor(["refused"] * 3, incidents, clock)
    await run(monitor, 3)
    assert incidents.calls == []
    assert [r["in_maintenance"] for r in writer.results] == [True] * 3
    assert monitor.sites[KEY].tracker.state == "down"


async def test_next_probe_keeps_phase_or_rechecks():
    incidents = FlakyIncidents(failures=0)
    clock = Clock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    monitor, _ = await make_monitor(["up", "refused"], incidents, clock)
    loop = asyncio.get_running_loop()
    due = loop.time()
    # A good probe: the next is at the site's next slot of wall-clock time (its phase, the
    # same on every node), within an interval.
    slot = await monitor.probe_site(KEY, due)
    assert abs(slot - next_slot_in(KEY, 300.0, loop)) < 0.05
    assert 0 < slot - loop.time() <= 300.0
    recheck = await monitor.probe_site(KEY, due)
    assert 29.0 < recheck - asyncio.get_running_loop().time() <= 30.0


async def test_site_state_is_queued_when_it_changes_or_grows_old():
    incidents = FlakyIncidents(failures=0)
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clock = Clock(start)
    # recover defaults to 2: the first two good probes change `successes`, then nothing does.
    outcomes = ["up"] * 5 + ["refused"] * 2 + ["up"] * 30
    monitor, writer = await make_monitor(outcomes, incidents, clock)
    await run(monitor, 7)
    kept = [s and (s["last_outcome"], s["successes"], s["failures"]) for s in writer.states]
    assert kept == [("up", 1, 0), ("up", 2, 0), None, None, None, ("refused", 0, 1),
                    ("refused", 0, 2)]  # fmt: skip
    assert len(writer.results) == 7  # every result is kept
    await run(monitor, 30)  # 15 minutes of probes every 30 s once it is up again
    stored_at = [s["last_checked_at"] for s in writer.states[7:] if s]
    assert stored_at[:2] == [start + timedelta(seconds=240), start + timedelta(seconds=270)]
    assert stored_at[2:] == [start + timedelta(seconds=870)]  # ten minutes after the last


async def test_a_switch_in_batches_ends_as_a_reload_does_and_lets_the_loop_run() -> None:
    from uptimeguard.monitor.service import prepare_sites

    clock = Clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    monitor, _ = await make_monitor([], FlakyIncidents(0), clock)
    kept = monitor.sites[KEY]
    sites = "".join(f'      - {{id: s{i}, url: "http://127.0.0.1:9/{i}"}}\n' for i in range(25))
    bigger = load_config_text(CHECKS + sites)
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    counter = asyncio.create_task(count_turns())
    await monitor.switch(prepare_sites(bigger), batch=10)
    counter.cancel()
    assert turns >= 1  # the loop ran between batches (26 sites, 10 a batch: two pauses)
    assert len(monitor.sites) == len(monitor.scheduler) == 26
    assert monitor.sites[KEY] is kept  # a running site keeps its state
    assert monitor.config is bigger
    await monitor.switch(prepare_sites(load_config_text(CHECKS)), batch=10)
    assert list(monitor.sites) == [KEY] and len(monitor.scheduler) == 1
