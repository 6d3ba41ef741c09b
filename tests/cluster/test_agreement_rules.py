"""The pure rules of agreement across locations and of degraded locations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from uptimeguard.cluster.agreement import View, decide, describe, needed, still_failing
from uptimeguard.cluster.degraded import LocationSample, judge, may_be_degraded, window

RANKS = {"down": 0, "http_5xx": 1, "content": 2}
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def rank(cause: str) -> int | None:
    return RANKS.get(cause)


def failing(location: str, cause: str = "down") -> View:
    return View(location, True, cause, T0, T0 + timedelta(seconds=30), f"{location}-1")


def test_one_location_is_not_enough_when_two_must_agree() -> None:
    decision = decide([failing("eu"), View("us", False)], {"eu", "us"}, 2, rank)
    assert not decision.open and decision.need == 2 and decision.agreeing == ("eu",)
    decision = decide([failing("eu"), failing("us")], {"eu", "us"}, 2, rank)
    assert decision.open and decision.cause == "down" and not decision.short


def test_the_cause_is_the_worst_that_enough_locations_agree_on() -> None:
    views = [failing("eu", "down"), failing("us", "http_5xx"), failing("ap", "content")]
    counted = {"eu", "us", "ap"}
    assert decide(views, counted, 1, rank).cause == "down"
    assert decide(views, counted, 2, rank).cause == "http_5xx"
    assert decide(views, counted, 3, rank).cause == "content"


def test_fewer_live_locations_than_asked_decide_alone_and_say_so() -> None:
    decision = decide([failing("eu")], {"eu"}, 3, rank)
    assert decision.open and decision.need == 1 and decision.short
    assert needed(2, 3) == (2, False) and needed(2, 1) == (1, True) and needed(1, 0) == (1, True)


def test_only_counted_locations_and_causes_the_plan_opens_for_count() -> None:
    # us is degraded (or has no live node): its word does not count.
    assert not decide([failing("eu"), failing("us")], {"eu", "ap"}, 2, rank).open
    # A cause the plan opens nothing for agrees with nothing.
    assert not decide([failing("eu"), failing("us", "slow")], {"eu", "us"}, 2, rank).open
    assert still_failing([failing("eu"), View("us", False)], {"eu", "us"}) == ["eu"]
    assert still_failing([failing("eu")], {"us"}) == []


def test_the_timeline_says_who_saw_what_and_when() -> None:
    text = describe([failing("eu"), View("us", False)], {"eu", "us", "ap"})
    assert text == (
        "down from eu (down, since 10:00:00 UTC, confirmed 10:00:30 UTC by eu-1); up from ap, us"
    )


def test_a_location_whose_network_fails_is_degraded() -> None:
    # Most of what it probed fails, and the others see most of those up.
    assert judge(LocationSample("us", 40, 38, 35), False)
    # A regional problem: a few sites, not most of them.
    assert not judge(LocationSample("us", 40, 5, 5), False)
    # A real outage of many sites, seen from everywhere: nothing contradicted.
    assert not judge(LocationSample("us", 40, 38, 0), False)
    # One site failing from one place of one probed is not a network failure.
    assert not judge(LocationSample("us", 1, 1, 1), False)
    assert judge(LocationSample("us", 3, 3, 2), False)


def test_a_degraded_location_recovers_with_hysteresis() -> None:
    assert judge(LocationSample("us", 40, 12, 10), True)  # 30% failing: still degraded
    assert not judge(LocationSample("us", 40, 8, 8), True)  # 20%: recovered
    assert not judge(LocationSample("us", 40, 30, 0), True)  # nothing contradicted now
    assert judge(LocationSample("us", 0, 0, 0), True)  # probed nothing: no change
    assert may_be_degraded(LocationSample("us", 10, 3), True)
    assert not may_be_degraded(LocationSample("us", 10, 3), False)


def test_the_window_runs_from_first_failure_to_confirmation() -> None:
    assert window(timedelta(seconds=30), 2) == timedelta(seconds=30)
    assert window(timedelta(seconds=30), 3) == timedelta(seconds=60)
    assert window(timedelta(seconds=10), 1) == timedelta(seconds=10)
    assert window(timedelta(milliseconds=100), 2) == timedelta(seconds=1)
    assert window(timedelta(minutes=5), 5) == timedelta(minutes=2)
