"""SIGKILLs during bursts of pages: how many pages never reach Twilio.

    .venv/bin/python -m bench.page_kills                 # 20 kills, bursts of 10 incidents
    .venv/bin/python -m bench.page_kills --kills 5

Each round starts a daemon (SQLite, its own database) whose ten sites all refuse connections,
out of hours: ten incidents open at once, and each sends its first ladder page (SMS to the
on-call) and a notice to the desk, twenty pages in a burst. A fake Twilio on 127.0.0.1 takes
each request after a short delay, so the burst lasts a while; after a random number of them
has arrived the daemon is SIGKILLed, then started again on the same database and left until
no page is waiting.

A page is lost when it never reached Twilio. The page on the wire when the kill came may be
lost (it is `interrupted`: it may have gone, and Twilio takes no idempotency key, so it is
never resent); any other loss is a defect. A page that reached Twilio twice is a duplicate.
Prints one line per round and a summary; exit 1 if a round lost more than one page or sent
one twice.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "paging")]

from fake_twilio import FakeTwilio  # noqa: E402
from support import free_port  # noqa: E402
from test_paging_crash import start  # noqa: E402  (the crash test's daemon, as a process)

SITES = 10
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PAGE_ID = re.compile(r"/twilio/status/([0-9]+)$")

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 1, recheck: 1s, recover: 1}}
calendars:
  office:                        # open only on a day three days from now: out of hours today
    timezone: UTC
    hours: {{{open_day}: "08:00-18:00"}}
plans:
  standard:
    calendar: office
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
    causes: {{down: mission_critical}}
people:
  alice: {{name: Alice Smith, phone: "+447700900001"}}
oncall:
  timezone: UTC
  rotation: {{members: [alice], start: "2026-01-05 09:00", every: 1w}}
  desk: {{phone: "+447700900099"}}
  escalation:
    - {{notify: oncall, via: sms, then_wait: 30m}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    sites:
{sites}
"""


class SlowTwilio(FakeTwilio):
    """Takes each request after `delay` seconds, so a burst of pages lasts a while."""

    delay: float = 0.05

    async def _handle(self, request: web.Request, kind: str, prefix: str) -> web.Response:
        await asyncio.sleep(self.delay)
        return await super()._handle(request, kind, prefix)


def _checks() -> str:
    open_day = DAYS[(datetime.now(UTC) + timedelta(days=3)).weekday()]
    sites = "\n".join(
        f'      - {{id: s{i}, url: "http://127.0.0.1:{free_port()}/"}}' for i in range(SITES)
    )
    return CHECKS.format(open_day=open_day, sites=sites)


def _stop(daemon: subprocess.Popen[bytes]) -> None:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _pages(db: Path) -> list[tuple[int, str]]:
    try:
        with sqlite3.connect(db) as conn:
            return list(conn.execute("SELECT id, status FROM pages ORDER BY id"))
    except sqlite3.Error:
        return []


async def _until(condition: object, timeout: float, every: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(every)
    return False


async def one_round(number: int, kill_after: int) -> tuple[int, int, int, int]:
    """(pages made, pages that reached Twilio, lost, duplicates) for one kill."""
    twilio = SlowTwilio()
    await twilio.start()
    with tempfile.TemporaryDirectory(prefix="uptimeguard-kills-") as name:
        folder = Path(name)
        (folder / "checks.yaml").write_text(_checks())
        port = free_port()
        daemon = start(folder, port, twilio, "first.log")
        try:
            if not await _until(lambda: len(twilio.sent) >= kill_after, 60):
                raise SystemExit(f"round {number}: no pages within 60 s; see the daemon log")
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
            at_kill = len(twilio.sent)
            daemon = start(folder, port, twilio, "second.log")

            def settled() -> bool:
                rows = _pages(folder / "guard.db")
                return len(rows) >= SITES and all(
                    status not in ("pending", "sending") for _, status in rows
                )

            if not await _until(settled, 90, every=0.2):
                rows = _pages(folder / "guard.db")
                log = (folder / "second.log").read_text()[-3000:]
                raise SystemExit(f"round {number}: pages still waiting after 90 s: {rows}\n{log}")
            await asyncio.sleep(1)  # a late duplicate would show here
        finally:
            _stop(daemon)
            await twilio.stop()
        rows = _pages(folder / "guard.db")
    reached = Counter(
        int(match.group(1))
        for sent in twilio.sent
        if (match := PAGE_ID.search(sent.form.get("StatusCallback", "")))
    )
    lost = sum(1 for page_id, _ in rows if page_id not in reached)
    duplicates = sum(count - 1 for count in reached.values() if count > 1)
    statuses = Counter(status for _, status in rows)
    print(
        f"round {number:2d}: killed after {at_kill:2d} requests; {len(rows)} pages, "
        f"{len(reached)} reached Twilio, lost {lost}, duplicates {duplicates} "
        f"({', '.join(f'{s} {n}' for s, n in sorted(statuses.items()))})",
        flush=True,
    )
    return len(rows), len(reached), lost, duplicates


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="rounds, one SIGKILL each")
    parser.add_argument("--seed", type=int, default=1, help="seed for when each kill comes")
    args = parser.parse_args()
    if args.kills < 1:
        parser.error("--kills must be at least 1")
    chance = random.Random(args.seed)
    totals = [0, 0, 0, 0]
    worst = 0
    for number in range(1, args.kills + 1):
        result = await one_round(number, chance.randint(1, SITES - 2))
        totals = [a + b for a, b in zip(totals, result, strict=True)]
        worst = max(worst, result[2])
    made, reached, lost, duplicates = totals
    print(
        f"\n{args.kills} kills during bursts of {SITES} incidents: {made} pages, "
        f"{reached} reached Twilio, {lost} lost ({lost / args.kills:.2f} per kill, "
        f"at most {worst} in one kill), {duplicates} sent twice"
    )
    return 0 if worst <= 1 and duplicates == 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
