"""Metric definitions (the README's "Metrics") on a registry passed in, never the global one.

Labels stay bounded: customer, site, severity, cause, outcome, channel, result, window, target;
never an incident id or a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from uptimeguard.cluster.metrics import ClusterCollector
from uptimeguard.config.models import CHANNELS
from uptimeguard.site_metrics import BLOCK_SIZE, SiteMetrics

if TYPE_CHECKING:
    from uptimeguard.config.models import ChecksConfig

# Fine below a second so p50/p99 can be read off; 1.0 is a bound (the p99 goal is under 1 s).
LAG_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0,
    2.0, 5.0, 10.0, 30.0,
)  # fmt: skip
ACK_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
# Per-site lines written between two chances for the event loop to run probes.
SITES_PER_CHUNK = BLOCK_SIZE
PAGE_RESULTS = ("sent", "delivered", "failed", "no_answer")
MAIL_RESULTS = ("sent", "retried", "failed", "skipped", "interrupted")
SLA_TARGETS = ("response", "resolution")
NPS_CATEGORIES = ("promoter", "passive", "detractor")


class WriterCollector(Collector):
    """The result writer's buffer, read at scrape time: results held while the database is
    away (`uptimeguard_results_buffered`) and the oldest dropped past the buffer's limit
    (`uptimeguard_results_dropped_total`, since the process started)."""

    def __init__(self) -> None:
        self.dropped: Callable[[], int] = lambda: 0
        self.buffered: Callable[[], int] = lambda: 0

    def describe(self) -> Iterator[Metric]:
        return self._families(0, 0)

    def collect(self) -> Iterator[Metric]:
        return self._families(self.dropped(), self.buffered())

    @staticmethod
    def _families(dropped: int, buffered: int) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "uptimeguard_results_dropped",
            "Probe results dropped, oldest first, because the write buffer was full while "
            "the database was unreachable.",
            value=dropped,
        )
        yield GaugeMetricFamily(
            "uptimeguard_results_buffered",
            "Probe results held in memory, not yet written to the database.",
            value=buffered,
        )


class Metrics:
    """Every metric uptimeguard exports, registered on `registry`.

    The per-site series live in `sites` (compact, written by `exposition`); `registry` holds
    them too, through `SiteMetrics.collect`, so everything can still be read from it.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        process: bool = True,
        per_site_histogram: bool = False,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        # Everything but the per-site series: what the encoder writes before the per-site families.
        self.rest = CollectorRegistry()
        # `per_site_histogram`: the probe-time histogram per site (PER_SITE_HISTOGRAM), not
        # per customer (`uptimeguard.site_metrics`).
        self.sites = SiteMetrics(per_site_histogram)
        # Made unregistered (registry=None), then registered below on both registries.
        self.incidents_open = Gauge(
            "uptimeguard_incidents_open",
            "Incidents not yet resolved.",
            ("customer", "severity"),
            registry=None,
        )
        self.incidents_opened = Counter(
            "uptimeguard_incidents_opened",
            "Incidents opened.",
            ("customer", "severity", "cause"),
            registry=None,
        )
        self.sla_breaches = Counter(
            "uptimeguard_sla_breaches",
            "SLA targets missed.",
            ("customer", "severity", "target"),
            registry=None,
        )
        self.pages = Counter(
            "uptimeguard_pages",
            "Pages by channel and result.",
            ("channel", "result"),
            registry=None,
        )
        self.nps_responses = Counter(
            "uptimeguard_nps_responses",
            "NPS survey answers, by category (promoter 9-10, passive 7-8, detractor 0-6).",
            ("customer", "category"),
            registry=None,
        )
        self.mail = Counter(
            "uptimeguard_mail",
            "Outbound messages (channel: email, webhook) by result: sent, retried (not taken, "
            "tried again later), failed, skipped (nothing to send it with), interrupted.",
            ("channel", "result"),
            registry=None,
        )
        self.page_ack = Histogram(
            "uptimeguard_page_ack_seconds",
            "From the first page of an incident to its acknowledgement.",
            buckets=ACK_BUCKETS,
            registry=None,
        )
        self.scheduler_lag = Histogram(
            "uptimeguard_scheduler_lag_seconds",
            "How late a probe started after it was due.",
            buckets=LAG_BUCKETS,
            registry=None,
        )
        for channel in CHANNELS:
            for result in PAGE_RESULTS:
                self.pages.labels(channel, result)
        for channel in ("email", "webhook"):
            for result in MAIL_RESULTS:
                self.mail.labels(channel, result)
        self._writer = WriterCollector()
        # The node, the leader, sites owned, locations (`uptimeguard.cluster.metrics`).
        self.cluster = ClusterCollector()
        collectors: list[Collector] = [
            self.incidents_open,
            self.incidents_opened,
            self.sla_breaches,
            self.pages,
            self.nps_responses,
            self.mail,
            self.page_ack,
            self.scheduler_lag,
            self._writer,
            self.cluster,
        ]
        for collector in collectors:
            self.rest.register(collector)
        if process:  # these register themselves; GCCollector insists on a registry
            collectors += [
                ProcessCollector(registry=self.rest),
                PlatformCollector(registry=self.rest),
                GCCollector(registry=self.rest),
            ]
        for collector in collectors:
            self.registry.register(collector)
        self.registry.register(self.sites)

    def exposition(self, accept: str, names: Collection[str] = ()) -> tuple[str, Iterator[bytes]]:
        """The content type for an `Accept` header, and the text in chunks: prometheus_client
        writes the small families, then the per-site ones follow a batch of sites at a time,
        so the caller can send each chunk and let probes run between them. `names` keeps only
        the families with one of those sample names (Prometheus's `name[]`)."""
        encoder, content_type = choose_encoder(accept)
        openmetrics = content_type.startswith("application/openmetrics-text")
        rest = self.rest.restricted_registry(names) if names else self.rest
        return content_type, self._chunks(encoder(rest), openmetrics, names)

    def _chunks(self, head: bytes, openmetrics: bool, names: Collection[str]) -> Iterator[bytes]:
        eof = b"# EOF\n"
        yield head.removesuffix(eof) if openmetrics else head
        for family in self.sites.families(names):
            yield self.sites.header(family, openmetrics).encode()
            yield from self.sites.chunks(family)
        if openmetrics:
            yield eof

    def watch_writer(self, dropped: Callable[[], int], buffered: Callable[[], int]) -> None:
        """Read the result writer's dropped and buffered counts at each scrape."""
        self._writer.dropped, self._writer.buffered = dropped, buffered

    def use_config(self, config: ChecksConfig) -> None:
        """Start at zero every bounded label set the checks file implies; forget removed sites.

        A counter series that first appears at 1 is invisible to `increase()` and `rate()`, so
        without these zeros a dashboard would miss the first incident or breach of a customer.
        Series of sites no longer in the file are removed, so "sites down now" stays true
        after a reload.
        """
        for customer in config.customers:
            plan = config.plans[customer.plan]
            for severity in plan.severities:
                self.incidents_open.labels(customer.id, severity.name)
                self.incidents_opened.labels(customer.id, severity.name, "manual")
                for target in SLA_TARGETS:
                    self.sla_breaches.labels(customer.id, severity.name, target)
            for cause, severity_name in plan.causes.items():
                self.incidents_opened.labels(customer.id, severity_name, cause)
            # Incidents from the phone line and callback requests, under the plan or a cover one.
            for plan_id in {customer.plan, *(cover.plan for cover in customer.cover)}:
                other = config.plans[plan_id]
                self.incidents_opened.labels(customer.id, other.phone_severity, "phone")
                self.incidents_opened.labels(customer.id, other.callback_severity, "callback")
            if customer.status_page is not None and any(c.email for c in customer.contacts):
                for category in NPS_CATEGORIES:
                    self.nps_responses.labels(customer.id, category)
        self.sites.retain({ref.key for ref in config.site_refs()})
