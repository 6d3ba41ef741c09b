"""How fast are SLA deadlines? Times 100,000 `SlaEngine.deadlines` computations.

Mixed severities of the example `standard` plan (24x7 and business clocks, business hours and
working days, held-over incidents) opened at random instants over two years, on a Mon-Fri
08:00-18:00 Europe/London calendar with England-and-Wales bank holidays. Prints computations per
second: a cold pass (the per-year tables built on first use), a warm pass, and a warm pass with
a pause on every incident.

    .venv/bin/python bench/sla_deadlines.py [COUNT]
"""

from __future__ import annotations

import random
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta

from uptimeguard.config.models import Calendar, Plan, Severity, Target
from uptimeguard.sla import SlaEngine

CALENDAR = Calendar(
    id="uk-office",
    timezone="Europe/London",
    hours=dict.fromkeys(range(5), ((time(8), time(18)),)),
    holidays="england-and-wales",
)
PLAN = Plan(
    id="standard",
    calendar="uk-office",
    severities=(
        Severity("mission_critical", Target(15, "m"), Target(4, "h"), "24x7", out_of_hours=True),
        Severity("major", Target(1, "h"), Target(8, "h")),
        Severity("bug_fix", Target(2, "h"), Target(1, "d")),
        Severity("query", Target(8, "h"), Target(10, "d")),
    ),
    causes={"down": "mission_critical", "http_5xx": "bug_fix"},
)
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 86_400


def _cases(count: int, seed: int = 3) -> list[tuple[str, datetime]]:
    rng = random.Random(seed)
    names = [s.name for s in PLAN.severities]
    return [
        (rng.choice(names), START + timedelta(seconds=rng.randrange(SPAN_SECONDS)))
        for _ in range(count)
    ]


def _run(engine: SlaEngine, cases: list[tuple[str, datetime]], paused: bool) -> float:
    began = clock.perf_counter()
    for severity, opened in cases:
        pauses = [(opened + timedelta(minutes=20), opened + timedelta(hours=3))] if paused else ()
        engine.deadlines("standard", severity, opened, pauses)
    return clock.perf_counter() - began


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    cases = _cases(count)
    engine = SlaEngine({"standard": PLAN}, {"uk-office": CALENDAR})
    for label, paused in (("cold", False), ("warm", False), ("warm, one pause each", True)):
        seconds = _run(engine, cases, paused)
        print(
            f"{count:,} deadline computations ({label}): {seconds:.2f} s, "
            f"{count / seconds:,.0f} computations/s"
        )


if __name__ == "__main__":
    main()
