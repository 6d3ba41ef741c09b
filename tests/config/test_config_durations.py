"""Durations and SLA targets as written in the checks file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uptimeguard.config.durations import format_duration, parse_duration, parse_target
from uptimeguard.config.models import Target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("8h", timedelta(hours=8)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        (" 10s ", timedelta(seconds=10)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5x", "", "5", "m", "1.5h", "-5m", "5 m", "5M", "٣s", "5mm"])
def test_parse_duration_rejects_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_duration(text)
    assert str(error.value) == f"bad duration '{text}': use a number and a unit: 30s, 5m, 8h, 2d"


def test_parse_duration_rejects_zero_and_disordered_units() -> None:
    with pytest.raises(ValueError, match="must be more than zero"):
        parse_duration("0s")
    with pytest.raises(ValueError, match=r"larger units first, e\.g\. 1h30m"):
        parse_duration("30m1h")
    with pytest.raises(ValueError, match="larger units first"):
        parse_duration("1h1h")


def test_parse_duration_never_overflows() -> None:
    with pytest.raises(ValueError):
        parse_duration("9" * 40 + "w")
    with pytest.raises(ValueError, match="too long"):
        parse_duration("999999999w")
    assert parse_duration("999999999d") == timedelta(days=999_999_999)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", Target(15, "m")), ("4h", Target(4, "h")), ("10d", Target(10, "d")),
     ("30s", Target(30, "s"))],
)  # fmt: skip
def test_parse_target(text: str, expected: Target) -> None:
    assert parse_target(text) == expected
    assert str(parse_target(text)) == text


@pytest.mark.parametrize("text", ["1w", "1h30m", "0h", "h", "8 h", "8hours"])
def test_parse_target_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=f"bad target '{text}'"):
        parse_target(text)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=1, hours=2), "1d2h"),
        (timedelta(weeks=1), "7d"),
        (timedelta(seconds=1.5), "1.5s"),
        (timedelta(milliseconds=250), "0.25s"),
        (-timedelta(minutes=5), "-5m"),
    ],
)
def test_format_duration(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@given(st.integers(min_value=1, max_value=10**9))
def test_format_then_parse_round_trips(seconds: int) -> None:
    duration = timedelta(seconds=seconds)
    assert parse_duration(format_duration(duration)) == duration
