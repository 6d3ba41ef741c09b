"""How file descriptors are shared out, and the once-a-minute notices (issue 12 item 1)."""

from __future__ import annotations

import logging
import resource

import pytest

from uptimeguard.fdlimits import RESERVE, raise_open_files_limit, share_out
from uptimeguard.web.connections import RateLimitedLog


def test_settings_kept_where_the_limit_holds_them():
    budget = share_out(1 << 20, 30, 1000, 1000)
    assert (budget.web_connections, budget.probes, budget.capped) == (1000, 1000, False)


def test_under_ulimit_1024_both_capped_probes_first():
    budget = share_out(1024, 24, 1000, 1000)
    free = 1024 - 24 - RESERVE
    assert budget.capped
    assert budget.web_connections == free // 3
    assert budget.probes == free - free // 3
    assert budget.web_connections + budget.probes + 24 + RESERVE <= 1024
    assert "1024" in budget.describe() and str(budget.web_connections) in budget.describe()


def test_a_tiny_limit_still_leaves_some_of_each():
    budget = share_out(64, 40, 1000, 1000)
    assert budget.web_connections >= 8 and budget.probes >= 8


def test_soft_limit_raised_to_the_hard_one():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
        raised = raise_open_files_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == raised
        assert hard == resource.RLIM_INFINITY or raised == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_notice_logged_once_a_minute_with_a_count(caplog: pytest.LogCaptureFixture):
    now = [0.0]
    notices = RateLimitedLog(every=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="uptimeguard.web.connections"):
        for second in range(150):
            now[0] = float(second)
            notices.warning("accept", "cannot accept connections")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "cannot accept connections"
    assert lines[1:] == [
        "cannot accept connections (59 more times in the last 60 s)",
        "cannot accept connections (59 more times in the last 60 s)",
    ]
