"""Agreement across locations: when a site's failure is an incident. Pure.

Each location concludes on its own (its probes reach `confirm`: failing, with a cause; `recover`
good probes: not failing) and writes that conclusion, a *view*, to the database. An incident
opens, or is upgraded, only when `agree` locations see the site failing. Only *counted*
locations have a say: those with a live node and not degraded (a location whose own network
fails, see `degraded`). When fewer locations are counted than `agree` asks, all of them must
agree (`short`): one live location decides alone, and says so.

The cause is the worst one that enough locations agree on: with `agree: 2`, one location
seeing `down` and another `http_5xx` agree on the `http_5xx` severity (both see at least that
bad), not on `down`'s. An incident is resolved by the monitor once no counted location still
sees the site failing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class View:
    """One location's conclusion about one site."""

    location: str
    failing: bool
    cause: str | None = None
    since: datetime | None = None  # the failing run's first failed probe
    confirmed_at: datetime | None = None  # the probe that reached `confirm`
    node: str = ""
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    open: bool  # enough counted locations agree: open (or upgrade to) `cause`
    cause: str | None
    need: int  # counted locations that must agree
    agreeing: tuple[str, ...]  # counted locations that see the site failing
    counted: tuple[str, ...]
    short: bool  # fewer counted locations than `agree` asks: every counted one decides


def needed(agree: int, counted: int) -> tuple[int, bool]:
    """Locations that must agree, and whether that is fewer than `agree` asks."""
    return max(1, min(agree, counted)), counted < agree


def decide(
    views: Iterable[View],
    counted: Collection[str],
    agree: int,
    rank: Callable[[str], int | None],
) -> Decision:
    """Whether the views of the counted locations make an incident, and with which cause.

    `rank(cause)` is the plan's rank of the severity a cause opens (0 the most urgent), or
    None when the plan opens nothing for it: such a failure agrees with nothing.
    """
    ranked = [
        (r, view)
        for view in views
        if view.failing
        and view.location in counted
        and view.cause is not None
        and (r := rank(view.cause)) is not None
    ]
    ranked.sort(key=lambda pair: (pair[0], pair[1].location))
    need, short = needed(agree, len(counted))
    agreeing = tuple(sorted(view.location for _, view in ranked))
    if len(ranked) < need:
        return Decision(False, None, need, agreeing, tuple(sorted(counted)), short)
    # The need-th worst: the worst severity that at least `need` locations reach.
    cause = ranked[need - 1][1].cause
    return Decision(True, cause, need, agreeing, tuple(sorted(counted)), short)


def still_failing(views: Iterable[View], counted: Collection[str]) -> list[str]:
    """The counted locations that still see the site failing."""
    return sorted(v.location for v in views if v.failing and v.location in counted)


def describe(views: Iterable[View], counted: Collection[str], timezone_name: str = "UTC") -> str:
    """Which locations see what, for a timeline: `down from eu (refused since 10:00:01
    UTC, confirmed 10:00:31 by eu-1), us (...); up from ap`."""
    failing, up = [], []
    seen = set()
    for view in sorted(views, key=lambda v: v.location):
        seen.add(view.location)
        if view.location not in counted:
            continue
        if view.failing:
            parts = [view.cause or "failing"]
            if view.since is not None:
                parts.append(f"since {_hms(view.since)}")
            if view.confirmed_at is not None:
                by = f" by {view.node}" if view.node else ""
                parts.append(f"confirmed {_hms(view.confirmed_at)}{by}")
            failing.append(f"{view.location} ({', '.join(parts)})")
        else:
            up.append(view.location)
    up += sorted(set(counted) - seen)
    text = f"down from {', '.join(failing)}" if failing else "down from no location"
    return text + (f"; up from {', '.join(sorted(up))}" if up else "")


def _hms(at: datetime) -> str:
    return at.strftime("%H:%M:%S UTC")
