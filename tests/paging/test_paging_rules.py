"""Pure rules with exact instants: the rota, the ladder's plan, the policy, parsing replies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from paging_support import checks
from twilio.base.exceptions import TwilioRestException

from uptimeguard.config.models import EscalationStep, Oncall, Override, Rotation
from uptimeguard.paging import ladder, policy
from uptimeguard.paging.rota import oncall_at
from uptimeguard.paging.twilio.errors import delivery_cause, from_twilio
from uptimeguard.paging.twilio.webhooks import delivery_status, parse_ack

# The README's rota: alice/bob weekly from Monday 5 January 2026 09:00 London time; bob
# covers Christmas from the 24th 18:00 to the 27th 09:00.
ONCALL = Oncall(
    timezone="Europe/London",
    rotation=Rotation(("alice", "bob"), datetime(2026, 1, 5, 9, 0), timedelta(weeks=1)),
    overrides=(Override("bob", datetime(2026, 12, 24, 18, 0), datetime(2026, 12, 27, 9, 0)),),
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "who"),
    [
        (utc(2026, 1, 5, 9, 0), "alice"),  # the rota starts
        (utc(2026, 1, 12, 8, 59, 59), "alice"),
        (utc(2026, 1, 12, 9, 0), "bob"),  # a week later (GMT: 09:00 UTC)
        (utc(2026, 1, 19, 9, 0), "alice"),
        # British Summer Time: handover at 09:00 London, which is 08:00 UTC.
        (utc(2026, 4, 6, 7, 59), "alice"),
        (utc(2026, 4, 6, 8, 0), "bob"),
        (utc(2026, 1, 5, 8, 59), "bob"),  # before the start the turns run backwards
        # Christmas: alice's week, bob's override [24th 18:00, 27th 09:00).
        (utc(2026, 12, 24, 17, 59), "alice"),
        (utc(2026, 12, 24, 18, 0), "bob"),
        (utc(2026, 12, 27, 8, 59, 59), "bob"),
        (utc(2026, 12, 27, 9, 0), "alice"),
    ],
)
def test_who_is_on_call(at: datetime, who: str):
    assert oncall_at(ONCALL, at) == who


def test_a_later_override_wins_and_no_rotation_means_only_overrides():
    extra = Override("carol", datetime(2026, 12, 25, 0, 0), datetime(2026, 12, 25, 12, 0))
    oncall = replace(ONCALL, overrides=(*ONCALL.overrides, extra))
    assert oncall_at(oncall, utc(2026, 12, 25, 6, 0)) == "carol"
    assert oncall_at(oncall, utc(2026, 12, 25, 12, 0)) == "bob"
    bare = replace(ONCALL, rotation=None)
    assert oncall_at(bare, utc(2026, 12, 25, 6, 0)) == "bob"
    assert oncall_at(bare, utc(2026, 12, 28, 6, 0)) is None


def test_the_ladder_plan_with_waits_and_repeats():
    oncall = checks().oncall
    assert oncall is not None
    start = utc(2026, 11, 28, 3, 0)
    plan = ladder.schedule(oncall, start)
    assert len(plan) == 12  # 4 steps, repeat 2: three rounds
    firsts = [
        (rung.round, rung.index, rung.step.notify, rung.step.via, at - start)
        for rung, at in plan[:6]
    ]
    assert firsts == [
        (0, 0, "oncall", ("sms",), timedelta(0)),
        (0, 1, "oncall", ("voice",), timedelta(minutes=5)),
        (0, 2, "support_manager", ("sms", "voice"), timedelta(minutes=15)),
        (0, 3, "service_director", ("sms", "voice"), timedelta(minutes=30)),
        # The last step has no then_wait: the next round waits the ladder's longest (15m).
        (1, 0, "oncall", ("sms",), timedelta(minutes=45)),
        (1, 1, "oncall", ("voice",), timedelta(minutes=50)),
    ]
    last, at = plan[-1]
    assert (last.round, last.index, at - start) == (2, 3, timedelta(minutes=120))
    assert ladder.wait_after(oncall, last) is None
    assert ladder.rung_at(oncall, 12) is None
    assert last.describe(oncall) == "step 4 of 4, round 3 of 3"


def test_recipients_follow_the_rota_and_roles():
    config = checks()
    at = utc(2026, 12, 25, 3, 0)
    assert [p.id for p in ladder.recipients("oncall", config, at)] == ["bob"]
    assert [p.id for p in ladder.recipients("support_manager", config, at)] == ["carol"]
    assert [p.id for p in ladder.recipients("erin", config, at)] == ["erin"]


def test_the_hourly_cap():
    alice = replace(checks().people["alice"], max_pages_per_hour=2)
    now = utc(2026, 11, 28, 3, 0)
    assert not ladder.over_cap(alice, [now - timedelta(minutes=10)], now)
    recent = [now - timedelta(minutes=10), now - timedelta(minutes=59)]
    assert ladder.over_cap(alice, recent, now)
    old = [now - timedelta(minutes=10), now - timedelta(minutes=60)]
    assert not ladder.over_cap(alice, old, now)


@pytest.mark.parametrize(
    ("in_hours", "covered", "decision"),
    [(True, True, "desk"), (True, False, "desk"), (False, True, "page"), (False, False, "hold")],
)
def test_policy(in_hours: bool, covered: bool, decision: str):
    assert policy.decide(in_hours=in_hours, covered=covered) == decision


def test_policy_on_upgrade():
    assert policy.on_upgrade("hold", in_hours=False, covered=True) == "page"
    assert policy.on_upgrade("hold", in_hours=False, covered=False) is None
    assert policy.on_upgrade("desk", in_hours=True, covered=True) == "desk"
    assert policy.on_upgrade("page", in_hours=True, covered=True) is None


def test_held_over_grouping():
    class Held:
        def __init__(self, id: int, customer: str, starts: datetime) -> None:
            self.id, self.customer, self.clock_starts_at = id, customer, starts

    monday = utc(2026, 11, 30, 8, 0)
    items = [Held(3, "acme", monday), Held(1, "acme", monday), Held(2, "beta", monday)]
    items.append(Held(4, "beta", monday + timedelta(days=1)))
    groups = policy.held_over_to_tell(items, monday)
    assert {k: [i.id for i in v] for k, v in groups.items()} == {"acme": [1, 3], "beta": [2]}
    assert policy.held_over_to_tell(items, monday - timedelta(seconds=1)) == {}


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        ("ACK 12", (True, 12)),
        ("ack", (True, None)),
        (" Ack #7. ", (True, 7)),
        ("ACK12", (True, 12)),
        ("acknowledge", (False, None)),
        ("ACK 1 2", (False, None)),
        ("", (False, None)),
    ],
)
def test_parse_ack(body: str, parsed: tuple[bool, int | None]):
    assert parse_ack(body) == parsed


def test_statuses_and_causes():
    assert delivery_status({"MessageStatus": "undelivered"}) == ("failed", "undelivered")
    assert delivery_status({"CallStatus": "busy"}) == ("no_answer", "busy")
    assert delivery_status({"CallStatus": "ringing"}) == (None, "ringing")
    assert delivery_cause("undelivered", "30003") == (
        "the handset is unreachable (switched off or out of coverage) (Twilio error 30003)"
    )
    bad = from_twilio(TwilioRestException(400, "/x", "Unable to create record: bad", 21614))
    assert bad.permanent
    assert bad.cause.startswith("not a mobile number")
    busy = from_twilio(TwilioRestException(429, "/x", "Too Many Requests", 20429))
    assert not busy.permanent
    auth = from_twilio(TwilioRestException(401, "/x", "Authenticate", 20003))
    assert auth.permanent and "TWILIO_AUTH_TOKEN" in auth.cause


def test_a_step_without_wait_between_rounds_uses_the_default():
    oncall = Oncall("UTC", None, escalation=(EscalationStep("erin", ("sms",)),), repeat=1)
    first, second = ladder.schedule(oncall, utc(2026, 1, 1))
    assert second[1] - first[1] == ladder.DEFAULT_ROUND_GAP
