"""Telling a location whose own network fails from sites that fail. Pure.

When a location's network (its uplink, its DNS, its firewall) fails, nearly every probe it
makes fails at once, while the other locations see the same sites up. Its word must not open or
upgrade incidents. Over the last `WINDOW` of probes (about one recheck, so the judgement comes
as soon as the first failures are confirmed), a location is **degraded** when

- most of the distinct sites it probed failed (`DEGRADED_SHARE`), and
- at least `MIN_CONTRADICTED` of its failing sites, and most of them, are seen up by another
  counted location.

A real outage of many sites is seen from everywhere, so it contradicts nothing; a few sites
unreachable from one place (a regional problem, which `agree` is for) are not most of its
sites. A degraded location recovers when fewer than `RECOVER_SHARE` of its sites fail, or when
nothing it sees failing is contradicted any more.

The window (`window`) runs from a site's first failure to its confirmation, so by the time a
location could open an incident on its word alone, its window holds only probes made since
its trouble began.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DEGRADED_SHARE = 0.5
RECOVER_SHARE = 0.25
MIN_CONTRADICTED = 2


@dataclass(frozen=True, slots=True)
class LocationSample:
    """What a location saw over the window (summed over its live nodes)."""

    location: str
    sites: int  # distinct sites probed
    failing: int  # of those, whose latest probe failed
    contradicted: int = 0  # failing here, seen up by another location

    @property
    def share(self) -> float:
        return self.failing / self.sites if self.sites else 0.0


def window(recheck: timedelta, confirm: int) -> timedelta:
    """The stretch of probes a location is judged on: from a site's first failure to its
    confirmation (`recheck` x (`confirm` - 1), the checks file's defaults), so that when the
    first failure is confirmed the window holds only probes made since the trouble began.
    Between 1 s and 2 minutes."""
    span = recheck * max(1, confirm - 1)
    return min(max(span, timedelta(seconds=1)), timedelta(minutes=2))


def may_be_degraded(sample: LocationSample, degraded_now: bool) -> bool:
    """Whether it is worth counting contradictions (a query) for this location."""
    return sample.share >= (RECOVER_SHARE if degraded_now else DEGRADED_SHARE)


def judge(sample: LocationSample, degraded_now: bool) -> bool:
    """Whether the location is degraded after this sample (with hysteresis)."""
    if sample.sites == 0:
        return degraded_now  # it probed nothing: nothing to change the judgement
    if degraded_now:
        return sample.share >= RECOVER_SHARE and sample.contradicted > 0
    return (
        sample.share >= DEGRADED_SHARE
        and sample.contradicted >= MIN_CONTRADICTED
        and sample.contradicted * 2 > sample.failing
    )


def reason(sample: LocationSample, window_seconds: float) -> str:
    return (
        f"{sample.failing} of the {sample.sites} sites it probed in the last "
        f"{window_seconds:.0f} s failed from {sample.location}, while other locations saw "
        f"{sample.contradicted} of them up"
    )
