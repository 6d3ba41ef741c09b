"""The per-site metric series, held compactly and written straight to exposition text.

With prometheus_client's own objects, every site costs a child per metric, each with its own
lock and value objects: at 100,000 sites that was 811 MiB of memory and 18 s of CPU per scrape
(194 MB of text). Here a site is one small slotted record, its label text is escaped once, and
the families are written in blocks of `BLOCK_SIZE` sites, so a scrape can be streamed while
probes go on. The gauges that rarely change (up, HTTP status, TLS expiry, uptime) keep each
block's text until one of its sites' values changes, so a scrape writes afresh only what moved.

The probe-time histogram per site (14 lines a site: 123 MB of text at 100,000 sites) is
opt-in (`PER_SITE_HISTOGRAM`); by default `uptimeguard_probe_duration_seconds` is one
histogram per customer, and `uptimeguard_site_probe_duration_seconds` gives each site's last
probe time. `collect` gives the same samples as ordinary metric families, so a registry holding
this collector (tests, `generate_latest`) still sees every series.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from uptimeguard.site_series import (
    CACHED,
    DURATION,
    HELP,
    LAST,
    PROBES,
    UPTIME,
    Block,
    CustomerHistogram,
    SiteSeries,
    cumulative,
    families_of,
    render,
    render_groups,
)

BLOCK_SIZE = 1_000  # sites written between two chances for the event loop to run probes


class SiteMetrics(Collector):
    """Every site's series, by (customer, site), in blocks of at most `BLOCK_SIZE` sites."""

    def __init__(self, per_site_histogram: bool = False) -> None:
        self.per_site_histogram = per_site_histogram
        self._sites: dict[tuple[str, str], SiteSeries] = {}
        self._blocks: list[Block] = []
        self._groups: dict[str, CustomerHistogram] = {}

    def series(self, customer: str, site: str) -> SiteSeries:
        found = self._sites.get((customer, site))
        if found is None:
            group = self._groups.get(customer)
            if group is None:
                group = self._groups[customer] = CustomerHistogram(customer)
            block = self._blocks[-1] if self._blocks else None
            if block is None or len(block.sites) >= BLOCK_SIZE:
                block = Block()
                self._blocks.append(block)
            found = SiteSeries(customer, site, block, group, self.per_site_histogram)
            self._sites[(customer, site)] = found
            block.add(found)
        return found

    def set_uptime(self, customer: str, site: str, window: str, ratio: float) -> None:
        self.series(customer, site).set_uptime(window, ratio)

    def _forget(self, key: tuple[str, str]) -> None:
        found = self._sites.pop(key)
        found.block.remove(found)
        if not found.block.sites:
            self._blocks.remove(found.block)

    def drop_probes(self, keys: Iterable[tuple[str, str]]) -> None:
        """Forget what this process probed of these sites (another node probes them now); an
        uptime figure set for them stays."""
        for key in keys:
            found = self._sites.get(key)
            if found is None:
                continue
            if not found.uptime:
                self._forget(key)
                continue
            found.forget_probes()

    def clear_uptime(self) -> None:
        """Forget every uptime figure (this process no longer reports them)."""
        for key, found in list(self._sites.items()):
            found.clear_uptime()
            if not found.probed:
                self._forget(key)

    def retain(self, keys: Collection[tuple[str, str]]) -> None:
        """Forget the series of every site not in `keys` (sites removed from the file), and
        the histogram of every customer left with no site."""
        for key in [key for key in self._sites if key not in keys]:
            self._forget(key)
        customers = {customer for customer, _ in self._sites}
        for customer in [c for c in self._groups if c not in customers]:
            del self._groups[customer]

    def __len__(self) -> int:
        return len(self._sites)

    # -- exposition text ---------------------------------------------------------------------

    def families(self, names: Collection[str] = ()) -> list[str]:
        """The families to write: all, or those with a sample name in `names`."""
        return families_of(names)

    def snapshot(self) -> list[SiteSeries]:
        return list(self._sites.values())

    @staticmethod
    def header(family: str, openmetrics: bool) -> str:
        kind = {PROBES: "counter", DURATION: "histogram"}.get(family, "gauge")
        name = f"{family}_total" if family == PROBES and not openmetrics else family
        return f"# HELP {name} {HELP[family]}\n# TYPE {name} {kind}\n"

    def chunks(self, family: str) -> Iterator[bytes]:
        """The samples of `family`, a block of sites (or of customers) at a time."""
        if family == DURATION and not self.per_site_histogram:
            groups = list(self._groups.values())
            for start in range(0, len(groups), BLOCK_SIZE):
                yield render_groups(groups[start : start + BLOCK_SIZE]).encode()
            return
        for block in list(self._blocks):
            if family in CACHED:
                yield block.cached(family)
            else:
                yield render(family, list(block.sites)).encode()

    @staticmethod
    def lines(family: str, sites: Iterable[SiteSeries]) -> str:
        """The samples of `family` for `sites`, in the text format (the same in OpenMetrics)."""
        return render(family, list(sites))

    # -- as a prometheus_client collector ----------------------------------------------------

    def describe(self) -> Iterator[Metric]:
        return self._collect([], [])

    def collect(self) -> Iterator[Metric]:
        return self._collect(self.snapshot(), list(self._groups.values()))

    def _collect(
        self, sites: list[SiteSeries], groups: list[CustomerHistogram]
    ) -> Iterator[Metric]:
        probes = CounterMetricFamily(PROBES, HELP[PROBES], labels=("customer", "site", "outcome"))
        per_site = self.per_site_histogram
        duration = HistogramMetricFamily(
            DURATION, HELP[DURATION], labels=("customer", "site") if per_site else ("customer",)
        )
        gauges = {
            name: GaugeMetricFamily(name, HELP[name], labels=("customer", "site"))
            for name in (LAST, *CACHED)
            if name != UPTIME
        }
        uptime = GaugeMetricFamily(UPTIME, HELP[UPTIME], labels=("customer", "site", "window"))
        for s in sites:
            key = [s.customer, s.site]
            for outcome, count in list(s.outcomes.items()):
                probes.add_metric([*key, outcome], count)
            if per_site and s.buckets is not None:
                duration.add_metric(key, cumulative(s.buckets), s.duration_sum)
            for name, value in s.gauge_values():
                gauges[name].add_metric(key, value)
            for window, ratio in list(s.uptime.items()):
                uptime.add_metric([*key, window], ratio)
        if not per_site:
            for g in groups:
                if g.buckets is not None:
                    duration.add_metric([g.customer], cumulative(g.buckets), g.duration_sum)
        yield probes
        yield duration
        for name in HELP:
            if name in gauges:
                yield gauges[name]
        yield uptime
