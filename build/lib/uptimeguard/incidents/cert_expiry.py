"""Certificate expiry as an incident cause: which severity each warning threshold means.

A site with `cert_expiry: {warn: [30d, 14d, 7d]}` reaches level 1 when its certificate has 30
days or less left, 2 at 14 days, 3 at 7. The plan's `cert_expiry` cause gives the severity of
level 1; each later level is one severity more urgent, but never one worked out of hours when
the plan's own choice is not: the steps stay within the periods the plan's choice is worked
in (a certificate that still works is office work, not a night page). A plan without a
`cert_expiry` cause opens nothing for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from uptimeguard.config.durations import format_duration
from uptimeguard.config.models import Plan

CAUSE = "cert_expiry"


def cert_level(expires_at: datetime | None, now: datetime, warn: tuple[timedelta, ...]) -> int:
    """How many thresholds of `warn` have passed at `now`: 0 while more time is left than the
    longest. A certificate of unknown expiry (None) counts as 0."""
    if expires_at is None:
        return 0
    left = expires_at - now
    return sum(1 for threshold in warn if left <= threshold)


def cert_severity(plan: Plan, level: int) -> str | None:
    """The severity for `level` (1 for the first threshold passed); None opens nothing."""
    base = plan.causes.get(CAUSE)
    if base is None or level <= 0:
        return None
    rank = plan.rank(base)
    worked = plan.severities[rank].periods
    for _ in range(level - 1):
        if rank == 0 or not plan.severities[rank - 1].periods <= worked:
            break
        rank -= 1
    return plan.severities[rank].name


def describe(expires_at: datetime, now: datetime, warn: tuple[timedelta, ...]) -> str:
    """`certificate expires 2027-01-07 12:00 UTC (13 days left; warned at 14d)`."""
    left = expires_at - now
    passed = [t for t in warn if left <= t]
    when = expires_at.strftime("%Y-%m-%d %H:%M UTC")
    if left.total_seconds() <= 0:
        return f"certificate expired {when}"
    days = left.days
    remaining = f"{days} days left" if days != 1 else "1 day left"
    if days == 0:
        remaining = "less than a day left"
    threshold = f"; warned at {format_duration(passed[-1])}" if passed else ""
    return f"certificate expires {when} ({remaining}{threshold})"
