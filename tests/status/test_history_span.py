"""The page says how much history its uptime figure stands on, not "over 90 days" after five
minutes of data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from uptimeguard.status.public import history_span


def day(up: float, down: float = 0.0, maintenance: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(up_seconds=up, down_seconds=down, maintenance_seconds=maintenance)


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ([day(200, 100)], "5 min"),  # just after start-up: 67% "over 5 min"
        ([day(30)], "1 min"),
        ([day(7100)], "118 min"),
        ([day(7 * 3600, 0, 600)], "7 h"),
        ([day(86400)] * 3, "3 days"),
        ([day(86400)] * 12 + [day(3600)], "12 days"),
        ([day(86400)] * 89, "90 days"),  # the whole history (today's bar is still filling)
        ([day(86400)] * 90, "90 days"),
    ],
)
def test_history_span(days: list[SimpleNamespace], words: str):
    assert history_span(days) == words
