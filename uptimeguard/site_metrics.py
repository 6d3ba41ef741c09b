"""The per-site metric series, held compactly and written straight to exposition text.

With prometheus_client's own objects, every site costs a child per metric, each with its own
lock and value objects: at 100,000 sites that was 811 MiB of memory and 18 s of CPU per scrape
(194 MB of text). Here a site is one small slotted record, its label text is escaped once, and
`render` writes the families in batches of sites, so a scrape can be streamed while probes go
on. `collect` gives the same samples as ordinary metric families, so a registry holding this
collector (tests, `generate_latest`) still sees every series.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator
from itertools import accumulate

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

PROBE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UPTIME_WINDOWS = ("1d", "30d")

PROBES = "uptimeguard_probes"
DURATION = "uptimeguard_probe_duration_seconds"
UP = "uptimeguard_site_up"
HTTP_STATUS = "uptimeguard_site_http_status"
TLS_EXPIRY = "uptimeguard_tls_cert_expiry_timestamp_seconds"
UPTIME = "uptimeguard_uptime_ratio"

HELP = {
    PROBES: "Probes run, by outcome.",
    DURATION: "Total time of a probe (DNS to last byte read).",
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
    UP: (UP,),
    HTTP_STATUS: (HTTP_STATUS,),
    TLS_EXPIRY: (TLS_EXPIRY,),
    UPTIME: (UPTIME,),
}
_LE = tuple(f',le="{floatToGoString(bound)}"}} ' for bound in (*PROBE_BUCKETS, float("inf")))
_GOOD = frozenset(("up", "slow"))


def escape(value: str) -> str:
    """A label value as the text formats want it inside double quotes."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(value) if type(value) is int else floatToGoString(value)


class SiteSeries:
    """One site's series. Each appears on first use, as a labelled child would: nothing
    before the first probe, no TLS expiry for a plain-HTTP site, no outcome before it is seen."""

    __slots__ = (
        "buckets",
        "customer",
        "duration_sum",
        "http_status",
        "labels",
        "outcomes",
        "site",
        "tls_expiry",
        "up",
        "uptime",
    )

    def __init__(self, customer: str, site: str) -> None:
        self.customer = customer
        self.site = site
        self.labels = f'customer="{escape(customer)}",site="{escape(site)}"'
        self.outcomes: dict[str, int] = {}
        # Per-bucket counts (not cumulative; +Inf last), filled on the first probe.
        self.buckets: array[int] | None = None
        self.duration_sum = 0.0
        self.up: int | None = None
        self.http_status: int | None = None
        self.tls_expiry: float | None = None
        self.uptime: dict[str, float] = {}

    def record(
        self, outcome: str, total: float | None, status_code: int | None, tls_expiry: float | None
    ) -> None:
        """One probe's result."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        buckets = self.buckets
        if buckets is None:
            buckets = self.buckets = array("q", bytes(8 * len(_LE)))
        if total is not None:
            buckets[bisect_left(PROBE_BUCKETS, total)] += 1
            self.duration_sum += total
        self.up = 1 if outcome in _GOOD else 0
        self.http_status = status_code or 0
        if tls_expiry is not None:
            self.tls_expiry = tls_expiry


class SiteMetrics(Collector):
    """Every site's series, by (customer, site)."""

    def __init__(self) -> None:
        self._sites: dict[tuple[str, str], SiteSeries] = {}

    def series(self, customer: str, site: str) -> SiteSeries:
        found = self._sites.get((customer, site))
        if found is None:
            found = self._sites[(customer, site)] = SiteSeries(customer, site)
        return found

    def set_uptime(self, customer: str, site: str, window: str, ratio: float) -> None:
        self.series(customer, site).uptime[window] = ratio

    def drop_probes(self, keys: Iterable[tuple[str, str]]) -> None:
        """Forget what this process probed of these sites (another node probes them now); an
        uptime figure set for them stays."""
        for key in keys:
            found = self._sites.get(key)
            if found is None:
                continue
            if not found.uptime:
                del self._sites[key]
                continue
            found.outcomes, found.buckets, found.duration_sum = {}, None, 0.0
            found.up = found.http_status = found.tls_expiry = None

    def clear_uptime(self) -> None:
        """Forget every uptime figure (this process no longer reports them)."""
        for key, found in list(self._sites.items()):
            found.uptime = {}
            if found.buckets is None and not found.outcomes:
                del self._sites[key]

    def retain(self, keys: Collection[tuple[str, str]]) -> None:
        """Forget the series of every site not in `keys` (sites removed from the file)."""
        for key in [key for key in self._sites if key not in keys]:
            del self._sites[key]

    def __len__(self) -> int:
        return len(self._sites)

    # -- exposition text ---------------------------------------------------------------------

    def families(self, names: Collection[str] = ()) -> list[str]:
        """The families to write: all, or those with a sample name in `names`."""
        if not names:
            return list(HELP)
        return [family for family in HELP if any(n in names for n in SAMPLE_NAMES[family])]

    def snapshot(self) -> list[SiteSeries]:
        return list(self._sites.values())

    @staticmethod
    def header(family: str, openmetrics: bool) -> str:
        kind = {PROBES: "counter", DURATION: "histogram"}.get(family, "gauge")
        name = f"{family}_total" if family == PROBES and not openmetrics else family
        return f"# HELP {name} {HELP[family]}\n# TYPE {name} {kind}\n"

    @staticmethod
    def lines(family: str, sites: Iterable[SiteSeries]) -> str:
        """The samples of `family` for `sites`, in the text format (the same in OpenMetrics)."""
        out: list[str] = []
        add = out.append
        if family == PROBES:
            for s in sites:
                for outcome, count in list(s.outcomes.items()):
                    add(f'{PROBES}_total{{{s.labels},outcome="{outcome}"}} {count}.0\n')
        elif family == DURATION:
            for s in sites:
                if s.buckets is None:
                    continue
                counts = tuple(s.buckets)  # one copy, so a probe landing now cannot tear it
                total = sum(counts)
                for le, cumulative in zip(_LE, accumulate(counts), strict=True):
                    add(f"{DURATION}_bucket{{{s.labels}{le}{cumulative}.0\n")
                add(f"{DURATION}_count{{{s.labels}}} {total}.0\n")
                add(f"{DURATION}_sum{{{s.labels}}} {floatToGoString(s.duration_sum)}\n")
        elif family == UPTIME:
            for s in sites:
                for window, ratio in list(s.uptime.items()):
                    add(f'{UPTIME}{{{s.labels},window="{window}"}} {floatToGoString(ratio)}\n')
        else:
            attribute = {UP: "up", HTTP_STATUS: "http_status", TLS_EXPIRY: "tls_expiry"}[family]
            for s in sites:
                value = getattr(s, attribute)
                if value is not None:
                    add(f"{family}{{{s.labels}}} {_number(value)}\n")
        return "".join(out)

    # -- as a prometheus_client collector ----------------------------------------------------

    def describe(self) -> Iterator[Metric]:
        return self._collect([])

    def collect(self) -> Iterator[Metric]:
        return self._collect(self.snapshot())

    @staticmethod
    def _collect(sites: list[SiteSeries]) -> Iterator[Metric]:
        probes = CounterMetricFamily(PROBES, HELP[PROBES], labels=("customer", "site", "outcome"))
        duration = HistogramMetricFamily(DURATION, HELP[DURATION], labels=("customer", "site"))
        gauges = {
            name: GaugeMetricFamily(name, HELP[name], labels=("customer", "site"))
            for name in (UP, HTTP_STATUS, TLS_EXPIRY)
        }
        uptime = GaugeMetricFamily(UPTIME, HELP[UPTIME], labels=("customer", "site", "window"))
        bounds = [floatToGoString(b) for b in (*PROBE_BUCKETS, float("inf"))]
        for s in sites:
            key = [s.customer, s.site]
            for outcome, count in list(s.outcomes.items()):
                probes.add_metric([*key, outcome], count)
            if s.buckets is not None:
                cumulative = list(zip(bounds, accumulate(tuple(s.buckets)), strict=True))
                duration.add_metric(key, cumulative, s.duration_sum)
            values = ((UP, s.up), (HTTP_STATUS, s.http_status), (TLS_EXPIRY, s.tls_expiry))
            for name, value in values:
                if value is not None:
                    gauges[name].add_metric(key, value)
            for window, ratio in list(s.uptime.items()):
                uptime.add_metric([*key, window], ratio)
        yield probes
        yield duration
        yield from gauges.values()
        yield uptime
