"""A real browser loads a running uptimeguard's status page during an outage.

Headless Chromium (Debian's `chromium`; `.ci/run` installs it) at a phone's size. The daemon
probes a local site that starts answering 500, opens an incident, and an engineer posts a
public update and an internal note; the test then reads what a customer sees, focuses a day
bar as a keyboard user would, checks contrast and that nothing overflows the phone's width,
and writes screenshots to the test's temporary folder (`status.png`, `status-focus.png`).
Where Java is present the same page goes through the W3C's Nu HTML Checker (vnu, from npm's
`vnu-jar`; `.ci/run` installs it) and must pass with no error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from chromium_cdp import chromium, chromium_path
from html_validator import html_errors, vnu_missing
from support import TargetSite, eventually, free_port

from uptimeguard.app import running_daemon
from uptimeguard.config import load_config_text
from uptimeguard.settings import Settings
from uptimeguard.status.rollups import DOWN, UP, DayRollup, utc_day
from uptimeguard.storage.database import make_engine, upgrade_schema
from uptimeguard.storage.repository import Store

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="Chromium is not installed (apt-get install chromium; .ci/run does this)",
)

CHECKS = """
defaults: {{interval: 2s, timeout: 1s, confirm: 2, recheck: 1s, recover: 2}}
calendars:
  always: {{timezone: UTC, hours: {{mon-sun: "00:00-24:00"}}}}
plans:
  standard:
    calendar: always
    severities:
      mission_critical: {{response: 15m, resolution: 4h, clock: 24x7, out_of_hours: true}}
      bug_fix: {{response: 2h, resolution: 1d}}
    causes: {{down: mission_critical, http_5xx: bug_fix}}
customers:
  - id: acme
    name: Acme Ltd
    plan: standard
    status_page: {{slug: acme, title: Acme service status}}
    sites:
      - id: www
        name: Acme website
        url: "{url}shop"
        maintenance:
          - {{from: "{soon}", to: "{soon_end}", announce: {{title: Database upgrade, before: 2d}}}}
      - id: portal
        name: Customer portal
        url: "{portal}secret-portal-path"
        private: true
        maintenance: [{{every: "sun 02:00", duration: 2h}}]
"""


async def seed_history(url: str) -> None:
    """Ten days of history before the daemon starts, as the rollup job would have kept it had
    the sites been probed every 5 minutes then, with a two-hour outage of the website from
    10:00 UTC three days ago. The daemon's rollup job carries on from the newest row."""
    engine = make_engine(url)
    await upgrade_schema(engine)
    now = datetime.now(UTC)
    outage = (now - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    span = timedelta(minutes=10, seconds=10)
    rows = []
    for site in ("www", "portal"):
        moment = (now - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
        state = DayRollup.begin("acme", site, moment.date())
        while moment < now - timedelta(minutes=5):
            while utc_day(moment) > state.day:
                rows.append(state)
                state = state.next_day(span)
            down = site == "www" and outage <= moment < outage + timedelta(hours=2)
            state.add(moment, DOWN if down else UP, span)
            moment += timedelta(minutes=5)
        state.advance(moment, span)
        rows.append(state)
    await Store(engine).upsert_rollups([row.as_row() for row in rows])
    await engine.dispose()


def luminance(rgb: str) -> float:
    r, g, b = (int(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def test_a_customer_sees_the_outage_in_a_real_browser(tmp_path: Path):
    target, portal = TargetSite(), TargetSite()
    await target.start()
    await portal.start()
    database = f"sqlite+aiosqlite:///{tmp_path / 'status.db'}"
    await seed_history(database)
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    checks = CHECKS.format(
        url=target.url,
        portal=portal.url,
        soon=f"{soon:%Y-%m-%dT%H:%M}",
        soon_end=f"{soon + timedelta(hours=2):%Y-%m-%dT%H:%M}",
    )
    config = load_config_text(checks, path="checks.yaml")
    port = free_port()
    settings = Settings(  # mail configured (nothing is sent), so the page offers the form
        database_url=database,
        listen=f"127.0.0.1:{port}",
        write_interval_seconds=0.2,
        public_url=f"http://127.0.0.1:{port}",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        mail_from="status@acme.example",
    )
    try:
        async with running_daemon(settings, config) as daemon, aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{daemon.port}"
            target.mode = "500"
            (incident,) = await eventually(
                lambda: daemon.store.incidents(unresolved=True), lambda rows: len(rows) == 1
            )
            for body in (
                {"by": "alice", "note": "We have found the cause and are deploying a fix.",
                 "public": True},
                {"by": "alice", "note": "INTERNAL: rollback needed, ask Bob"},
            ):  # fmt: skip
                async with http.post(
                    f"{base}/api/v1/incidents/{incident.id}/notes", json=body
                ) as response:
                    assert response.status == 201

            async with http.get(f"{base}/status/acme") as response:
                html = await response.text()
            if vnu_missing() is None:
                assert html_errors(html) == []
            else:
                print(f"W3C check skipped: {vnu_missing()}")

            async with chromium(tmp_path / "profile") as page:
                await page.goto(f"{base}/status/acme")
                seen = await page.evaluate(
                    """JSON.stringify({
                      title: document.title,
                      banner: document.querySelector('#summary').innerText,
                      open: [...document.querySelectorAll('#open-h ~ article')].map(
                        a => a.innerText),
                      states: [...document.querySelectorAll('.site')].map(
                        s => s.querySelector('.head').innerText),
                      urls: [...document.querySelectorAll('.url')].map(u => u.innerText),
                      bars: [...document.querySelectorAll('.bars')].map(b => b.children.length),
                      maintenance: [...document.querySelectorAll('#maintenance-h ~ *')].map(
                        e => e.innerText),
                      form: !!document.querySelector('form.subscribe input[type=email]'),
                      text: document.body.innerText,
                      scrollWidth: document.documentElement.scrollWidth,
                      innerWidth: window.innerWidth,
                    })"""
                )
                await page.screenshot(tmp_path / "status.png")

                seen = json.loads(seen)
                assert seen["title"].startswith("Acme service status")
                assert seen["banner"] == "Acme website is down"
                (article,) = seen["open"]
                assert "Acme website is returning server errors" in article
                assert f"Incident #{incident.id}: open for" in article
                assert "We have found the cause and are deploying a fix." in article
                assert "We are investigating: Acme website is returning server errors." in article
                assert seen["states"] == [
                    "Acme website\nDown",
                    "Customer portal\nOperational",
                ]
                assert seen["urls"] == [f"{target.url}shop", portal.url]
                assert seen["bars"] == [90, 90]
                maintenance = "\n".join(seen["maintenance"])
                assert "Database upgrade" in maintenance and "Affects Acme website." in maintenance
                assert "Customer portal: every Sunday 02:00-04:00 UTC" in maintenance
                assert seen["form"]
                for secret in ("INTERNAL", "alice", "Bob", "secret-portal-path", "bug_fix"):
                    assert secret not in seen["text"]
                # On a phone: nothing wider than the screen.
                assert seen["scrollWidth"] <= seen["innerWidth"] == 412

                # A keyboard user tabs to the day of the old outage: its figures appear.
                focused = json.loads(
                    await page.evaluate(
                        """(() => {
                          const bars = document.querySelectorAll('.bars')[0].children;
                          const day = bars[bars.length - 4];
                          day.focus();
                          const tip = day.querySelector('span');
                          const box = tip.getBoundingClientRect();
                          const style = getComputedStyle(tip);
                          return JSON.stringify({
                            active: document.activeElement === day,
                            text: tip.innerText, width: box.width, height: box.height,
                            color: style.color, background: style.backgroundColor,
                            bar: getComputedStyle(day).backgroundColor,
                          });
                        })()"""
                    )
                )
                assert focused["active"] and focused["width"] > 200 and focused["height"] > 10
                assert "91.66% up, down 2 h" in focused["text"]  # 2 h of 24 h, rounded down
                assert contrast(focused["color"], focused["background"]) >= 4.5
                assert contrast(focused["bar"], "rgb(255, 255, 255)") >= 3  # not only colour
                await page.screenshot(tmp_path / "status-focus.png", full_page=False)

                colours = json.loads(
                    await page.evaluate(
                        """JSON.stringify([...document.querySelectorAll(
                             '#summary, .meta, .state, .updates li, .updates time, .axis, '
                             + '.legend li, footer, a, label, legend, button')].map(e => {
                           let bg = 'rgba(0, 0, 0, 0)', n = e;
                           while (n && bg === 'rgba(0, 0, 0, 0)') {
                             bg = getComputedStyle(n).backgroundColor; n = n.parentElement; }
                           return [getComputedStyle(e).color,
                                   bg === 'rgba(0, 0, 0, 0)' ? 'rgb(255, 255, 255)' : bg];
                         }))"""
                    )
                )
                for foreground, background in colours:
                    assert contrast(foreground, background) >= 4.5, (foreground, background)
    finally:
        await target.stop()
        await portal.stop()
    assert (tmp_path / "status.png").stat().st_size > 10_000
