"""One site's series (`SiteSeries`), a customer's probe-time histogram (`CustomerHistogram`),
a block of sites whose slow-changing text is kept (`Block`), and the text each family writes.
`uptimeguard.site_metrics` holds them all."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator
from itertools import accumulate

from prometheus_client.utils import floatToGoString

PROBE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UPTIME_WINDOWS = ("1d", "30d")

PROBES = "uptimeguard_probes"
DURATION = "uptimeguard_probe_duration_seconds"
LAST = "uptimeguard_site_probe_duration_seconds"
UP = "uptimeguard_site_up"
HTTP_STATUS = "uptimeguard_site_http_status"
TLS_EXPIRY = "uptimeguard_tls_cert_expiry_timestamp_seconds"
UPTIME = "uptimeguard_uptime_ratio"

# In the order they are written.
HELP = {
    PROBES: "Probes run, by outcome.",
    DURATION: "Total time of a probe (DNS to last byte read): one histogram per customer, "
    "or per site with PER_SITE_HISTOGRAM.",
    LAST: "Total time of the site's last probe that measured one (DNS to last byte read).",
    UP: "1 when the last probe was good (up or slow).",
    HTTP_STATUS: "HTTP status of the last probe (0: none).",
    TLS_EXPIRY: "When the site's TLS certificate expires (Unix time).",
    UPTIME: "Up time / (up + down) time over the window, maintenance excluded, as the "
    "status page computes it.",
}
# The sample names each family writes, for `name[]` filtering as prometheus_client does it.
SAMPLE_NAMES = {
    PROBES: (f"{PROBES}_total",),
    DURATION: (f"{DURATION}_bucket", f"{DURATION}_count", f"{DURATION}_sum"),
    LAST: (LAST,),
    UP: (UP,),
    HTTP_STATUS: (HTTP_STATUS,),
    TLS_EXPIRY: (TLS_EXPIRY,),
    UPTIME: (UPTIME,),
}
# Families whose text a block keeps between scrapes: their values change on a state change,
# a new certificate or the uptime refresh, not on every probe.
CACHED = (UP, HTTP_STATUS, TLS_EXPIRY, UPTIME)
# A block's `stale` bits: which of its kept texts must be written again.
STALE_STATE, STALE_TLS, STALE_UPTIME = 1, 2, 4
STALE_ALL = STALE_STATE | STALE_TLS | STALE_UPTIME
_STALE_OF = {UP: STALE_STATE, HTTP_STATUS: STALE_STATE, TLS_EXPIRY: STALE_TLS}
_STALE_OF[UPTIME] = STALE_UPTIME
_BOUNDS = tuple(floatToGoString(bound) for bound in (*PROBE_BUCKETS, float("inf")))
_LE = tuple(f',le="{bound}"}} ' for bound in _BOUNDS)
_GOOD = frozenset(("up", "slow"))


def escape(value: str) -> str:
    """A label value as the text formats want it inside double quotes."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(value) if type(value) is int else floatToGoString(value)


def _empty_buckets() -> array[int]:
    """Per-bucket counts (not cumulative; +Inf last)."""
    return array("q", bytes(8 * len(_LE)))


def cumulative(buckets: array[int]) -> list[tuple[str, float]]:
    """(le, cumulative count) pairs, as `HistogramMetricFamily.add_metric` takes them."""
    return list(zip(_BOUNDS, accumulate(tuple(buckets)), strict=True))


def families_of(names: Collection[str] = ()) -> list[str]:
    """The families to write: all, or those with a sample name in `names`."""
    if not names:
        return list(HELP)
    return [family for family in HELP if any(n in names for n in SAMPLE_NAMES[family])]


class CustomerHistogram:
    """Probe times of every site of one customer (the default `DURATION` series)."""

    __slots__ = ("buckets", "customer", "duration_sum", "labels")

    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.labels = f'customer="{escape(customer)}"'
        self.buckets: array[int] | None = None  # from the first probe of any of its sites
        self.duration_sum = 0.0


class Block:
    """Up to `BLOCK_SIZE` sites, with the text of their `CACHED` families kept until one of
    their values changes (the family's bit in `stale`)."""

    __slots__ = ("cache", "sites", "stale")

    def __init__(self) -> None:
        self.sites: list[SiteSeries] = []
        self.cache: dict[str, bytes] = {}
        self.stale = STALE_ALL

    def add(self, series: SiteSeries) -> None:
        self.sites.append(series)
        self.stale = STALE_ALL

    def remove(self, series: SiteSeries) -> None:
        self.sites.remove(series)
        self.stale = STALE_ALL

    def cached(self, family: str) -> bytes:
        bit = _STALE_OF[family]
        if self.stale & bit:
            for name, of in _STALE_OF.items():
                if of == bit:
                    self.cache.pop(name, None)
            self.stale &= ~bit
        text = self.cache.get(family)
        if text is None:
            text = self.cache[family] = render(family, list(self.sites)).encode()
        return text


class SiteSeries:
    """One site's series. Each appears on first use, as a labelled child would: nothing
    before the first probe, no TLS expiry for a plain-HTTP site, no outcome before it is seen."""

    __slots__ = (
        "block",
        "buckets",
        "customer",
        "duration_sum",
        "group",
        "http_status",
        "labels",
        "last_duration",
        "outcomes",
        "per_site",
        "site",
        "tls_expiry",
        "up",
        "uptime",
    )

    def __init__(
        self, customer: str, site: str, block: Block, group: CustomerHistogram, per_site: bool
    ) -> None:
        self.customer = customer
        self.site = site
        self.block = block
        self.group = group
        self.per_site = per_site
        self.labels = f'customer="{escape(customer)}",site="{escape(site)}"'
        self.outcomes: dict[str, int] = {}
        # The site's own histogram, only with PER_SITE_HISTOGRAM (filled on the first probe).
        self.buckets: array[int] | None = None
        self.duration_sum = 0.0
        self.last_duration: float | None = None
        self.up: int | None = None
        self.http_status: int | None = None
        self.tls_expiry: float | None = None
        self.uptime: dict[str, float] = {}

    @property
    def probed(self) -> bool:
        return bool(self.outcomes)

    def record(
        self, outcome: str, total: float | None, status_code: int | None, tls_expiry: float | None
    ) -> None:
        """One probe's result."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if self.per_site:
            buckets = self.buckets
            if buckets is None:
                buckets = self.buckets = _empty_buckets()
            if total is not None:
                buckets[bisect_left(PROBE_BUCKETS, total)] += 1
                self.duration_sum += total
        else:
            group = self.group
            buckets = group.buckets
            if buckets is None:
                buckets = group.buckets = _empty_buckets()
            if total is not None:
                buckets[bisect_left(PROBE_BUCKETS, total)] += 1
                group.duration_sum += total
        if total is not None:
            self.last_duration = round(total, 6)  # a microsecond is finer than a probe needs
        up = 1 if outcome in _GOOD else 0
        status = status_code or 0
        if up != self.up or status != self.http_status:
            self.up, self.http_status = up, status
            self.block.stale |= STALE_STATE
        if tls_expiry is not None and tls_expiry != self.tls_expiry:
            self.tls_expiry = tls_expiry
            self.block.stale |= STALE_TLS

    def set_uptime(self, window: str, ratio: float) -> None:
        if self.uptime.get(window) != ratio:
            self.uptime[window] = ratio
            self.block.stale |= STALE_UPTIME

    def clear_uptime(self) -> None:
        if self.uptime:
            self.uptime = {}
            self.block.stale |= STALE_UPTIME

    def forget_probes(self) -> None:
        self.outcomes, self.buckets, self.duration_sum = {}, None, 0.0
        self.up = self.http_status = self.tls_expiry = self.last_duration = None
        self.block.stale = STALE_ALL

    def gauge_values(self) -> Iterator[tuple[str, float]]:
        values = (
            (LAST, self.last_duration),
            (UP, self.up),
            (HTTP_STATUS, self.http_status),
            (TLS_EXPIRY, self.tls_expiry),
        )
        for name, value in values:
            if value is not None:
                yield name, value


def render(family: str, sites: list[SiteSeries]) -> str:
    """The samples of `family` for `sites`, in the text format (the same in OpenMetrics)."""
    out: list[str] = []
    add = out.append
    if family == PROBES:
        for s in sites:
            for outcome, count in list(s.outcomes.items()):
                add(f'{PROBES}_total{{{s.labels},outcome="{outcome}"}} {count}.0\n')
    elif family == DURATION:
        for s in sites:
            if s.buckets is not None:
                _histogram(add, s.labels, s.buckets, s.duration_sum)
    elif family == UPTIME:  # ratios in [0, 1]: repr is Go's form (floatToGoString)
        for s in sites:
            for window, ratio in list(s.uptime.items()):
                add(f'{UPTIME}{{{s.labels},window="{window}"}} {ratio!r}\n')
    elif family == LAST:  # seconds, rounded to microseconds: repr is Go's form too
        for s in sites:
            if s.last_duration is not None:
                add(f"{LAST}{{{s.labels}}} {s.last_duration!r}\n")
    else:
        attribute = {
            UP: "up",
            HTTP_STATUS: "http_status",
            TLS_EXPIRY: "tls_expiry",
        }[family]
        for s in sites:
            value = getattr(s, attribute)
            if value is not None:
                add(f"{family}{{{s.labels}}} {_number(value)}\n")
    return "".join(out)


def render_groups(groups: list[CustomerHistogram]) -> str:
    """The per-customer `DURATION` histograms."""
    out: list[str] = []
    for g in groups:
        if g.buckets is not None:
            _histogram(out.append, g.labels, g.buckets, g.duration_sum)
    return "".join(out)


def _histogram(
    add: Callable[[str], None], labels: str, buckets: array[int], duration_sum: float
) -> None:
    counts = tuple(buckets)  # one copy, so a probe landing now cannot tear it
    for le, count in zip(_LE, accumulate(counts), strict=True):
        add(f"{DURATION}_bucket{{{labels}{le}{count}.0\n")
    add(f"{DURATION}_count{{{labels}}} {sum(counts)}.0\n")
    add(f"{DURATION}_sum{{{labels}}} {floatToGoString(duration_sum)}\n")
