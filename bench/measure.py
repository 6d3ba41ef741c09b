"""Reading a process from outside: CPU from /proc/<pid>/stat, peak RSS from /proc/<pid>/status,
and quantiles from a cumulative (Prometheus-style) histogram."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The bucket bounds the reference drivers use for their own lag (the same as ours).
LAG_BOUNDS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0,
    2.0, 5.0, 10.0, 30.0,
)  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of every thread of `pid` so far (not of its children)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy (not idle or waiting for I/O)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def peak_rss_bytes(pid: int) -> int:
    """VmHWM: the most resident memory `pid` has had."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def parse_histogram(text: str, name: str) -> list[tuple[float, float]]:
    """[(upper bound, cumulative count)] of the histogram `name` in Prometheus text."""
    pattern = re.compile(rf'^{re.escape(name)}_bucket\{{[^}}]*le="([^"]+)"[^}}]*\}} (\S+)$', re.M)
    buckets = [(float(le), float(value)) for le, value in pattern.findall(text)]
    return sorted(buckets)


def hist_delta(
    after: Sequence[tuple[float, float]], before: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The histogram of what was observed between two scrapes."""
    old = dict(before)
    return [(le, count - old.get(le, 0.0)) for le, count in after]


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """histogram_quantile as Prometheus computes it (linear within a bucket); inf when the
    quantile lies past the last finite bound; None without observations."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return math.inf
            inside = count - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, count
    return math.inf


def share_at_most(bound: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The share of observations at or under `bound` (which must be a bucket bound)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    for le, count in buckets:
        if le == bound:
            return count / buckets[-1][1]
    return None


class LagHistogram:
    """A cumulative histogram with `LAG_BOUNDS` (for the reference drivers' own lag)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts = [0] * (len(LAG_BOUNDS) + 1)

    def observe(self, value: float) -> None:
        for i, bound in enumerate(LAG_BOUNDS):
            if value <= bound:
                self.counts[i] += 1
                return
        self.counts[-1] += 1

    def cumulative(self) -> list[tuple[float, float]]:
        out, running = [], 0
        for bound, count in zip((*LAG_BOUNDS, math.inf), self.counts, strict=True):
            running += count
            out.append((bound, float(running)))
        return out
