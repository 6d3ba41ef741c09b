"""Announced maintenance: in view from `before` ahead, told when it comes into view, starts
and ends, each once, to the subscribers of the sites it covers."""

from __future__ import annotations

from datetime import UTC, datetime

from notify_support import confirmed_subscriber, messages_to

from uptimeguard.clock import SystemClock
from uptimeguard.config import load_config_text
from uptimeguard.mail import mail_service
from uptimeguard.notify.maintenance import MaintenanceNotices, notices_since
from uptimeguard.notify.pages import PageInfo
from uptimeguard.notify.subscriptions import Subscriptions
from uptimeguard.settings import Settings
from uptimeguard.status.announced import announced, in_view
from uptimeguard.storage.repository import Store

CHECKS = """
calendars:
  uk: {timezone: Europe/London, hours: {mon-fri: "08:00-18:00"}}
plans:
  p: {calendar: uk, severities: {s: {response: 1h, resolution: 2h}}, causes: {down: s}}
customers:
  - id: acme
    name: Acme Ltd
    plan: p
    status_page: {slug: acme}
    sites:
      - id: www
        url: https://www.acme.example/
        maintenance:
          - {from: "2026-12-30T22:00", to: "2026-12-31T02:00",
             announce: {title: Database upgrade, before: 2d}}
          - {from: "2027-06-01T09:00", to: "2027-06-01T10:00",
             announce: {title: Summer move, before: 1d}}
      - id: api
        url: https://api.acme.example/
        maintenance:
          - {from: "2026-12-30T22:00", to: "2026-12-31T02:00",
             announce: {title: Database upgrade, before: 2d}}
          - {from: "2026-12-01T00:00", to: "2026-12-01T01:00"}
      - id: blog
        url: https://blog.acme.example/
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_windows_shared_by_sites_are_one_announcement_in_utc() -> None:
    config = load_config_text(CHECKS, path="c.yaml")
    customer = config.customer("acme")
    first, summer = announced(config, customer)
    assert (first.title, first.sites) == ("Database upgrade", ("www", "api"))
    assert (first.starts_at, first.ends_at) == (at("2026-12-30T22:00"), at("2026-12-31T02:00"))
    assert first.shown_from == at("2026-12-28T22:00")
    # June is BST: 09:00 in London is 08:00 UTC.
    assert summer.starts_at == at("2027-06-01T08:00")
    assert in_view(config, customer, at("2026-12-28T21:59")) == []
    assert in_view(config, customer, at("2026-12-28T22:00")) == [first]
    assert in_view(config, customer, at("2026-12-31T01:59")) == [first]
    assert in_view(config, customer, at("2026-12-31T02:00")) == []


async def test_each_phase_is_told_once_to_the_subscribers_of_its_sites(store: Store) -> None:
    config = load_config_text(CHECKS, path="c.yaml")
    mail = mail_service(Settings(), store, SystemClock(), lambda c, u: None)
    page = PageInfo.of(config, config.customer("acme"), "https://status.example")
    subscriptions = Subscriptions(store, mail.outbox)
    now = at("2026-12-20T10:00")
    for email, sites in [("alice@x.example", None), ("bob@x.example", ["api"]),
                         ("carol@x.example", ["blog"])]:  # fmt: skip
        await confirmed_subscriber(subscriptions, page, email, sites, now)
    notices = MaintenanceNotices(store, lambda: config, mail.outbox, "https://status.example")

    told = [
        await notices.run(at(moment))
        for moment in (
            "2026-12-28T21:59", "2026-12-28T22:00", "2026-12-28T22:05", "2026-12-30T22:00",
            "2026-12-30T23:00", "2026-12-31T02:00", "2026-12-31T09:00",
        )
    ]  # fmt: skip
    assert told == [0, 1, 0, 1, 0, 1, 0]
    for who in ("alice@x.example", "bob@x.example"):
        subjects = [m.subject for m in await messages_to(mail.outbox, who)][1:]
        assert subjects == [
            "[Acme Ltd status] Scheduled maintenance: Database upgrade",
            "[Acme Ltd status] Maintenance started: Database upgrade",
            "[Acme Ltd status] Maintenance complete: Database upgrade",
        ]
    assert len(await messages_to(mail.outbox, "carol@x.example")) == 1  # the confirmation
    scheduled = (await messages_to(mail.outbox, "alice@x.example"))[1]
    assert "from 30 Dec 2026 22:00 GMT to 31 Dec 2026 02:00 GMT" in scheduled.text_body


async def test_a_phase_missed_while_down_is_told_late_but_only_the_latest(store: Store) -> None:
    config = load_config_text(CHECKS, path="c.yaml")
    mail = mail_service(Settings(), store, SystemClock(), lambda c, u: None)
    notices = MaintenanceNotices(store, lambda: config, mail.outbox, None)
    # First run after the window started: `started` only, then `completed`.
    assert await notices.run(at("2026-12-30T23:00")) == 1
    assert await notices.run(at("2026-12-31T03:00")) == 1
    told = await notices_since(store, "acme", at("2026-12-01T00:00"))
    phases = [n.phase for n in reversed(told)]
    assert phases == ["started", "completed"]
    # A window nobody heard of before it ended is not "completed" out of the blue.
    other = MaintenanceNotices(store, lambda: config, mail.outbox, None)
    assert await other.run(at("2027-06-01T11:00")) == 0
